// The pgTAP suites (supabase/tests/database/<function or concept>/<behaviour>.test.sql), run with
// pg_prove in a database of their own: a scratch cluster built from supabase/migrations, never the
// stack's database. There the only rows a suite sees are the ones it makes, so an assertion about the
// whole database ("with nothing pending, a round leases nothing") holds without setting aside what
// the demo, other tests or the stack's sync left pending, and no suite ever locks or waits for the
// running stack. `npm test` runs them this way; alone: `npm run test:db [-- pg_prove options, files or
// folders]`; `npm run test:db -- --hold` keeps such a database up for pg_prove and psql by hand.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { repoRoot } from './config.ts';
import { buildFromMigrations, differences, OWN_SCHEMAS } from './database-definition.ts';
import { step, warn } from './output.ts';
import { applyLocalOnlySql, ensurePgNetStandin, psql, stopPostgresAsync, writeVaultSecrets } from './postgres.ts';
import { type ScratchCluster, withScratchCluster } from './scratch-cluster.ts';

export const pgtapDir = join(repoRoot, 'supabase', 'tests', 'database');

/** The suites under the given files or folders (by default all of them), in a stable order. */
export function pgtapFiles(targets: string[] = [pgtapDir]): string[] {
  return targets.flatMap((target) => {
    const path = resolve(target);
    if (!existsSync(path)) throw new Error(`No such pgTAP suite or folder: ${target}`);
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.sql'))
      .sort()
      .map((f) => join(path, f));
  });
}

/**
 * What the suites' database has beyond the migrations, and nothing more: what the stack's database
 * has besides them, except the demo building. The stand-ins (withScratchCluster loads them before
 * the migrations), the local-only test clock (integration.clock_offset, which the nightly cleanup's
 * suites move), and the two Vault secrets a hosted project's operator sets once (the URL points
 * nowhere: nothing here sends pg_net's requests, the suites read them from net.http_request_queue).
 * pg_cron's jobs stay scheduled and active, as deployed: they run in their own transactions and can
 * see only committed rows, and this database never has any beyond the migrations' own.
 */
export function prepareSuitesDatabase(cluster: ScratchCluster) {
  buildFromMigrations(cluster);
  applyLocalOnlySql(cluster);
  writeVaultSecrets(cluster, {
    project_url: 'http://127.0.0.1:1',
    functions_secret: randomBytes(24).toString('base64url'),
  });
}

/** libpq's variables for the cluster: pg_prove hands --dbname to psql as a plain name, not a URL. */
export function pgEnv(url: string): Record<string, string> {
  const { hostname, port, username, password, pathname } = new URL(url);
  return {
    PGHOST: hostname,
    PGPORT: port,
    PGUSER: decodeURIComponent(username),
    PGPASSWORD: decodeURIComponent(password),
    PGDATABASE: pathname.slice(1),
    PGSSLMODE: 'disable',
  };
}

/** What the suites must not leave in the database: the helpers' schema `tests`, pgTAP itself. */
const leftoversQuery = `select concat_ws(', ',
  (select 'schema tests' from pg_namespace where nspname = 'tests'),
  (select 'extension pgtap' from pg_extension where extname = 'pgtap'))`;

/**
 * How many rows each table holds, in this project's schemas and the stand-ins' (auth, Vault, pg_net):
 * a suite that committed rows would leave them to the suites after it, which must see only their own.
 * Not pg_cron's schema, whose jobs record their runs meanwhile.
 */
const rowCountsQuery = `select format('%s %s', c.oid::regclass,
    (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from %s', c.oid::regclass), false, true, '')))[1])
  from pg_class as c
  where c.relkind in ('r', 'p')
    and c.relnamespace::regnamespace::text = any (array['${[...OWN_SCHEMAS, 'auth', 'vault', 'net'].join("', '")}'])
  order by 1`;

const rowCounts = (cluster: ScratchCluster) => psql({ command: rowCountsQuery }, cluster, ['-At']).trim();

/** After the suites: true (with a warning) when something of them is left in the database. */
function leftovers(cluster: ScratchCluster, countsBefore: string): boolean {
  let left: string;
  let countsAfter: string;
  try {
    left = psql({ command: leftoversQuery }, cluster, ['-At']).trim();
    countsAfter = rowCounts(cluster);
  } catch (error) {
    warn(`Could not check what the pgTAP suites left behind: ${(error as Error).message}`);
    return true;
  }
  const rowsLeft = differences(countsBefore, countsAfter, ['before the suites', 'after them']);
  if (left !== '') warn(`The pgTAP suites left ${left} in the database (each file must roll back).`);
  if (rowsLeft !== '') warn(`The pgTAP suites left rows behind (each file must roll back):\n${rowsLeft}`);
  if (left === '' && rowsLeft === '') {
    step('The pgTAP suites left nothing behind (no schema tests, no extension pgtap, no rows)');
  }
  return left !== '' || rowsLeft !== '';
}

export interface PgtapOutcome {
  passed: number;
  failed: number;
}

/**
 * Runs pg_prove over the suites in a new scratch cluster built from the migrations, then checks that
 * they left nothing behind: no helper, no pgTAP, no row (one more check, counted like a test). `args`: pg_prove's options (those
 * starting with `-`, e.g. `-v`, `--timer`) and the suites' files or folders.
 */
export async function runPgtap(args: string[] = []): Promise<PgtapOutcome> {
  const options = args.filter((a) => a.startsWith('-'));
  const targets = args.filter((a) => !a.startsWith('-'));
  const files = pgtapFiles(targets.length > 0 ? targets : undefined);
  if (files.length === 0) return { passed: 0, failed: 0 };
  ensurePgNetStandin();
  return withScratchCluster('pgtap', async (cluster) => {
    step("Building the pgTAP suites' own database from supabase/migrations (a scratch cluster)");
    prepareSuitesDatabase(cluster);
    const countsBefore = rowCounts(cluster);
    step(`Running the pgTAP suites (pg_prove, ${files.length} files)`);
    const { status, stdout } = await pgProve(
      [...options, ...files.map((f) => relative(repoRoot, f))],
      pgEnv(cluster.url),
    );
    const total = Number(/Tests=(\d+)/.exec(stdout)?.[1] ?? 0);
    const failed = [...stdout.matchAll(/Failed (\d+)\/\d+ subtests/g)].reduce((n, m) => n + Number(m[1]), 0);
    const failedOverall = status !== 0 && failed === 0 ? 1 : failed;
    const leftOver = leftovers(cluster, countsBefore);
    return { passed: total - failed + (leftOver ? 0 : 1), failed: failedOverall + (leftOver ? 1 : 0) };
  });
}

/** pg_prove, its output passed through as it comes (asynchronous, so a long run shows progress). */
function pgProve(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('pg_prove', args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      process.stdout.write(d);
    });
    child.once('error', reject);
    child.once('exit', (code) => resolvePromise({ status: code ?? 1, stdout }));
  });
}

/** `--hold`: builds the suites' database, prints how to reach it, and keeps it until Ctrl+C. */
async function hold() {
  ensurePgNetStandin();
  await withScratchCluster('pgtap', async (cluster) => {
    prepareSuitesDatabase(cluster);
    const env = Object.entries(pgEnv(cluster.url))
      .map(([name, value]) => `${name}=${value}`)
      .join(' ');
    process.stdout.write(
      `The pgTAP suites' database is up until Ctrl+C. In another shell:\n  export ${env}\n  pg_prove -v supabase/tests/database/take_work\n  psql\n`,
    );
    // Listening until the end: npm and tsx pass a Ctrl+C on more than once, and tsx kills a script
    // that is too busy to acknowledge one, so the cluster is stopped without blocking.
    const alive = setInterval(() => {}, 60_000);
    await new Promise<void>((resolveSignal) => {
      process.on('SIGINT', () => resolveSignal());
      process.on('SIGTERM', () => resolveSignal());
    });
    await stopPostgresAsync(cluster);
    clearInterval(alive);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (args.includes('--hold')) await hold();
  else {
    const started = Date.now();
    const { passed, failed } = await runPgtap(args);
    process.stdout.write(
      `pgTAP: ${passed} passed, ${failed} failed (${Math.round((Date.now() - started) / 1000)} s with the database build)\n`,
    );
    process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
  }
}

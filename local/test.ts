// `npm test`: every check and test of the project against the real local stack.
// Brings the stack up if it is not running (and takes it down again afterwards, leaving no stray
// process), then runs: the TypeScript type check, `deno check` of every edge function, Biome (lint and
// formatting), the vitest suites, the pgTAP suites (pg_prove, in a database of their own) and the demo. Ends with one line
// "N passed, N failed" over all test cases.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { paths, readEnvFile, repoRoot } from './config.ts';
import { definitionDifferences, editedMigrations, lintMigrations } from './database-definition.ts';
import { step, warn } from './output.ts';
import { pgNetUpstreamTests } from './pg-net-upstream-tests.ts';
import { runPgtap } from './pgtap.ts';
import { ensureDebianPackages } from './postgres.ts';
import { denoEnv, down, edgeRuntimeDeno, ensureEdgeRuntimeDeno, functionNames, isUp, status, up } from './stack.ts';

interface Outcome {
  name: string;
  passed: number;
  failed: number;
}

function run(command: string, args: string[], env: Record<string, string> = {}): number {
  const result = spawnSync(command, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
  return result.status ?? 1;
}

/**
 * The database's definition: supabase/schemas and supabase/migrations build the same database (each
 * in a scratch cluster); no migration was edited after it was committed; squawk finds nothing in the
 * migrations after the baseline. Three checks, counted like tests.
 */
async function databaseDefinition(): Promise<Outcome> {
  step('Checking the database definition: supabase/schemas against supabase/migrations');
  let failed = 0;
  const differ = await definitionDifferences();
  if (differ) {
    failed++;
    warn(`supabase/schemas and supabase/migrations define different databases (npm run db:diff -- <name>):\n${differ}`);
  }
  const edited = editedMigrations();
  if (edited === null) warn('No git history here: cannot check that committed migrations were left unedited.');
  else if (edited.length > 0) {
    failed++;
    warn(`Migrations edited after they were committed (write a new one instead): ${edited.join(', ')}`);
  }
  const lint = lintMigrations();
  if (lint) {
    failed++;
    warn(`squawk (migration linter):\n${lint}`);
  }
  return { name: 'database definition', passed: 3 - failed, failed };
}

/**
 * tsc over the Node side; `deno check` of every edge function, and of the local edge runtime's worker
 * and its test function, by the Deno of the hosted edge runtime (what compiles on a newer Deno may not
 * compile there).
 */
function typecheck(): Outcome {
  step("Type-checking TypeScript (tsc) and every edge function (deno check, on the edge runtime's Deno)");
  ensureEdgeRuntimeDeno();
  let failed = run(paths.bin('tsc'), ['-p', 'tsconfig.json']) === 0 ? 0 : 1;
  const denoChecks = [
    ...functionNames().map((name) => join(paths.functionsDir, name)),
    join(repoRoot, 'tests', 'local-stack', 'edge-functions', 'limits'),
  ];
  for (const dir of denoChecks) {
    const args = ['check', '--quiet', `--config=${join(dir, 'deno.json')}`, join(dir, 'index.ts')];
    if (run(edgeRuntimeDeno(), args, denoEnv) !== 0) failed++;
  }
  if (
    run(edgeRuntimeDeno(), ['check', '--quiet', '--no-config', join(repoRoot, 'local', 'edge-worker.ts')], denoEnv) !==
    0
  )
    failed++;
  return { name: 'type checks', passed: denoChecks.length + 2 - failed, failed };
}

/** Biome's lint rules and formatting over the whole repository (`npm run lint`; `npm run format` fixes). */
function lint(): Outcome {
  step('Linting and checking the formatting (biome check)');
  const passed = run(paths.bin('biome'), ['check', '.']) === 0;
  return { name: 'biome', passed: passed ? 1 : 0, failed: passed ? 0 : 1 };
}

function vitest(env: Record<string, string>): Outcome {
  step('Running the vitest suites');
  const report = join(paths.stateDir, 'vitest-report.json');
  rmSync(report, { force: true });
  const code = run(
    paths.bin('vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile=${report}`],
    env,
  );
  if (!existsSync(report)) return { name: 'vitest', passed: 0, failed: 1 };
  const json = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number };
  // A suite that fails to load counts as a failure even when no test case failed.
  return {
    name: 'vitest',
    passed: json.numPassedTests,
    failed: json.numFailedTests + (code !== 0 && json.numFailedTests === 0 ? 1 : 0),
  };
}

/**
 * The pgTAP suites: supabase/tests/database/<function or concept>/<behaviour>.test.sql, in a database
 * of their own built from the migrations (local/pgtap.ts), never the stack's. Each file loads the test
 * helpers (supabase/tests/helpers.sql) inside its own transaction and rolls everything back, so
 * afterwards the database holds no helper: one more check, counted like a test, makes sure of that.
 */
async function pgtap(): Promise<Outcome> {
  return { name: 'pgTAP', ...(await runPgtap()) };
}

/** pg_net's own test suite against the local pg_net stand-in, in a scratch cluster of its own. */
async function pgNetUpstream(): Promise<Outcome> {
  step("Running pg_net's own tests against the local pg_net stand-in (pytest)");
  return { name: "pg_net's tests", ...(await pgNetUpstreamTests()) };
}

/** The narrated demo (npm run demo) must pass too: it is what a new user runs first. */
function demo(): Outcome {
  step('Running the demo (npm run demo)');
  const passed = run(paths.bin('tsx'), [join(repoRoot, 'local', 'demo', 'run.ts')]) === 0;
  return { name: 'demo', passed: passed ? 1 : 0, failed: passed ? 0 : 1 };
}

async function main() {
  const startedHere = !isUp(await status());
  const stop = async () => {
    if (startedHere) {
      step('Stopping the local stack the tests started');
      await down();
    }
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    // What the suites need from Debian (PostgreSQL, pgTAP, Chromium), also when the stack already runs.
    ensureDebianPackages();
    if (startedHere) {
      step('The local stack is not running: bringing it up for the tests');
      await up();
    }
    const env = readEnvFile(paths.envFile);
    const outcomes = [
      await databaseDefinition(),
      typecheck(),
      lint(),
      vitest(env),
      await pgtap(),
      await pgNetUpstream(),
      demo(),
    ];
    const passed = outcomes.reduce((n, o) => n + o.passed, 0);
    const failed = outcomes.reduce((n, o) => n + o.failed, 0);
    for (const o of outcomes) step(`${o.name}: ${o.passed} passed, ${o.failed} failed`);
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
    process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

main().catch(async (error: Error) => {
  warn(error.message);
  process.exitCode = 1;
});

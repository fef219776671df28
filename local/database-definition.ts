// The database is defined once, in supabase/schemas/ (declarative, in the order config.toml lists),
// and deployed by the migrations in supabase/migrations/, which are generated from it
// (`npm run db:diff -- <name>`). This module builds a database either way in a scratch cluster and
// takes a snapshot of its definition, so the two can be compared (npm test) and diffed (db:diff).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { paths, repoRoot } from './config.ts';
import { applyMigrations, psql } from './postgres.ts';
import { type ScratchCluster, withScratchCluster } from './scratch-cluster.ts';

/** The schemas this project defines; the stand-ins' schemas (auth, vault, net, cron) are not ours. */
export const OWN_SCHEMAS = ['public', 'private', 'integration'];

/** The schema files in the order `[db.migrations] schema_paths` of supabase/config.toml lists them. */
export function schemaFiles(): string[] {
  const config = readFileSync(join(repoRoot, 'supabase', 'config.toml'), 'utf8');
  const list = /^\s*schema_paths\s*=\s*\[([^\]]*)\]/m.exec(config)?.[1];
  if (!list) throw new Error('supabase/config.toml has no [db.migrations] schema_paths');
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => join(repoRoot, 'supabase', m[1]!));
}

export function buildFromSchemas(cluster: ScratchCluster) {
  for (const file of schemaFiles()) psql({ file }, cluster);
}

export function buildFromMigrations(cluster: ScratchCluster) {
  applyMigrations(cluster);
}

/**
 * Everything a migration can define, as comparable text: pg_dump of this project's schemas (tables,
 * functions with their settings, views, policies, triggers, comments, privileges, default
 * privileges), the extensions with their versions, and pg_cron's jobs.
 */
export function snapshot(cluster: ScratchCluster): string {
  const schemaList = `array['${OWN_SCHEMAS.join("', '")}']`;
  const dump = spawnSync(
    'pg_dump',
    ['--schema-only', '--no-owner', ...OWN_SCHEMAS.flatMap((s) => ['--schema', s]), '-h', cluster.socketDir],
    {
      encoding: 'utf8',
      env: { ...process.env, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres' },
    },
  );
  if (dump.status !== 0) throw new Error(`pg_dump failed:\n${dump.stderr}`);
  const body = dump.stdout
    .split('\n')
    // Privileges are compared from the catalog below: pg_dump words them relative to default
    // privileges, so equal privileges can dump differently.
    .filter(
      (line) =>
        !/^(-- Dumped |SET |SELECT pg_catalog.set_config|\\(un)?restrict |GRANT |REVOKE |-- Name: .*Type: ACL;)/.test(
          line,
        ),
    )
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  const catalog = psql(
    {
      command: `select 'extension ' || extname || ' ' || extnamespace::regnamespace || ' ' || extversion from pg_extension
        union all select 'cron job ' || jobname || ' ' || schedule || ' ' || command from cron.job
        union all select 'privileges ' || p.oid::regprocedure || ' ' || coalesce(array(select unnest(p.proacl)::text order by 1)::text, 'default')
          from pg_proc as p where p.pronamespace::regnamespace::text = any (${schemaList})
        union all select 'privileges ' || c.oid::regclass || ' ' || coalesce(array(select unnest(c.relacl)::text order by 1)::text, 'default')
          from pg_class as c where c.relnamespace::regnamespace::text = any (${schemaList}) and c.relkind in ('r', 'v', 'm', 'S')
        union all select 'privileges ' || a.attrelid::regclass || '.' || a.attname || ' ' || array(select unnest(a.attacl)::text order by 1)::text
          from pg_attribute as a join pg_class as c on c.oid = a.attrelid
          where c.relnamespace::regnamespace::text = any (${schemaList}) and a.attacl is not null
        union all select 'default privileges ' || d.defaclrole::regrole || ' ' || coalesce(d.defaclnamespace::regnamespace::text, 'all')
          || ' ' || d.defaclobjtype::text || ' ' || array(select unnest(d.defaclacl)::text order by 1)::text from pg_default_acl as d
        union all select 'privileges schema ' || n.nspname || ' ' || coalesce(array(select unnest(n.nspacl)::text order by 1)::text, 'default')
          from pg_namespace as n where n.nspname = any (${schemaList})
        order by 1`,
    },
    cluster,
    ['-At'],
  );
  return `${body}\n${catalog}`;
}

/** The lines of `a` and `b` that differ, as a short unified-style listing ('' when equal). */
export function differences(a: string, b: string, labels: [string, string]): string {
  const left = a.split('\n');
  const right = b.split('\n');
  const inRight = new Map<string, number>();
  for (const line of right) inRight.set(line, (inRight.get(line) ?? 0) + 1);
  const inLeft = new Map<string, number>();
  for (const line of left) inLeft.set(line, (inLeft.get(line) ?? 0) + 1);
  const only = (lines: string[], other: Map<string, number>) => {
    const seen = new Map<string, number>();
    return lines.filter((line) => {
      const n = (seen.get(line) ?? 0) + 1;
      seen.set(line, n);
      return n > (other.get(line) ?? 0);
    });
  };
  const removed = only(left, inRight);
  const added = only(right, inLeft);
  if (removed.length === 0 && added.length === 0) {
    // Same lines in another order: objects are defined in another order (columns, for instance).
    return a === b
      ? ''
      : `the same definitions in another order (${labels[0]} vs ${labels[1]}): columns, most likely; add new columns at the end of their table`;
  }
  return [
    ...removed.slice(0, 40).map((line) => `- ${line}   (${labels[0]} only)`),
    ...added.slice(0, 40).map((line) => `+ ${line}   (${labels[1]} only)`),
  ].join('\n');
}

/** The migrations, oldest first. The first is the baseline: the whole database, made for an empty one. */
export function migrationFiles(): string[] {
  return readdirSync(paths.migrationsDir)
    .filter((f) => /^\d{14}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => join(paths.migrationsDir, f));
}

/**
 * Migrations edited after they were committed. A migration may have been applied to a project by
 * then, and `db push` never applies it again: a change must be a new migration. Each migration is
 * compared with its content in the commit that added it (null when the history cannot be read).
 */
export function editedMigrations(): string[] | null {
  const git = (args: string[]) => spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
  if (git(['rev-parse', '--is-inside-work-tree']).status !== 0) return null;
  if (git(['rev-parse', '--is-shallow-repository']).stdout.trim() === 'true') return null;
  const edited: string[] = [];
  for (const file of migrationFiles()) {
    const path = relative(repoRoot, file);
    const added = git(['log', '--diff-filter=A', '--format=%H', '--', path]).stdout.trim().split('\n').at(-1);
    if (!added) continue; // not committed yet: still being written
    const original = git(['show', `${added}:${path}`]);
    if (original.status !== 0 || original.stdout !== readFileSync(file, 'utf8')) edited.push(path);
  }
  return edited;
}

/** squawk's findings on the given migrations, by default every one after the baseline ('' when none). */
export function lintMigrations(files = migrationFiles().slice(1)): string {
  if (files.length === 0) return '';
  const result = spawnSync(paths.bin('squawk'), ['--config', join(repoRoot, '.squawk.toml'), ...files], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return result.status === 0 ? '' : `${result.stdout}${result.stderr}`;
}

/**
 * How the database built from supabase/migrations differs from the one built from supabase/schemas
 * ('' when they are the same), each built in a scratch cluster of its own.
 */
export async function definitionDifferences(): Promise<string> {
  const [fromMigrations, fromSchemas] = await Promise.all([
    withScratchCluster('migrations', async (c) => {
      buildFromMigrations(c);
      return snapshot(c);
    }),
    withScratchCluster('schemas', async (c) => {
      buildFromSchemas(c);
      return snapshot(c);
    }),
  ]);
  return differences(fromMigrations, fromSchemas, ['migrations', 'schemas']);
}

// The database is defined once, in supabase/schemas/ (declarative, in the order config.toml lists),
// and deployed by the migrations in supabase/migrations/, which are generated from it
// (`npm run db:diff -- <name>`). This module builds a database either way in a scratch cluster and
// takes a snapshot of its definition, so the two can be compared (npm test) and diffed (db:diff).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths, repoRoot } from './config.ts';
import { applyMigrations, psql } from './postgres.ts';
import type { ScratchCluster } from './scratch-cluster.ts';

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
    { encoding: 'utf8', env: { ...process.env, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres' } },
  );
  if (dump.status !== 0) throw new Error(`pg_dump failed:\n${dump.stderr}`);
  const body = dump.stdout
    .split('\n')
    // Privileges are compared from the catalog below: pg_dump words them relative to default
    // privileges, so equal privileges can dump differently.
    .filter((line) => !/^(-- Dumped |SET |SELECT pg_catalog.set_config|\\(un)?restrict |GRANT |REVOKE |-- Name: .*Type: ACL;)/.test(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  const catalog = psql(
    {
      command: `select 'extension ' || extname || ' ' || extnamespace::regnamespace || ' ' || extversion from pg_extension
        union all select 'cron job ' || jobname || ' ' || schedule || ' ' || command from cron.job
        union all select 'privileges ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, 'default')
          from pg_proc as p where p.pronamespace::regnamespace::text = any (${schemaList})
        union all select 'privileges ' || c.oid::regclass || ' ' || coalesce(c.relacl::text, 'default')
          from pg_class as c where c.relnamespace::regnamespace::text = any (${schemaList}) and c.relkind in ('r', 'v', 'm', 'S')
        union all select 'privileges ' || a.attrelid::regclass || '.' || a.attname || ' ' || a.attacl::text
          from pg_attribute as a join pg_class as c on c.oid = a.attrelid
          where c.relnamespace::regnamespace::text = any (${schemaList}) and a.attacl is not null
        union all select 'default privileges ' || d.defaclrole::regrole || ' ' || coalesce(d.defaclnamespace::regnamespace::text, 'all')
          || ' ' || d.defaclobjtype || ' ' || d.defaclacl::text from pg_default_acl as d
        union all select 'privileges schema ' || n.nspname || ' ' || coalesce(n.nspacl::text, 'default')
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
    return a === b ? '' : `the same statements in another order (${labels[0]} vs ${labels[1]})`;
  }
  return [
    ...removed.slice(0, 40).map((line) => `- ${line}   (${labels[0]} only)`),
    ...added.slice(0, 40).map((line) => `+ ${line}   (${labels[1]} only)`),
  ].join('\n');
}



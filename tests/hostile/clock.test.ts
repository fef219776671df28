// The clock offset that moves the integration's time for tests and the demo exists on the local stack
// only: a database built from supabase/migrations (what a project is deployed with) or from
// supabase/schemas has no offset table, and its integration.now() is the transaction's time, reading
// no table. The local stack applies its movable clock after the migrations
// (local/standins/after-migrations/clock.sql).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFromMigrations, buildFromSchemas } from '../../local/database-definition.ts';
import { psql } from '../../local/postgres.ts';
import { type ScratchCluster, withScratchCluster } from '../../local/scratch-cluster.ts';
import { connect } from '../support/stack.ts';

const sql = connect(1);
afterAll(() => sql.end());

interface ClockFacts {
  offsetTable: string;
  language: string;
  volatility: string;
  settings: string;
  body: string;
  plan: string;
}

/** What a database says about its clock: the offset table, and integration.now() as defined and as planned. */
function clockFacts(cluster: ScratchCluster): ClockFacts {
  const [offsetTable, language, volatility, settings, body] = psql(
    {
      command: `select coalesce(to_regclass('integration.clock_offset')::text, 'none'), l.lanname, p.provolatile,
          coalesce(p.proconfig::text, 'none'), pg_catalog.btrim(p.prosrc, e' \\n')
        from pg_proc as p join pg_language as l on l.oid = p.prolang
        where p.oid = 'integration.now()'::regprocedure`,
    },
    cluster,
    ['-At', '-F', '\x1f'],
  )
    .trimEnd()
    .split('\x1f');
  const plan = psql({ command: 'explain (verbose, costs off) select integration.now()' }, cluster, ['-At']);
  return {
    offsetTable: offsetTable!,
    language: language!,
    volatility: volatility!,
    settings: settings!,
    body: body!,
    plan,
  };
}

describe('the clock offset cannot exist in a deployed database', { timeout: 120_000 }, () => {
  let fromMigrations: ClockFacts;
  let fromSchemas: ClockFacts;

  beforeAll(async () => {
    [fromMigrations, fromSchemas] = await Promise.all([
      withScratchCluster('clock-migrations', async (cluster) => {
        buildFromMigrations(cluster);
        return clockFacts(cluster);
      }),
      withScratchCluster('clock-schemas', async (cluster) => {
        buildFromSchemas(cluster);
        return clockFacts(cluster);
      }),
    ]);
  }, 120_000);

  it('no schema file mentions a clock offset', () => {
    const dir = join(import.meta.dirname, '..', '..', 'supabase', 'schemas');
    const mentioning = readdirSync(dir).filter((file) => /clock_offset/i.test(readFileSync(join(dir, file), 'utf8')));
    expect(mentioning).toEqual([]);
  });

  for (const [what, facts] of [
    ['supabase/migrations', () => fromMigrations],
    ['supabase/schemas', () => fromSchemas],
  ] as const) {
    it(`a database built from ${what} has no clock offset table`, () => {
      expect(facts().offsetTable).toBe('none');
    });

    it(`a database built from ${what} tells the real time: integration.now() is now(), inlined, reading no table`, () => {
      expect(facts()).toMatchObject({
        language: 'sql',
        volatility: 's',
        settings: 'none',
        body: 'select pg_catalog.now()',
      });
      // Inlined by the planner into now() itself: nothing else is read when the integration asks the time.
      expect(facts().plan).toMatch(/^Result\n\s+Output: now\(\)\s*$/);
    });
  }

  it('the local stack still moves the integration clock for tests', async () => {
    // In a transaction that is rolled back: other tests on the stack never see the shift.
    const shiftSeconds = await sql
      .begin(async (tx) => {
        await tx`
          insert into integration.clock_offset (id, shift) values (true, interval '90 minutes')
          on conflict (id) do update set shift = excluded.shift`;
        const [row] = await tx<{ seconds: number }[]>`
          select extract(epoch from integration.now() - now())::float8 as seconds`;
        throw Object.assign(new Error('roll back'), { seconds: row!.seconds });
      })
      .catch((error: { seconds?: number }) => error.seconds);
    expect(shiftSeconds).toBe(90 * 60);
  });
});

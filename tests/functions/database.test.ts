// How the functions connect to PostgreSQL: at most two connections per instance; the transaction
// pooler (DB_POOLER_URL) when configured, with no prepared statements and no session settings there;
// otherwise the direct connection, with statements prepared once per connection.
import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase, databaseSettings } from '../../supabase/functions/_shared/database.ts';
import { stackEnv } from '../support/stack.ts';

const POOLER = 'postgresql://postgres.ref:secret@aws-0-eu-west-1.pooler.supabase.com:6543/postgres';
const DIRECT = 'postgresql://postgres:secret@db.ref.supabase.co:5432/postgres';

describe('function database connections', () => {
  const sql = connectDatabase(
    { SUPABASE_DB_URL: stackEnv().databaseUrl },
    { functionName: 'database-test', asynchronousCommit: true },
  );
  afterAll(() => sql.end());

  it('uses DB_POOLER_URL when set, SUPABASE_DB_URL otherwise, and two connections either way', () => {
    const pooled = databaseSettings({ SUPABASE_DB_URL: DIRECT, DB_POOLER_URL: POOLER }, { functionName: 'salto-sync' });
    expect(pooled).toMatchObject({ url: POOLER, pooled: true, options: { max: 2, prepare: false } });
    const direct = databaseSettings({ SUPABASE_DB_URL: DIRECT, DB_POOLER_URL: ' ' }, { functionName: 'salto-sync' });
    expect(direct).toMatchObject({ url: DIRECT, pooled: false, options: { max: 2, prepare: true } });
    expect(() => databaseSettings({}, { functionName: 'health' })).toThrow(/SUPABASE_DB_URL/);
  });

  it('takes another count only from the benchmark knob, and only 1 to 8', () => {
    const knob = (value: string) =>
      databaseSettings(
        { SUPABASE_DB_URL: DIRECT, BENCHMARK_CONNECTIONS_PER_INSTANCE: value },
        { functionName: 'salto-cleanup' },
      );
    expect(knob('4').options.max).toBe(4);
    expect(knob(' ').options.max).toBe(2);
    for (const bad of ['0', '9', '2.5', 'many']) expect(() => knob(bad)).toThrow(/BENCHMARK_CONNECTIONS_PER_INSTANCE/);
  });

  it('asks for no session setting through the pooler', () => {
    const pooled = databaseSettings(
      { SUPABASE_DB_URL: DIRECT, DB_POOLER_URL: POOLER },
      { functionName: 'salto-cleanup', asynchronousCommit: true },
    );
    expect(pooled.options.connection).toEqual({ application_name: 'salto-cleanup' });
    const direct = databaseSettings(
      { SUPABASE_DB_URL: DIRECT },
      { functionName: 'salto-cleanup', asynchronousCommit: true },
    );
    expect(direct.options.connection).toEqual({ application_name: 'salto-cleanup', synchronous_commit: 'off' });
  });

  it('prepares a statement once per connection on a direct connection', async () => {
    const probe = 'connection probe';
    for (let i = 0; i < 3; i++) await sql`select ${i}::integer as n, ${probe}::text as probe`;
    const [prepared] = await sql<{ n: number }[]>`
      select count(*)::integer as n from pg_prepared_statements where statement like '%as probe'`;
    expect(prepared!.n).toBe(1);
  });

  it('commits without waiting for the disk when asked (the sync and the cleanup), and names its connections', async () => {
    const [setting] = await sql<{ value: string; name: string }[]>`
      select current_setting('synchronous_commit') as value, current_setting('application_name') as name`;
    expect(setting).toEqual({ value: 'off', name: 'database-test' });
  });

  it('never opens more than two connections, however many queries wait', async () => {
    const name = `database-test-${process.pid}-${Date.now()}`;
    const busy = connectDatabase({ SUPABASE_DB_URL: stackEnv().databaseUrl }, { functionName: name });
    try {
      const counts: number[] = [];
      await Promise.all([
        ...Array.from({ length: 12 }, () => busy`select pg_sleep(0.2)`),
        (async () => {
          for (let i = 0; i < 8; i++) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            const [row] = await sql<{ n: number }[]>`
              select count(*)::int as n from pg_stat_activity where application_name = ${name}`;
            counts.push(row!.n);
          }
        })(),
      ]);
      expect(Math.max(...counts)).toBe(2);
    } finally {
      await busy.end();
    }
  });
});

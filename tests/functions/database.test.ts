// How the functions connect to PostgreSQL: prepared statements on a direct connection (one round trip
// per query), none through Supavisor's transaction pooler.
import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase, throughTransactionPooler } from '../../supabase/functions/_shared/database.ts';
import { stackEnv } from '../support/stack.ts';

describe('function database connections', () => {
  const sql = connectDatabase(stackEnv().databaseUrl, 1, { asynchronousCommit: true });
  afterAll(() => sql.end());

  it('tells the transaction pooler (port 6543) from a direct or session connection', () => {
    expect(
      throughTransactionPooler('postgresql://postgres.ref:secret@aws-0-eu-west-1.pooler.supabase.com:6543/postgres'),
    ).toBe(true);
    expect(
      throughTransactionPooler('postgresql://postgres.ref:secret@aws-0-eu-west-1.pooler.supabase.com:5432/postgres'),
    ).toBe(false);
    expect(throughTransactionPooler('postgresql://postgres:secret@db.ref.supabase.co:5432/postgres')).toBe(false);
  });

  it('prepares a statement once per connection on a direct connection, and never through the pooler', async () => {
    const probe = 'connection probe';
    for (let i = 0; i < 3; i++) await sql`select ${i}::integer as n, ${probe}::text as probe`;
    const [prepared] = await sql<{ n: number }[]>`
      select count(*)::integer as n from pg_prepared_statements where statement like '%as probe'`;
    expect(prepared!.n).toBe(1);
    const pooled = connectDatabase('postgresql://postgres.ref:secret@127.0.0.1:6543/postgres');
    expect(pooled.options.prepare).toBe(false);
    await pooled.end();
  });

  it('commits without waiting for the disk when asked (the sync and the cleanup)', async () => {
    const [setting] = await sql<{ value: string }[]>`select current_setting('synchronous_commit') as value`;
    expect(setting!.value).toBe('off');
  });
});

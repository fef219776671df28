import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { hostedConnectionLimits } from '../../local/postgres.ts';
import { withScratchCluster } from '../../local/scratch-cluster.ts';
import { connect } from '../support/stack.ts';

// The smallest hosted compute allows 60 direct connections, 3 of them kept for superusers (hosted,
// `postgres` is not one). The local stack is started with the same limits, so that a design needing
// more connections than hosted gives fails here first.
describe('connection slots as on the smallest hosted compute', () => {
  const sql = connect(1);
  afterAll(() => sql.end());

  it("the stack's database has 60 connection slots, 3 kept for superusers", async () => {
    const [row] = await sql<{ max: string; reserved: string }[]>`
      select current_setting('max_connections') as max,
             current_setting('superuser_reserved_connections') as reserved`;
    expect(row).toEqual({ max: '60', reserved: '3' });
    expect(hostedConnectionLimits).toEqual({ max_connections: 60, superuser_reserved_connections: 3 });
  });

  // Filling the stack's own slots would fail whatever else runs beside this file, so the refusal is
  // shown on a scratch cluster, started by the same code with the same limits.
  it('refuses a role that is not a superuser its 58th connection, and a superuser its 61st', async () => {
    await withScratchCluster('connection-limit', async (cluster) => {
      const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
      const password = 'connection-limit-test';
      await admin.unsafe(`create role app_user login password '${password}'`);
      const appUrl = new URL(cluster.url);
      appUrl.username = 'app_user';
      appUrl.password = password;
      const held: postgres.Sql[] = [];
      /** Opens connections as `url`'s role until one is refused; returns how many it held and why it stopped. */
      const fill = async (url: string) => {
        for (let i = 0; i < 100; i++) {
          const one = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
          try {
            await one`select 1`;
            held.push(one);
          } catch (error) {
            await one.end({ timeout: 1 });
            return { opened: i, code: (error as { code?: string }).code };
          }
        }
        return { opened: 100, code: undefined };
      };
      try {
        const [{ others }] = (await admin`
          select count(*)::int as others from pg_stat_activity where backend_type = 'client backend'`) as [
          { others: number },
        ];
        const asApp = await fill(appUrl.toString());
        expect(asApp.code).toBe('53300'); // too_many_connections
        expect(asApp.opened + others).toBe(60 - 3);
        const asSuperuser = await fill(cluster.url);
        expect(asSuperuser.code).toBe('53300');
        expect(asSuperuser.opened + asApp.opened + others).toBe(60);
      } finally {
        await Promise.all(held.map((c) => c.end({ timeout: 1 })));
        await admin.end({ timeout: 1 });
      }
    });
  }, 120_000);
});

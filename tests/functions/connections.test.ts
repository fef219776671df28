// Every function instance holds two database connections at most, however busy, and uses the
// transaction pooler's URL (DB_POOLER_URL) when it is set. Connections are told apart by
// application_name: each function names its connections after itself, and the "pooler" URL given to
// a separately started function here names its own.
import { afterAll, describe, expect, it } from 'vitest';
import { paths } from '../../local/config.ts';
import { cleanupNow, existsSince } from '../cleanup/support.ts';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, functionAuthorization, stackEnv, startFunctionWorker } from '../support/stack.ts';

const sql = connect(2);
afterAll(() => sql.end());

const FUNCTIONS = ['health', 'salto-sync', 'salto-cleanup', 'send-alerts'];

async function connectionsByFunction(names: string[]): Promise<Map<string, number>> {
  const rows = await sql<{ name: string; n: number }[]>`
    select application_name as name, count(*)::int as n from pg_stat_activity
    where application_name = any (${names}) group by 1`;
  return new Map(rows.map((r) => [r.name, r.n]));
}

async function post(name: string, body: unknown, { url = stackEnv().functionsUrl, query = '' } = {}) {
  const response = await fetch(`${url}/${name}${query}`, {
    method: 'POST',
    headers: { Authorization: await functionAuthorization(name), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

describe('function database connections', { timeout: 180_000 }, () => {
  it('each function opens at most two connections during a busy run', async () => {
    const buildings: TestBuilding[] = [];
    const peak = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const [name, n] of await connectionsByFunction(FUNCTIONS))
          peak.set(name, Math.max(peak.get(name) ?? 0, n));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    try {
      for (let i = 0; i < 3; i++) {
        const building = await createTestBuilding(sql, {
          apartments: [{ label: '1' }, { label: '2' }, { label: '3' }],
        });
        await building.simulator.setFaults({ latencyMs: 50 });
        await existsSince(sql, building, new Date(Date.now() - 3 * 86_400_000));
        buildings.push(building);
      }
      // Bookings for tomorrow: the sync has access levels to write while the cleanups run.
      const tomorrow = Date.now() + 86_400_000;
      const bookings = buildings.flatMap((b) =>
        Object.values(b.apartments).map((apartment, i) => ({
          facilityId: b.facilities.Gym!.id,
          apartmentId: apartment.id,
          startsAt: new Date(tomorrow + i * 3_600_000),
          endsAt: new Date(tomorrow + (i + 1) * 3_600_000),
        })),
      );
      // Three cleanups, a sync per building, health checks and an alerts pass, all at once.
      await Promise.all([
        ...buildings.map((b) => cleanupNow(sql, [b.id])),
        ...bookings.map((booking) => book(sql, { as: 'service_role' }, booking)),
        post('salto-sync', { reason: 'changed' }, { query: '?wait=true' }),
        ...Array.from({ length: 12 }, () => post('health', {})),
        post('send-alerts', {}, { query: '?wait=true' }),
      ]);
    } finally {
      sampling = false;
      await sampler;
      for (const building of buildings) await building.close();
    }
    for (const name of FUNCTIONS) expect(peak.get(name) ?? 0, name).toBeLessThanOrEqual(2);
    // The busiest were seen at their limit: the count is of the functions' own connections.
    expect(peak.get('health')).toBe(2);
    expect(peak.get('salto-cleanup') ?? 0).toBeGreaterThanOrEqual(1);
  });

  for (const name of ['health', 'salto-cleanup']) {
    it(`${name} connects through DB_POOLER_URL when it is set`, async () => {
      // The "pooler" is the same database under another application_name: what the function's
      // connections say tells which URL it used.
      const pooledName = `pooler-${name}-${process.pid}`;
      const poolerUrl = new URL(stackEnv().databaseUrl);
      poolerUrl.searchParams.set('application_name', pooledName);
      const worker = await startFunctionWorker(name, {
        env: { ...process.env, DB_POOLER_URL: poolerUrl.toString() },
        envFile: paths.functionsEnvFile,
        timeoutMs: 60_000,
      });
      try {
        const { url } = worker;
        const seen = new Map<string, number>();
        await Promise.all([
          ...Array.from({ length: 6 }, () =>
            post(name, name === 'health' ? {} : { building_ids: [crypto.randomUUID()] }, {
              url,
              query: '?wait=true',
            }).then((status) => expect(status).toBe(200)),
          ),
          (async () => {
            for (let i = 0; i < 20; i++) {
              for (const [n, count] of await connectionsByFunction([pooledName]))
                seen.set(n, Math.max(seen.get(n) ?? 0, count));
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          })(),
        ]);
        for (const [n, count] of await connectionsByFunction([pooledName]))
          seen.set(n, Math.max(seen.get(n) ?? 0, count));
        expect(seen.get(pooledName) ?? 0).toBeGreaterThanOrEqual(1);
        expect(seen.get(pooledName) ?? 0).toBeLessThanOrEqual(2);
      } finally {
        worker.stop();
      }
    });
  }
});

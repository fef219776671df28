import { afterAll, describe, expect, it } from 'vitest';
import { syncNow } from '../support/fixtures.ts';
import { connect, eventually, functionWorkers, killFunctionWorkers, stackEnv } from '../support/stack.ts';
import { buildings, burst, closeAll, expectAlertsEmailedOnce, expectSaltoExactlyAsDesired, settle } from './support.ts';

const sql = connect(4);
const { functionsUrl, functionsSecret } = stackEnv();
afterAll(() => sql.end());

describe('the sync function killed mid-batch', { timeout: 115_000 }, () => {
  it('killed ten times while writing a burst: every booking ends in SALTO exactly once', async () => {
    const [building] = await buildings(sql, 1, 40, 2);
    const targets = [building!];
    try {
      // Slow enough that every kill lands in the middle of a batch.
      await building!.simulator.setFaults({ latencyMs: 40 });
      const made = await burst(sql, targets, { doubles: 3 });
      const writes = () =>
        building!.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).filter((r) => r.applied).length;

      for (let kill = 0; kill < 10; kill++) {
        // A pass is running (woken now if the burst's wake-up is spent) in a live worker, and has
        // written something (not the dead worker's last request, still on its way to SALTO).
        void syncNow(functionsUrl, functionsSecret).catch(() => undefined);
        await eventually(
          async () => ((await functionWorkers('salto-sync')).some((w) => w.state === 'serving') ? true : undefined),
          20_000,
          'a worker serving salto-sync',
        );
        const before = writes();
        await eventually(async () => (writes() > before ? true : undefined), 20_000, `a write before kill ${kill + 1}`);
        expect(await killFunctionWorkers('salto-sync')).toBeGreaterThan(0);
        const [lease] =
          await sql`select leased_until > now() as held from integration.building_leases where building_id = ${building!.id}`;
        expect(lease?.held, 'the dead invocation still holds the lease').toBe(true);
        // The dead invocation's lease runs out.
        await sql`update integration.building_leases set leased_until = now() - interval '1 second' where building_id = ${building!.id}`;
      }
      const [left] =
        await sql`select count(*)::int as n from integration.access_level_work where building_id = ${building!.id}`;
      expect(left!.n, 'the kills left work to finish').toBeGreaterThan(0);

      await building!.simulator.clearFaults();
      await settle(sql, targets, made, { timeoutMs: 40_000 });
      await expectSaltoExactlyAsDesired(sql, building!);
      await expectAlertsEmailedOnce(sql, building!, made.doubleBookingIds);
    } finally {
      await closeAll(targets);
    }
  });
});

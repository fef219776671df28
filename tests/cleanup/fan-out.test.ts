// End to end: the database fans the night's cleanups out, one salto-cleanup call per due building
// (integration.dispatch_cleanups), each finished run calling the next; a building whose SALTO server
// cannot be reached fails alone and is retried by the five-minute job (integration.wake_cleanup).
import { afterAll, describe, expect, it } from 'vitest';
import { createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';
import { existsSince, runsOf } from './support.ts';

const sql = connect(2);
const DAY = 86_400_000;

afterAll(() => sql.end());

describe('the night fans out, one call per building', { timeout: 180_000 }, () => {
  it('cleans every due building through calls started by one dispatch, and retries the one that failed', async () => {
    const buildings: TestBuilding[] = [];
    try {
      for (let i = 0; i < 4; i++) buildings.push(await createTestBuilding(sql));
      const [down, ...up] = buildings as [TestBuilding, ...TestBuilding[]];
      // What each cleanup reads is counted from here (saving the buildings' IDs read SALTO already).
      for (const building of buildings) building.simulator.clearRequests();
      await down.simulator.setFaults({ refuseConnections: { transports: ['http', 'stp'] } });
      // Existing since three days: their cleanup of today's local date is due.
      for (const building of buildings) await existsSince(sql, building, new Date(Date.now() - 3 * DAY));

      // One call under way at most for this dispatch: the other buildings are called as runs finish.
      await sql`select integration.dispatch_cleanups(1)`;
      const settled = async (building: TestBuilding) => {
        const runs = await runsOf(sql, building.id);
        return runs.length === 1 && runs[0]!.status !== 'running' ? runs[0] : undefined;
      };
      for (const building of up) {
        const run = await eventually(() => settled(building), 90_000, 'each building cleaned');
        expect(run).toMatchObject({ status: 'completed', attempts: 1 });
        expect(building.simulator.requests({ requestName: 'SaltoDBZoneList.Read' })).toHaveLength(1);
      }
      const failed = await eventually(() => settled(down), 90_000, 'the unreachable building tried');
      expect(failed).toMatchObject({ status: 'unreachable' });
      expect(failed!.errors[0]).toMatchObject({ status: 'unreachable' });

      // Its SALTO server is back: the five-minute job's next call completes the night.
      await down.simulator.clearFaults();
      const retried = await eventually(
        async () => {
          await sql`select integration.wake_cleanup()`;
          const runs = await runsOf(sql, down.id);
          return runs[0]?.status === 'completed' ? runs[0] : undefined;
        },
        90_000,
        'the failed building retried',
      );
      expect(retried.attempts).toBeGreaterThanOrEqual(2);
      expect(retried.errors.length).toBe(retried.attempts - 1);
      for (const building of up) expect(await runsOf(sql, building.id)).toMatchObject([{ attempts: 1 }]);
    } finally {
      for (const building of buildings) await building.close();
    }
  });
});

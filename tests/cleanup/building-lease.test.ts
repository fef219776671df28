// The cleanup records the access levels it wrote in batches while it goes on writing. It must still
// never write a building's SALTO without holding the building's lease: a lease shorter than a few SALTO
// calls is kept renewed, and once another invocation has taken the lease the run stops when its next
// batch of records comes back. Run in this process (runCleanup over the real database and a simulator) so that the
// lease's length can be chosen.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/shared/cleanup/engine.ts';
import { createCleanupStore } from '../../src/shared/cleanup/store.ts';
import { createSaltoClient } from '../../src/shared/salto/index.ts';
import { createSyncStore } from '../../src/shared/sync/store.ts';
import { book, createTestBuilding, setClockShift, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';
import { dueAndDispatched, existsSince, local, setClockTo, untilState } from './support.ts';

const sql = connect(4);
const APARTMENTS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];
const WRITE = 'SaltoDBGroup.Update';

afterAll(async () => {
  await setClockShift(sql, 0);
  await sql.end();
});

/**
 * A building whose ten access levels each hold a future gym booking, written by the sync, then
 * removed by hand in SALTO: the night's cleanup has one write per access level to make.
 */
async function buildingWithRepairs() {
  // The clock at real time while the building is made: a clock left after a midnight (by the test
  // before) would make it due at once, and the stack's own cleanup would clean it before this test
  // leases its run.
  await setClockShift(sql, 0);
  const building = await createTestBuilding(sql, { apartments: APARTMENTS.map((label) => ({ label })) });
  await existsSince(sql, building, local(building, '2027-08-01T09:00:00'));
  await setClockTo(sql, local(building, '2027-08-01T20:00:00'));
  for (const label of APARTMENTS) {
    const apartment = building.apartments[label]!;
    const id = await book(
      sql,
      { as: 'service_role' },
      {
        facilityId: building.facilities.Gym!.id,
        apartmentId: apartment.id,
        startsAt: local(building, '2027-08-05T07:00:00'),
        endsAt: local(building, '2027-08-05T08:00:00'),
      },
    );
    await untilState(sql, id, 'active');
  }
  const gym = building.facilities.Gym!.zoneId;
  for (const level of building.simulator.site.accessLevels.values())
    level.permissions = level.permissions.filter((p) => p.zoneId !== gym);
  building.simulator.clearRequests();
  const dispatched = await dueAndDispatched(sql, building.id, (tx) =>
    setClockTo(tx, local(building, '2027-08-02T00:02:00')),
  );
  return { building, dispatched };
}

function cleanup(
  dispatched: { runId: string; dispatch: string },
  invocationId: string,
  leaseSeconds: number,
  pageSize?: number,
) {
  return runCleanup({
    store: createCleanupStore(sql),
    syncStore: createSyncStore(sql),
    saltoClient: (endpoint, { onCall }) => createSaltoClient(endpoint, { onCall, ...(pageSize ? { pageSize } : {}) }),
    invocationId,
    dispatched,
    leaseSeconds,
    // The whole building in one call: a slow SALTO (1.2 s a call) would spend the call's wall-clock
    // budget (CLEANUP_BUDGET_MS) before its ten access levels, and this is about the lease.
    budgetMs: 120_000,
  });
}

describe("the cleanup writes SALTO only under the building's lease", { timeout: 120_000 }, () => {
  let building: TestBuilding | undefined;
  beforeEach(async () => {
    await building?.close();
    building = undefined;
  });
  afterAll(() => building?.close());

  it('a lease shorter than the listing is kept renewed: another invocation never gets it, and the run completes', async () => {
    const prepared = await buildingWithRepairs();
    building = prepared.building;
    // Each SALTO call takes 1.2 s, the lease lasts 8 s, and SALTO is listed two entities a page: the
    // listing alone (eight calls) outlasts the lease, and written access levels wait up to a second
    // for their batch of records (which renews the lease). Renewed every 2 s (a quarter of it), which
    // leaves 6 s of slack for a renewal on a busy machine.
    await building.simulator.setFaults({ latencyMs: 1200 });
    const thief = createCleanupStore(sql);
    const thiefId = randomUUID();
    const invocationId = randomUUID();
    // When the other invocation got the building, if it did: once the run has released its lease (at
    // its end, before it reports), that is as it should be.
    let stolenAt: number | undefined;
    let done = false;
    const running = cleanup(prepared.dispatched, invocationId, 8, 2).finally(() => (done = true));
    // Another invocation asks for the building every 50 ms once the cleanup holds it.
    const current = building;
    await eventually(
      async () => {
        const [held] =
          await sql`select 1 from integration.building_leases where building_id = ${current.id} and leased_by = ${invocationId}`;
        return held ? true : undefined;
      },
      20_000,
      'the cleanup to hold the lease',
    );
    const stealing = (async () => {
      while (!done) {
        if ((await thief.takeBuildingLease(building!.id, thiefId, 60)) && stolenAt === undefined) stolenAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const summary = await running;
    await stealing;

    const lastWriteAt = Math.max(...building.simulator.requests({ requestName: WRITE }).map((r) => r.atMs));
    expect(
      stolenAt === undefined || stolenAt > lastWriteAt,
      'another invocation got the building while the run wrote SALTO',
    ).toBe(true);
    expect(summary.runs).toHaveLength(1);
    expect(summary.runs[0]).toMatchObject({ status: 'completed', counts: { repaired: APARTMENTS.length } });
    expect(building.simulator.requests({ requestName: WRITE })).toHaveLength(APARTMENTS.length);
  });

  it('once another invocation holds the lease, the run stops when its next records come back', async () => {
    const prepared = await buildingWithRepairs();
    building = prepared.building;
    // Each write takes longer than half the batch wait (600 ms against the engine's 1 s), so that a
    // record's round trip on a busy machine is shorter than a write.
    await building.simulator.setFaults({ latencyMs: 600 });
    const invocationId = randomUUID();
    const running = cleanup(prepared.dispatched, invocationId, 60);

    // After the first write, the lease goes to someone else (as after this invocation stalled).
    const current = building;
    await eventually(
      async () => (current.simulator.requests({ requestName: WRITE }).length > 0 ? true : undefined),
      20_000,
      'a first write',
    );
    await sql`update integration.building_leases set leased_by = ${randomUUID()} where building_id = ${current.id} and leased_by = ${invocationId}`;
    const writesWhenTaken = current.simulator.requests({ requestName: WRITE }).length;

    const summary = await running;
    expect(summary.runs[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('lost its lease') });
    // It learns of the loss when its next batch of records comes back. A batch leaves with the first
    // write added once the oldest waiting has waited a second (the 3rd write here, 1.2 s after the
    // 1st), and the write after it starts before the answer is back: writes 2 to 4 after the lease was
    // taken, one more when the lease was taken while the 2nd was under way.
    const writesAfter = current.simulator.requests({ requestName: WRITE }).length - writesWhenTaken;
    expect(writesAfter).toBeLessThanOrEqual(4);
    expect(current.simulator.requests({ requestName: WRITE }).length).toBeLessThan(APARTMENTS.length);
  });
});

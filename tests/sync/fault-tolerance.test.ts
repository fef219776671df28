import { afterAll, describe, expect, it } from 'vitest';
import { up } from '../../local/stack.ts';
import { createSaltoClient } from '../../src/shared/salto/index.ts';
import { runSync } from '../../src/shared/sync/engine.ts';
import { createSyncStore } from '../../src/shared/sync/store.ts';
import { book, createTestBuilding, syncNow, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, killFunctionWorkers, stackEnv } from '../support/stack.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const sql = connect(6);
const { functionsUrl, functionsSecret } = stackEnv();
afterAll(() => sql.end());

const apartmentLabels = (n: number) => Array.from({ length: n }, (_, i) => ({ label: String(101 + i) }));

/** Books every apartment into every facility, each a few hours from now (as the app would, one by one). */
async function burst(building: TestBuilding) {
  const ids: string[] = [];
  let hour = 2;
  for (const apartment of Object.values(building.apartments)) {
    for (const facility of Object.values(building.facilities)) {
      const startsAt = new Date(Math.ceil(Date.now() / HOUR) * HOUR + hour++ * HOUR);
      ids.push(
        await book(
          sql,
          { as: 'service_role' },
          { facilityId: facility.id, apartmentId: apartment.id, startsAt, endsAt: new Date(startsAt.getTime() + HOUR) },
        ),
      );
    }
  }
  return ids;
}

async function states(bookingIds: string[]) {
  const rows = await sql<
    { state: string }[]
  >`select state from integration.booking_access where booking_id = any (${bookingIds}::uuid[])`;
  return rows.map((r) => r.state);
}

/** Waits until every booking is active, nudging the sync function as the minute job would. */
async function untilAllActive(bookingIds: string[], timeoutMs = 45_000) {
  await eventually(
    async () => {
      const now = await states(bookingIds);
      if (now.length === bookingIds.length && now.every((s) => s === 'active')) return true;
      await syncNow(functionsUrl, functionsSecret);
      await new Promise((r) => setTimeout(r, 300));
      return undefined;
    },
    timeoutMs,
    'every booking active in SALTO',
  );
}

/**
 * What SALTO holds is exactly what the bookings ask for: one permission per apartment and facility,
 * the permanent permissions as seeded, and no access level was written twice with the same list.
 */
function expectSaltoMatchesBookings(building: TestBuilding) {
  const snapshot = building.simulator.snapshot();
  for (const apartment of Object.values(building.apartments)) {
    const level = snapshot.accessLevels.find((l) => l.id === apartment.accessLevelId)!;
    const zones = level.zonePermissions.map((p) => p.zoneId).sort();
    expect(zones).toEqual(
      [...building.permanentZones, ...Object.values(building.facilities).map((f) => f.zoneId)].sort(),
    );
    for (const zone of building.permanentZones) {
      expect(level.zonePermissions.find((p) => p.zoneId === zone)).toMatchObject({ timetableId: 0, usePeriod: false });
    }
  }
  const writes = building.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).filter((r) => r.applied);
  const seen = new Set<string>();
  for (const write of writes) {
    expect(seen.has(write.request), 'the same access level list written twice').toBe(false);
    seen.add(write.request);
  }
}

describe('fault tolerance of the sync pipeline', { timeout: 120_000 }, () => {
  it('SALTO refusing connections during a burst: every booking is written once it is back, none twice', async () => {
    const building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }, { name: 'Pool' }],
      apartments: apartmentLabels(8),
    });
    try {
      await building.simulator.setFaults({ refuseConnections: { transports: ['http', 'stp'] } });
      const bookingIds = await burst(building);
      // The sync has tried (and failed) while SALTO refuses: every access level still queued, once the
      // sync has folded every booking's change (it folds at each wake-up, whatever SALTO does).
      const work = await eventually(
        async () => {
          const [row] = await sql<{ n: number; attempts: number | null }[]>`
          select count(*)::int as n, max(attempts) as attempts from integration.access_level_work where building_id = ${building.id}`;
          const decided = (await states(bookingIds)).length === bookingIds.length;
          return row && (row.attempts ?? 0) > 0 && decided && row.n === 8 ? row : undefined;
        },
        20_000,
        'a failed attempt recorded, every booking decided and every access level queued',
      );
      expect(work.n).toBe(8);
      expect(await states(bookingIds)).toHaveLength(bookingIds.length);
      expect(new Set(await states(bookingIds))).toEqual(new Set(['scheduled']));

      await building.simulator.clearFaults();
      await untilAllActive(bookingIds);
      expectSaltoMatchesBookings(building);
      // Each access level was written exactly once: the outage cost retries, not duplicate writes.
      expect(building.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).filter((r) => r.applied)).toHaveLength(
        8,
      );
    } finally {
      await building.close();
    }
  });

  it('the sync function killed mid-batch: another invocation finishes the work once the lease expires', async () => {
    const building = await createTestBuilding(sql, { facilities: [{ name: 'Gym' }], apartments: apartmentLabels(10) });
    let killed = false;
    try {
      await building.simulator.setFaults({ latencyMs: 250 });
      const bookingIds = await burst(building);
      // Let the woken function write a few access levels, then kill it mid-batch.
      await eventually(
        async () => {
          const writes = building.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).filter((r) => r.applied);
          return writes.length >= 2 ? true : undefined;
        },
        30_000,
        'a few writes before the kill',
      );
      expect(await killFunctionWorkers('salto-sync')).toBeGreaterThan(0);
      killed = true;
      const [lease] =
        await sql`select leased_until > now() as held from integration.building_leases where building_id = ${building.id}`;
      expect(lease?.held).toBe(true);
      // Work was left undone: bookings not active yet, or not even folded (no state row yet: a pass
      // folds the changes committed when it starts, and those after wait for its next round).
      expect((await states(bookingIds)).filter((s) => s === 'active').length).toBeLessThan(bookingIds.length);

      await up(); // the stack makes sure the functions answer again
      killed = false;
      await building.simulator.clearFaults();
      // The dead invocation's lease runs out (time moved forward, not waited for); then another
      // invocation picks the building up.
      await sql`update integration.building_leases set leased_until = now() - interval '1 second' where building_id = ${building.id}`;
      await untilAllActive(bookingIds);
      expectSaltoMatchesBookings(building);
    } finally {
      if (killed) await up(); // a failed assertion must not leave the function dead for the tests after this one
      await building.close();
    }
  });

  it('eight concurrent sync invocations never talk to one SALTO server at the same time', async () => {
    const building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }, { name: 'Pool' }],
      apartments: apartmentLabels(12),
    });
    const store = createSyncStore(sql);
    const [original] = await sql<
      { url: string }[]
    >`select decrypted_secret as url from vault.decrypted_secrets where name = 'project_url'`;
    try {
      await building.simulator.setFaults({ latencyMs: 20 });
      // Wake-ups go nowhere during the burst, so the eight invocations below find all the work.
      await sql`update vault.secrets set secret = 'http://127.0.0.1:9' where name = 'project_url'`;
      const bookingIds = await burst(building);
      await sql`update vault.secrets set secret = ${original!.url} where name = 'project_url'`;
      const reports = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          runSync({
            store,
            saltoClient: (endpoint) => createSaltoClient(endpoint),
            invocationId: crypto.randomUUID(),
            budgetMs: 30_000,
            maxIdleWaitMs: 0,
            leaseSeconds: 30 + i,
          }),
        ),
      );
      await untilAllActive(bookingIds);
      expect(reports.reduce((n, r) => n + r.accessLevels, 0)).toBeGreaterThan(0);
      const requests = building.simulator
        .requests()
        .map((r) => [Date.parse(r.receivedAt), Date.parse(r.at)] as const)
        .sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < requests.length; i++) {
        expect(
          requests[i]![0],
          'a request arrived while another to the same server was in flight',
        ).toBeGreaterThanOrEqual(requests[i - 1]![1]);
      }
      expectSaltoMatchesBookings(building);
    } finally {
      await sql`update vault.secrets set secret = ${original!.url} where name = 'project_url'`;
      await building.close();
    }
  });
});

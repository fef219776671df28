// The cleanup is safe to call twice, at once or one after the other; a building whose SALTO server is
// down is reported and retried later the same night without holding up other buildings; IDs that
// SALTO does not know are marked and alerted once.
import { afterAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, setClockShift, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';
import {
  cleanupNow,
  existsSince,
  local,
  runFor,
  runsOf,
  setClockTo,
  storedPermissions,
  untilState,
} from './support.ts';

const sql = connect(6);

afterAll(async () => {
  await setClockShift(sql, 0);
  await sql.end();
});

/** A Sydney building with one gym booking on the evening of local date `evening`, written, and time moved past it. */
async function buildingWithFinishedBooking(evening: string) {
  const building = await createTestBuilding(sql, { timeZone: 'Australia/Sydney' });
  await existsSince(sql, building, local(building, `${evening}T08:00:00`));
  await setClockTo(sql, local(building, `${evening}T19:00:00`));
  const apt = building.apartments['501/56']!;
  const id = await book(
    sql,
    { as: 'service_role' },
    {
      facilityId: building.facilities.Gym!.id,
      apartmentId: apt.id,
      startsAt: local(building, `${evening}T20:00:00`),
      endsAt: local(building, `${evening}T21:00:00`),
    },
  );
  await untilState(sql, id, 'active');
  return building;
}

const gymOf = (building: TestBuilding) =>
  storedPermissions(building, building.apartments['501/56']!.accessLevelId).find(
    (p) => p.zoneId === building.facilities.Gym!.zoneId,
  );

describe('calling the cleanup twice', { timeout: 60_000 }, () => {
  it('two calls at once: one run, one report, the same SALTO state as one call', async () => {
    const building = await buildingWithFinishedBooking('2027-05-19');
    try {
      await setClockTo(sql, local(building, '2027-05-20T00:03:00'));
      const [a, b] = await Promise.all([cleanupNow(sql, [building.id]), cleanupNow(sql, [building.id])]);
      expect(a.runs.length + b.runs.length).toBeLessThanOrEqual(1);
      const runs = await runsOf(sql, building.id);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: 'completed', attempts: 1, cleared: 1 });
      expect(gymOf(building)).toBeUndefined();
      // One invocation did the work: a single removal.
      const updates = building.simulator.requests().filter((r) => r.requestName === 'SaltoDBGroup.Update');
      expect(updates).toHaveLength(2); // the sync's write of the booking, the cleanup's removal

      const after = building.simulator.snapshot();
      await cleanupNow(sql, [building.id]);
      expect(building.simulator.snapshot()).toEqual(after);
      expect(await runsOf(sql, building.id)).toHaveLength(1);
    } finally {
      await setClockShift(sql, 0);
      await building.close();
    }
  });
});

describe('a SALTO server that cannot be reached', { timeout: 60_000 }, () => {
  it('is reported and retried later the same night, and the other buildings are cleaned meanwhile', async () => {
    const down = await buildingWithFinishedBooking('2027-05-20');
    const up = await buildingWithFinishedBooking('2027-05-20');
    try {
      await down.simulator.setFaults({ refuseConnections: { transports: ['http', 'stp'] } });
      await setClockTo(sql, local(up, '2027-05-21T00:01:00'));
      await cleanupNow(sql, [down.id, up.id]);

      expect(await runFor(sql, up.id, '2027-05-21')).toMatchObject({ status: 'completed', cleared: 1 });
      expect(gymOf(up)).toBeUndefined();
      const failed = await runFor(sql, down.id, '2027-05-21');
      expect(failed).toMatchObject({ status: 'unreachable', attempts: 1 });
      expect(failed!.errors).toEqual([
        expect.objectContaining({
          attempt: 1,
          status: 'unreachable',
          message: expect.stringMatching(/SaltoDBZoneList\.Read/),
        }),
      ]);

      // Five minutes later the server is back: the job's next call finishes the night.
      await down.simulator.clearFaults();
      await setClockTo(sql, local(down, '2027-05-21T00:06:00'));
      await cleanupNow(sql, [down.id, up.id]);
      const retried = await runFor(sql, down.id, '2027-05-21');
      expect(retried).toMatchObject({ status: 'completed', attempts: 2, failed: 0 });
      // The first attempt had already queued the finished booking's access level as work, so the
      // sync's own retry may remove the permission before the cleanup's retry gets there: either way
      // it is gone, and counted at most once.
      expect(retried!.cleared).toBeLessThanOrEqual(1);
      expect(retried!.errors).toHaveLength(1); // the first attempt's, kept in the night's one report
      expect(gymOf(down)).toBeUndefined();
      expect(await runsOf(sql, up.id)).toHaveLength(1);
      expect((await runFor(sql, up.id, '2027-05-21'))!.attempts).toBe(1);
    } finally {
      await setClockShift(sql, 0);
      await down.close();
      await up.close();
    }
  });
});

describe('IDs that SALTO does not know', { timeout: 60_000 }, () => {
  it('are marked for the manager with one alert each, not a new one every night', async () => {
    const building = await createTestBuilding(sql, {
      timeZone: 'Asia/Kathmandu',
      facilities: [{ name: 'Gym' }, { name: 'Spa', zoneInSalto: false }],
      apartments: [{ label: '1' }, { label: '2', inSalto: false }],
    });
    try {
      await existsSince(sql, building, local(building, '2027-06-01T08:00:00'));
      const alerts = () => sql`
        select details ->> 'what' as what from integration.alerts
        where building_id = ${building.id} and kind = 'unknown_salto_id' order by 1`;

      await setClockTo(sql, local(building, '2027-06-02T00:01:00'));
      await cleanupNow(sql, [building.id]);
      expect(await runFor(sql, building.id, '2027-06-02')).toMatchObject({ status: 'completed', unknown_ids: 2 });
      const marked = await sql`
        select kind, salto_id, facility_id, apartment_id from integration.unknown_salto_ids
        where building_id = ${building.id} order by kind`;
      expect(marked).toEqual([
        {
          kind: 'access_level',
          salto_id: building.apartments['2']!.accessLevelId,
          facility_id: null,
          apartment_id: building.apartments['2']!.id,
        },
        {
          kind: 'zone',
          salto_id: building.facilities.Spa!.zoneId,
          facility_id: building.facilities.Spa!.id,
          apartment_id: null,
        },
      ]);
      expect(await alerts()).toEqual([{ what: 'access_level' }, { what: 'zone' }]);

      await setClockTo(sql, local(building, '2027-06-03T00:01:00'));
      await cleanupNow(sql, [building.id]);
      expect(await runFor(sql, building.id, '2027-06-03')).toMatchObject({ status: 'completed', unknown_ids: 2 });
      expect(await alerts()).toHaveLength(2);

      // The manager corrects the Zone ID: the next night's check clears the mark.
      await sql`update public.facilities set access_control_facility_id = ${building.facilities.Gym!.zoneId.replace('GYM', 'MAIN')}
                where id = ${building.facilities.Spa!.id}`;
      await setClockTo(sql, local(building, '2027-06-04T00:01:00'));
      await cleanupNow(sql, [building.id]);
      const left = await sql`select kind from integration.unknown_salto_ids where building_id = ${building.id}`;
      expect(left).toEqual([{ kind: 'access_level' }]);
    } finally {
      await setClockShift(sql, 0);
      await building.close();
    }
  });
});

// End to end: permissions follow every change the connecX app or a manager makes, and problems a
// manager must fix end in a failed state with a reason they can act on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actingAs,
  book,
  createTestBuilding,
  syncNow,
  type TestBuilding,
  untilIdsChecked,
} from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const sql = connect(4);
const { functionsUrl, functionsSecret } = stackEnv();
afterAll(() => sql.end());

async function accessState(bookingId: string) {
  const [row] = await sql<{ state: string; reason: string | null }[]>`
    select state, reason from integration.booking_access where booking_id = ${bookingId}`;
  return row;
}

const untilState = (bookingId: string, state: string) =>
  eventually(
    async () => ((await accessState(bookingId))?.state === state ? true : undefined),
    20_000,
    `booking ${state}`,
  );

function zonePermission(building: TestBuilding, accessLevelId: string, zoneId: string) {
  return building.simulator
    .snapshot()
    .accessLevels.find((l) => l.id === accessLevelId)
    ?.zonePermissions.find((p) => p.zoneId === zoneId);
}

/** Whole minutes, `hours` from now. */
const hoursFromNow = (hours: number) => new Date(Math.ceil(Date.now() / MINUTE) * MINUTE + hours * HOUR);

describe('permissions follow bookings and IDs', { timeout: 60_000 }, () => {
  let building: TestBuilding;

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }, { name: 'Pool' }, { name: 'Sauna', zoneInSalto: false }],
      apartments: [{ label: '1' }, { label: '2' }, { label: '3' }, { label: '4' }, { label: '5', inSalto: false }],
    });
  });

  afterAll(() => building.close());

  it("bookings made by a manager and by the connecX backend are written like a resident's", async () => {
    const gym = building.facilities.Gym!;
    const byManager = await book(
      sql,
      { as: 'manager', userId: building.managerId },
      {
        facilityId: gym.id,
        apartmentId: building.apartments['1']!.id,
        startsAt: hoursFromNow(3),
        endsAt: hoursFromNow(4),
      },
    );
    const byBackend = await book(
      sql,
      { as: 'service_role' },
      {
        facilityId: gym.id,
        apartmentId: building.apartments['2']!.id,
        startsAt: hoursFromNow(3),
        endsAt: hoursFromNow(4),
      },
    );
    await untilState(byManager, 'active');
    await untilState(byBackend, 'active');
    expect(zonePermission(building, building.apartments['1']!.accessLevelId, gym.zoneId)).toBeDefined();
    expect(zonePermission(building, building.apartments['2']!.accessLevelId, gym.zoneId)).toBeDefined();
  });

  it('cancelling a booking removes its permission and keeps the permanent ones', async () => {
    const apt = building.apartments['3']!;
    const pool = building.facilities.Pool!;
    const bookingId = await book(
      sql,
      { as: 'resident', userId: apt.residentId },
      {
        facilityId: pool.id,
        apartmentId: apt.id,
        startsAt: hoursFromNow(5),
        endsAt: hoursFromNow(6),
      },
    );
    await untilState(bookingId, 'active');
    await actingAs(
      sql,
      { as: 'resident', userId: apt.residentId },
      (tx) => tx`update public.bookings set status = 'cancelled' where id = ${bookingId}`,
    );
    await eventually(
      async () => (zonePermission(building, apt.accessLevelId, pool.zoneId) ? undefined : true),
      20_000,
      'permission removed',
    );
    expect((await accessState(bookingId))?.state).toBe('released');
    for (const zone of building.permanentZones) expect(zonePermission(building, apt.accessLevelId, zone)).toBeDefined();
  });

  it('moving a booking rewrites its permission, and deleting it removes the permission', async () => {
    const apt = building.apartments['4']!;
    const gym = building.facilities.Gym!;
    const bookingId = await book(
      sql,
      { as: 'service_role' },
      {
        facilityId: gym.id,
        apartmentId: apt.id,
        startsAt: hoursFromNow(30),
        endsAt: hoursFromNow(31),
      },
    );
    await untilState(bookingId, 'active');
    const before = zonePermission(building, apt.accessLevelId, gym.zoneId)!;

    const moved = new Date(hoursFromNow(30).getTime() + 3 * 24 * HOUR);
    await sql`update public.bookings set starts_at = ${moved}, ends_at = ${new Date(moved.getTime() + HOUR)} where id = ${bookingId}`;
    await eventually(
      async () => {
        const now = zonePermission(building, apt.accessLevelId, gym.zoneId);
        return now && now.period?.startDate !== before.period?.startDate ? true : undefined;
      },
      20_000,
      'the permission rewritten',
    );
    expect(building.simulator.mayOpen(apt.accessLevelId, gym.zoneId, new Date(moved.getTime() + 30 * MINUTE))).toBe(
      true,
    );

    await sql`delete from public.bookings where id = ${bookingId}`;
    await eventually(
      async () => (zonePermission(building, apt.accessLevelId, gym.zoneId) ? undefined : true),
      20_000,
      'permission removed',
    );
  });

  it("changing an apartment's Access Control ID moves its live permission to the new access level", async () => {
    const apt = building.apartments['2']!;
    const gym = building.facilities.Gym!;
    expect(zonePermission(building, apt.accessLevelId, gym.zoneId)).toBeDefined();
    const newLevel = `${apt.accessLevelId}-N`.slice(-32);
    building.simulator.site.accessLevels.set(newLevel, {
      id: newLevel,
      name: 'renumbered',
      description: '',
      permissions: [],
    });

    await actingAs(
      sql,
      { as: 'manager', userId: building.managerId },
      (tx) => tx`update public.apartments set access_control_id = ${newLevel} where id = ${apt.id}`,
    );
    await eventually(
      async () => (zonePermission(building, newLevel, gym.zoneId) ? true : undefined),
      20_000,
      'permission on the new level',
    );
    await eventually(
      async () => (zonePermission(building, apt.accessLevelId, gym.zoneId) ? undefined : true),
      20_000,
      'gone from the old level',
    );
    for (const zone of building.permanentZones) expect(zonePermission(building, apt.accessLevelId, zone)).toBeDefined();
    apt.accessLevelId = newLevel;
  });

  it("changing a facility's Zone ID moves the live permissions to the new zone", async () => {
    const apt = building.apartments['1']!;
    const gym = building.facilities.Gym!;
    const newZone = `${gym.zoneId}-N`.slice(-32);
    building.simulator.site.zones.set(newZone, { id: newZone, name: 'Gym (new)', description: '' });

    await actingAs(
      sql,
      { as: 'manager', userId: building.managerId },
      (tx) => tx`update public.facilities set access_control_facility_id = ${newZone} where id = ${gym.id}`,
    );
    await eventually(
      async () => (zonePermission(building, apt.accessLevelId, newZone) ? true : undefined),
      20_000,
      'permission on the new zone',
    );
    expect(zonePermission(building, apt.accessLevelId, gym.zoneId)).toBeUndefined();
    gym.zoneId = newZone;
  });

  it('a Zone ID SALTO does not know fails those bookings with a reason a manager can act on', async () => {
    const apt = building.apartments['3']!;
    const bookingId = await book(
      sql,
      { as: 'service_role' },
      {
        facilityId: building.facilities.Sauna!.id,
        apartmentId: apt.id,
        startsAt: hoursFromNow(8),
        endsAt: hoursFromNow(9),
      },
    );
    await untilState(bookingId, 'failed');
    expect((await accessState(bookingId))?.reason).toMatch(/no zone with the Zone ID .*Settings > Facilities/);
    const alerts =
      await sql`select kind from integration.alerts where building_id = ${building.id} and kind = 'unknown_salto_id'`;
    expect(alerts.length).toBeGreaterThan(0);
    // The apartment's other permissions are still written.
    for (const zone of building.permanentZones) expect(zonePermission(building, apt.accessLevelId, zone)).toBeDefined();
  });

  it('an Access Control ID SALTO does not know fails those bookings with a reason a manager can act on', async () => {
    const apt = building.apartments['5']!;
    const bookingId = await book(
      sql,
      { as: 'service_role' },
      {
        facilityId: building.facilities.Pool!.id,
        apartmentId: apt.id,
        startsAt: hoursFromNow(8),
        endsAt: hoursFromNow(9),
      },
    );
    await untilState(bookingId, 'failed');
    expect((await accessState(bookingId))?.reason).toMatch(
      /no user access level with the EXT ID .*Building > Apartments/,
    );
  });

  it('a booking at odd seconds is written, its access rounded outward to whole minutes', async () => {
    const apt = building.apartments['4']!;
    const pool = building.facilities.Pool!;
    // As a backend writing `now() + interval`: microseconds and all.
    const [{ id }] = await sql<{ id: string }[]>`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      values (${pool.id}, ${apt.id}, now() + interval '50 hours 17.123456 seconds', now() + interval '51 hours 9.5 seconds')
      returning id`;
    await untilState(id, 'active');
    expect((await accessState(id))?.reason).toMatch(/rounded to whole minutes/);
  });

  it('a pass with nothing to do makes no SALTO call', async () => {
    // The IDs changed by the tests above are checked against SALTO once no sync pass holds the
    // building (a pass lingers a moment after its work, decision 0032): those checks are not the pass.
    await untilIdsChecked(sql, building.id);
    const before = building.simulator.requests().length;
    await syncNow(functionsUrl, functionsSecret);
    expect(building.simulator.requests().length).toBe(before);
  });
});

describe('the door opens exactly in the booking on a DST-change day', { timeout: 60_000 }, () => {
  it.each([
    // Sydney falls back on 2027-04-04 (03:00 AEDT -> 02:00 AEST) and springs forward on 2027-10-03.
    ['Australia/Sydney', '2027-04-04T01:00:00+11:00', '2027-04-04T04:00:00+10:00'],
    ['Australia/Sydney', '2027-10-03T01:00:00+10:00', '2027-10-03T04:00:00+11:00'],
    // Los Angeles springs forward on 2027-03-14 (02:00 PST -> 03:00 PDT).
    ['America/Los_Angeles', '2027-03-14T01:00:00-08:00', '2027-03-14T04:00:00-07:00'],
  ])('in %s from %s to %s', async (timeZone, from, to) => {
    const building = await createTestBuilding(sql, {
      timeZone,
      facilities: [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }],
    });
    try {
      const apt = building.apartments['501/56']!;
      const gym = building.facilities.Gym!;
      const startsAt = new Date(from);
      const endsAt = new Date(to);
      const bookingId = await book(
        sql,
        { as: 'resident', userId: apt.residentId },
        { facilityId: gym.id, apartmentId: apt.id, startsAt, endsAt },
      );
      await untilState(bookingId, 'active');
      const opensFrom = startsAt.getTime() - 10 * MINUTE;
      const opensUntil = endsAt.getTime() + 5 * MINUTE;
      // Every minute from six hours before to six hours after.
      for (let t = opensFrom - 6 * HOUR; t <= opensUntil + 6 * HOUR; t += MINUTE) {
        const expected = t >= opensFrom && t < opensUntil;
        expect(building.simulator.mayOpen(apt.accessLevelId, gym.zoneId, new Date(t)), new Date(t).toISOString()).toBe(
          expected,
        );
      }
    } finally {
      await building.close();
    }
  });
});

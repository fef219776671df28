// End to end: the salto-cleanup function just after a building's local midnight, against the real
// database, the real Deno functions and a SALTO simulator. Time is moved with the integration's clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actingAs, book, createTestBuilding, setClockShift, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';
import {
  accessState,
  awayFromMinuteBoundary,
  cleanupNow,
  existsSince,
  local,
  runFor,
  runsOf,
  setClockTo,
  storedPermissions,
  untilState,
} from './support.ts';

const sql = connect(4);

describe('the nightly cleanup clears, hands over and repairs', { timeout: 120_000 }, () => {
  let building: TestBuilding;
  const night = '2027-02-10'; // the local date whose midnight the cleanup follows
  const evening = '2027-02-09';
  const bookings: Record<string, string> = {};
  let unmanagedZone: string;
  let permanentBefore: Map<string, unknown[]>;
  let apt3PoolAsWritten: unknown;
  let apt3GymAsWritten: unknown;

  const level = (label: string) => building.apartments[label]!.accessLevelId;
  const permissionOf = (label: string, facility: string) =>
    storedPermissions(building, level(label)).find((p) => p.zoneId === building.facilities[facility]!.zoneId);
  /** Every zone permission this project does not manage, per access level, exactly as SALTO stores it. */
  const unmanagedPermissions = () => {
    const managed = new Set(Object.values(building.facilities).map((f) => f.zoneId));
    return new Map(
      building.simulator
        .snapshot()
        .accessLevels.map((l) => [l.id, l.zonePermissions.filter((p) => !managed.has(p.zoneId))]),
    );
  };

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      timeZone: 'Australia/Sydney',
      facilities: [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }, { name: 'Pool' }],
      apartments: [{ label: '1' }, { label: '2' }, { label: '3' }],
    });
    await existsSince(sql, building, local(building, `${evening}T09:00:00`));
    const site = building.simulator.site;
    // Permanent permissions carry server-only fields the project never interprets: they must come back
    // exactly as they were. And a zone SALTO has that no facility maps to, granted to apartment 1 by hand.
    for (const l of site.accessLevels.values()) {
      for (const p of l.permissions) {
        p.extra = [
          { name: 'AntipassbackEnabled', text: '1' },
          { name: 'Notes', children: [{ name: 'Line', text: `kept for ${l.id} & co <ok>` }] },
        ];
      }
    }
    unmanagedZone = `SAUNA-${building.facilities.Gym!.zoneId.split('-')[1]}`;
    site.zones.set(unmanagedZone, { id: unmanagedZone, name: 'Sauna', description: '' });
    site.accessLevels.get(level('1'))!.permissions.push({
      zoneId: unmanagedZone,
      timetableId: 0,
      usePeriod: true,
      startDate: '2027-01-01T00:00:00',
      endDate: '2027-12-31T24:00:00',
      extra: [{ name: 'AddedBy', text: 'the site manager' }],
    });

    // The evening before: bookings made while they are in the future, written by the sync.
    await setClockTo(sql, local(building, `${evening}T20:00:00`));
    const gym = building.facilities.Gym!;
    const pool = building.facilities.Pool!;
    const apt = (label: string) => building.apartments[label]!;
    const make = (name: string, facility: { id: string }, label: string, from: string, to: string) =>
      book(
        sql,
        { as: 'resident', userId: apt(label).residentId },
        {
          facilityId: facility.id,
          apartmentId: apt(label).id,
          startsAt: local(building, from),
          endsAt: local(building, to),
        },
      ).then((id) => (bookings[name] = id));
    // Apartment 1's gym booking finishes tonight; nothing waits after it.
    await make('apt1Gym', gym, '1', `${evening}T20:00:00`, `${evening}T21:00:00`);
    // Apartment 2 booked the gym twice: tomorrow's booking waits for tonight's.
    await make('apt2GymTonight', gym, '2', `${evening}T21:00:00`, `${evening}T22:00:00`);
    await make('apt2GymTomorrow', gym, '2', `${night}T18:00:00`, `${night}T19:00:00`);
    // Apartment 3 has future bookings, which someone will edit by hand in SALTO.
    await make('apt3Pool', pool, '3', '2027-02-11T10:00:00', '2027-02-11T11:00:00');
    await make('apt3Gym', gym, '3', '2027-02-12T07:00:00', '2027-02-12T08:00:00');
    for (const name of ['apt1Gym', 'apt2GymTonight', 'apt3Pool', 'apt3Gym'])
      await untilState(sql, bookings[name]!, 'active');
    expect((await accessState(sql, bookings.apt2GymTomorrow!))?.state).toBe('waiting');

    // By hand in SALTO: apartment 3's pool permission moved a month on, its gym permission deleted.
    apt3PoolAsWritten = structuredClone(permissionOf('3', 'Pool'));
    apt3GymAsWritten = structuredClone(permissionOf('3', 'Gym'));
    const apt3 = site.accessLevels.get(level('3'))!;
    const poolPermission = apt3.permissions.find((p) => p.zoneId === pool.zoneId)!;
    poolPermission.startDate = '2027-03-11T00:00:00';
    poolPermission.endDate = '2027-03-11T24:00:00';
    apt3.permissions = apt3.permissions.filter((p) => p.zoneId !== gym.zoneId);

    permanentBefore = unmanagedPermissions();
    building.simulator.clearRequests();
    // Just after local midnight; the minute job is kept out of the way so the hand-over is the cleanup's.
    await awayFromMinuteBoundary();
    await setClockTo(sql, local(building, `${night}T00:02:00`));
    await cleanupNow(sql, [building.id]);
  });

  afterAll(async () => {
    await setClockShift(sql, 0);
    await building?.close();
    await sql.end();
  });

  it('runs once for the new local date and reports what it did', async () => {
    const runs = await runsOf(sql, building.id);
    expect(runs.map((r) => [r.local_date, r.status])).toEqual([[night, 'completed']]);
    const run = runs[0]!;
    expect(run).toMatchObject({ cleared: 1, handed_over: 1, repaired: 2, synced: 0, failed: 0, errors: [] });
    expect(run.details.cleared).toEqual([
      expect.objectContaining({ access_level_id: level('1'), zone_id: building.facilities.Gym!.zoneId }),
    ]);
    expect(run.details.handed_over).toEqual([
      expect.objectContaining({
        access_level_id: level('2'),
        zone_id: building.facilities.Gym!.zoneId,
        booking_ids: [bookings.apt2GymTomorrow],
      }),
    ]);
    expect(run.details.repaired).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          access_level_id: level('3'),
          zone_id: building.facilities.Pool!.zoneId,
          found_in_salto: expect.objectContaining({
            period: { startDate: '2027-03-11T00:00:00', endDate: '2027-03-11T24:00:00' },
          }),
        }),
        expect.objectContaining({
          access_level_id: level('3'),
          zone_id: building.facilities.Gym!.zoneId,
          found_in_salto: null,
        }),
      ]),
    );
    const started = run.started_at.getTime() - local(building, `${night}T00:00:00`).getTime();
    expect(started).toBeGreaterThanOrEqual(0);
    expect(started).toBeLessThan(15 * 60_000);
  });

  it('no finished booking keeps a permission in SALTO, and the waiting booking has it', async () => {
    expect(permissionOf('1', 'Gym')).toBeUndefined();
    expect(permissionOf('2', 'Gym')?.period).toEqual({ startDate: `${night}T00:00:00`, endDate: `${night}T24:00:00` });
    const mayOpen = (wall: string) =>
      building.simulator.mayOpen(level('2'), building.facilities.Gym!.zoneId, local(building, wall));
    expect(mayOpen(`${night}T17:50:00`)).toBe(true);
    expect(
      building.simulator.mayOpen(level('1'), building.facilities.Gym!.zoneId, local(building, `${evening}T20:30:00`)),
    ).toBe(false);
    expect(mayOpen(`${night}T19:04:00`)).toBe(true);
    expect(mayOpen(`${night}T17:49:00`)).toBe(false);
    expect(mayOpen(`${night}T19:05:00`)).toBe(false);
    expect((await accessState(sql, bookings.apt1Gym!))?.state).toBe('released');
    expect((await accessState(sql, bookings.apt2GymTonight!))?.state).toBe('released');
    expect((await accessState(sql, bookings.apt2GymTomorrow!))?.state).toBe('active');
  });

  it('permissions removed or changed by hand are restored as the bookings say', async () => {
    expect(permissionOf('3', 'Pool')).toEqual(apt3PoolAsWritten);
    expect(permissionOf('3', 'Gym')).toEqual(apt3GymAsWritten);
  });

  it('permanent permissions and a zone permission added by hand for an unmanaged zone are byte-for-byte unchanged', async () => {
    const after = unmanagedPermissions();
    expect(after).toEqual(permanentBefore);
    expect(after.get(level('1'))!.map((p) => p.zoneId)).toContain(unmanagedZone);
    // What the cleanup sent carries them exactly as SALTO listed them.
    for (const update of building.simulator.requests().filter((r) => r.requestName === 'SaltoDBGroup.Update')) {
      expect(update.request).toContain('<AntipassbackEnabled>1</AntipassbackEnabled>');
      expect(update.request).toContain('&amp; co &lt;ok&gt;');
    }
  });

  it('reads SALTO once and writes only the access levels that differ', async () => {
    const names = building.simulator.requests().map((r) => r.requestName);
    expect(names.filter((n) => n === 'SaltoDBZoneList.Read')).toHaveLength(1);
    expect(names.filter((n) => n === 'SaltoDBGroupList.Read')).toHaveLength(1);
    const updated = building.simulator.requests().filter((r) => r.requestName === 'SaltoDBGroup.Update');
    expect(updated).toHaveLength(3); // apartments 1, 2 and 3; nothing else differed
    const affected = 3;
    // The site's calendars are read once a run: the list, and each calendar's years the bookings touch.
    const calendarReads = names.filter((n) => n === 'SaltoDBCalendarList.Read' || n === 'SaltoDBYearCalendar.Read');
    expect(names.filter((n) => n === 'SaltoDBCalendarList.Read')).toHaveLength(1);
    expect(calendarReads.length).toBeLessThanOrEqual(3);
    expect(names.length - calendarReads.length).toBeLessThanOrEqual(2 * affected);
    expect((await runFor(sql, building.id, night))!.salto_calls).toBe(names.length);
  });

  it('timetable slots no permission uses any more are recycled', async () => {
    const run = await runFor(sql, building.id, night);
    // Tonight's two timetables are no longer used: one may have been overwritten for tomorrow's hours
    // while reconciling, the other (at least) is freed at the end.
    expect(run!.slots_recycled).toBeGreaterThanOrEqual(1);
    const unused = await sql`
      select ts.timetable_id from integration.timetable_slots as ts
      where ts.building_id = ${building.id}
        and not exists (select from integration.written_permissions as wp where wp.building_id = ts.building_id and wp.timetable_id = ts.timetable_id)`;
    expect(unused).toHaveLength(0);
  });

  it('running it again the same night changes nothing and keeps one report', async () => {
    const before = building.simulator.snapshot();
    building.simulator.clearRequests();
    const answer = await cleanupNow(sql, [building.id]);
    expect(answer.runs).toEqual([]);
    expect(building.simulator.snapshot()).toEqual(before);
    expect(building.simulator.requests()).toHaveLength(0);
    expect(await runsOf(sql, building.id)).toHaveLength(1);
  });

  it("the building's manager reads the report; another building's manager does not", async () => {
    const mine = await actingAs(
      sql,
      { as: 'manager', userId: building.managerId },
      (tx) =>
        tx`select local_date::text, status, cleared, handed_over, repaired from public.cleanup_reports where building_id = ${building.id}`,
    );
    expect(mine).toEqual([{ local_date: night, status: 'completed', cleared: 1, handed_over: 1, repaired: 2 }]);
    const stranger = await actingAs(
      sql,
      { as: 'manager', userId: building.apartments['1']!.residentId },
      (tx) => tx`select 1 from public.cleanup_reports where building_id = ${building.id}`,
    );
    expect(stranger).toHaveLength(0);
  });
});

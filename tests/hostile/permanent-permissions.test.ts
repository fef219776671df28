// Permissions this product did not write are never changed. A zone SALTO holds permanently for an
// access level (the main entrance every apartment holds; a gym a staff access level holds) keeps its
// permission byte for byte (zone, timetable, period and every server-only field) whatever a manager
// or a resident does: a facility naming that zone, a booking of it, an Access Control ID or Zone ID
// pointed at it and back, a facility deleted, buffers changed, a booking cancelled, the nightly
// cleanup. The booking that would need such a zone fails with a reason, the facility is flagged
// (public.shared_facility_zones) with an alert, and the nightly cleanup reports it instead of
// "repairing" it.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SimPermission } from '../../src/simulator/state.ts';
import { cleanupNow } from '../cleanup/support.ts';
import { type Actor, actingAs, book, createTestBuilding, syncNow, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';

const sql = connect(4);
const { functionsUrl, functionsSecret } = stackEnv();
afterAll(() => sql.end());

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Whole hours of the day after tomorrow (UTC), well inside any booking policy. */
const at = (hour: number) => new Date(Math.ceil(Date.now() / DAY) * DAY + DAY + hour * HOUR);

let building: TestBuilding | undefined;
afterEach(async () => {
  await building?.close();
  building = undefined;
});

/**
 * A building with three apartments and a gym; every apartment holds the main entrance and the lifts
 * permanently, each permission carrying server-only fields this product never interprets.
 */
async function newBuilding(): Promise<TestBuilding> {
  const b = await createTestBuilding(sql, {
    facilities: [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }],
    apartments: [{ label: '1' }, { label: '2' }, { label: '3' }],
  });
  for (const level of b.simulator.site.accessLevels.values()) {
    for (const permission of level.permissions) permission.extra = serverOnlyFields(level.id);
  }
  building = b;
  return b;
}

function serverOnlyFields(owner: string): SimPermission['extra'] {
  return [
    { name: 'AntipassbackEnabled', text: '1' },
    { name: 'Notes', children: [{ name: 'Line', text: `granted to ${owner} by the site manager & co <ok>` }] },
  ];
}

/** A permission granted by hand in SALTO, without a period, as a site manager would. */
function permanent(zoneId: string, owner: string): SimPermission {
  return { zoneId, timetableId: 0, usePeriod: false, extra: serverOnlyFields(owner) };
}

const tagOf = (b: TestBuilding) => b.permanentZones[0]!.split('-')[1]!;
const mainEntrance = (b: TestBuilding) => b.permanentZones[0]!;
const manager = (b: TestBuilding): Actor => ({ as: 'manager', userId: b.managerId });
const resident = (b: TestBuilding, label: string): Actor => ({
  as: 'resident',
  userId: b.apartments[label]!.residentId,
});

/** Every permission of every access level on these zones, exactly as SALTO stores it. */
function permissionsOn(b: TestBuilding, zones: readonly string[]) {
  return new Map(
    [...b.simulator.site.accessLevels.values()].map((level) => [
      level.id,
      structuredClone(level.permissions.filter((p) => zones.includes(p.zoneId))),
    ]),
  );
}

function permissionOf(b: TestBuilding, accessLevelId: string, zoneId: string) {
  return b.simulator.site.accessLevels.get(accessLevelId)?.permissions.find((p) => p.zoneId === zoneId);
}

async function addFacility(b: TestBuilding, name: string, zoneId: string): Promise<string> {
  return actingAs(sql, manager(b), async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      insert into public.facilities (building_id, name, access_control_facility_id)
      values (${b.id}, ${name}, ${zoneId}) returning id`;
    return row!.id;
  });
}

function bookHour(b: TestBuilding, facilityId: string, label: string, hour = 9) {
  return book(sql, resident(b, label), {
    facilityId,
    apartmentId: b.apartments[label]!.id,
    startsAt: at(hour),
    endsAt: at(hour + 1),
  });
}

/** Waits until the building's booking changes are folded and its access level work is done. */
async function settle(b: TestBuilding) {
  await eventually(
    async () => {
      const [row] = await sql<{ n: number }[]>`
        select (select count(*)::int from integration.access_level_work where building_id = ${b.id})
          + (select count(*)::int from integration.booking_changes where building_id = ${b.id}) as n`;
      if (row!.n === 0) return true;
      await syncNow(functionsUrl, functionsSecret).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 150));
      return undefined;
    },
    30_000,
    "the building's work to be done",
  ).catch(async (error: Error) => {
    const work = await sql`
      select access_level_id, attempts, not_before, last_error from integration.access_level_work
      where building_id = ${b.id}`;
    throw new Error(`${error.message}: ${JSON.stringify(work)}`);
  });
}

async function accessOf(bookingId: string) {
  const [row] = await sql<{ state: string; reason: string | null; access_level_id: string | null }[]>`
    select state, reason, access_level_id from integration.booking_access where booking_id = ${bookingId}`;
  return row;
}

/** The booking's access once decided (active, failed or released). */
async function decided(b: TestBuilding, bookingId: string) {
  await settle(b);
  return eventually(
    async () => {
      const access = await accessOf(bookingId);
      return access && ['active', 'failed', 'released'].includes(access.state) ? access : undefined;
    },
    20_000,
    'the booking to be decided',
  );
}

function expectHeldReason(reason: string | null | undefined, zoneId: string) {
  expect(reason).toMatch(new RegExp(`^Zone "${zoneId}" is held permanently by \\d+ access levels?`));
  expect(reason).toContain('a bookable facility needs a zone of its own');
  expect(reason).toContain('Give the facility its own zone in SALTO and set its Access Control Facility ID');
}

async function flagged(b: TestBuilding) {
  return actingAs(
    sql,
    manager(b),
    (tx) => tx<{ facility_id: string; zone_id: string; access_levels: number; access_level_ids: string[] }[]>`
      select facility_id, zone_id, access_levels, access_level_ids from public.shared_facility_zones
      where building_id = ${b.id} order by facility_id`,
  );
}

/** Runs the nightly cleanup for the building now (it counts as existing since before today) and returns its report. */
async function nightlyCleanup(b: TestBuilding) {
  await sql`update public.buildings set created_at = now() - interval '3 days' where id = ${b.id}`;
  await cleanupNow(sql, [b.id]);
  const [run] = await sql<
    { status: string; repaired: number; cleared: number; details: Record<string, Record<string, unknown>[]> }[]
  >`
    select status, repaired, cleared, details from integration.cleanup_runs
    where building_id = ${b.id} order by local_date desc limit 1`;
  return run!;
}

describe('permanent permissions survive every path', { timeout: 120_000 }, () => {
  it('a booking of a facility whose Zone ID is the main entrance fails with a reason, and the main entrance stays as it was', async () => {
    const b = await newBuilding();
    const before = permissionsOn(b, b.permanentZones);
    const lobby = await addFacility(b, 'Lobby', mainEntrance(b));

    const id = await bookHour(b, lobby, '1');
    const access = await decided(b, id);

    expect(access.state).toBe('failed');
    expectHeldReason(access.reason, mainEntrance(b));
    expect(permissionsOn(b, b.permanentZones)).toEqual(before);
    expect(await flagged(b)).toEqual([
      expect.objectContaining({
        facility_id: lobby,
        zone_id: mainEntrance(b),
        access_level_ids: [b.apartments['1']!.accessLevelId],
      }),
    ]);
    const [alert] = await sql<{ kind: string; details: Record<string, unknown> }[]>`
      select kind, details from integration.alerts where building_id = ${b.id} and booking_id = ${id}`;
    expect(alert).toMatchObject({
      kind: 'access_not_in_place',
      details: { reason: 'zone_held_permanently', zone_id: mainEntrance(b), facility_id: lobby },
    });
  });

  it('a booking of the gym leaves the main entrance alone while another facility names it', async () => {
    const b = await newBuilding();
    const before = permissionsOn(b, b.permanentZones);
    await addFacility(b, 'Lobby', mainEntrance(b));

    const id = await bookHour(b, b.facilities.Gym!.id, '1');

    expect((await decided(b, id)).state).toBe('active');
    expect(permissionOf(b, b.apartments['1']!.accessLevelId, b.facilities.Gym!.zoneId)).toBeDefined();
    expect(permissionsOn(b, b.permanentZones)).toEqual(before);
  });

  it('the nightly cleanup reports a facility whose Zone ID every apartment holds permanently, and removes nothing', async () => {
    const b = await newBuilding();
    const before = permissionsOn(b, b.permanentZones);
    const lobby = await addFacility(b, 'Lobby', mainEntrance(b));
    await settle(b);

    const run = await nightlyCleanup(b);

    expect(run).toMatchObject({ status: 'completed', repaired: 0, cleared: 0 });
    expect(permissionsOn(b, b.permanentZones)).toEqual(before);
    const levels = Object.values(b.apartments)
      .map((a) => a.accessLevelId)
      .sort();
    expect(run.details.permanent).toEqual([
      expect.objectContaining({ zone_id: mainEntrance(b), facility_ids: [lobby], access_levels: 3 }),
    ]);
    expect(await flagged(b)).toEqual([
      expect.objectContaining({ facility_id: lobby, access_levels: 3, access_level_ids: levels }),
    ]);
  });

  it("a booking of the gym by an apartment whose access level holds the gym permanently fails, and cancelling it leaves the gym's permission as it was", async () => {
    const b = await newBuilding();
    const gym = b.facilities.Gym!;
    const level = b.apartments['1']!.accessLevelId;
    b.simulator.site.accessLevels.get(level)!.permissions.push(permanent(gym.zoneId, level));
    const before = permissionsOn(b, [...b.permanentZones, gym.zoneId]);

    const id = await bookHour(b, gym.id, '1');
    const access = await decided(b, id);
    expect(access.state).toBe('failed');
    expectHeldReason(access.reason, gym.zoneId);
    expect(permissionsOn(b, [...b.permanentZones, gym.zoneId])).toEqual(before);

    await actingAs(sql, resident(b, '1'), (tx) => tx`update public.bookings set status = 'cancelled' where id = ${id}`);
    expect((await decided(b, id)).state).toBe('released');
    expect(permissionsOn(b, [...b.permanentZones, gym.zoneId])).toEqual(before);
  });

  it("pointing an apartment's Access Control ID at a shared access level and back leaves that access level as it was", async () => {
    const b = await newBuilding();
    const gym = b.facilities.Gym!;
    const staff = `STAFF-${tagOf(b)}`;
    b.simulator.site.accessLevels.set(staff, {
      id: staff,
      name: 'Staff',
      description: '',
      permissions: [...b.permanentZones, gym.zoneId].map((zone) => permanent(zone, staff)),
    });
    const apartment = b.apartments['1']!;
    const id = await bookHour(b, gym.id, '1');
    expect((await decided(b, id)).state).toBe('active');
    const before = permissionsOn(b, [...b.permanentZones, gym.zoneId]);
    const setAccessControlId = (value: string) =>
      actingAs(
        sql,
        manager(b),
        (tx) => tx`update public.apartments set access_control_id = ${value} where id = ${apartment.id}`,
      );

    await setAccessControlId(staff);
    const moved = await decided(b, id);
    expect(moved.state).toBe('failed');
    expectHeldReason(moved.reason, gym.zoneId);
    expect(b.simulator.site.accessLevels.get(staff)!.permissions).toEqual(before.get(staff));
    expect(permissionOf(b, apartment.accessLevelId, gym.zoneId), 'our permission left the old access level').toBe(
      undefined,
    );

    await setAccessControlId(apartment.accessLevelId);
    await settle(b);
    expect((await decided(b, id)).state).toBe('active');
    expect(b.simulator.site.accessLevels.get(staff)!.permissions).toEqual(before.get(staff));
    for (const [level, permissions] of permissionsOn(b, b.permanentZones)) {
      expect(permissions).toEqual(before.get(level)!.filter((p) => b.permanentZones.includes(p.zoneId)));
    }
  });

  it("changing the gym's Zone ID to the main entrance and back leaves the main entrance as it was", async () => {
    const b = await newBuilding();
    const gym = b.facilities.Gym!;
    const before = permissionsOn(b, b.permanentZones);
    const id = await bookHour(b, gym.id, '1');
    expect((await decided(b, id)).state).toBe('active');
    const setZoneId = (value: string) =>
      actingAs(
        sql,
        manager(b),
        (tx) => tx`update public.facilities set access_control_facility_id = ${value} where id = ${gym.id}`,
      );

    await setZoneId(mainEntrance(b));
    const moved = await decided(b, id);
    expect(moved.state).toBe('failed');
    expectHeldReason(moved.reason, mainEntrance(b));
    expect(permissionsOn(b, b.permanentZones)).toEqual(before);
    expect(permissionOf(b, b.apartments['1']!.accessLevelId, gym.zoneId), 'our permission left the old zone').toBe(
      undefined,
    );

    await setZoneId(gym.zoneId);
    await settle(b);
    expect((await decided(b, id)).state).toBe('active');
    expect(permissionsOn(b, b.permanentZones)).toEqual(before);
    expect(await flagged(b)).toEqual([]);
  });

  it('deleting a facility whose Zone ID is the main entrance leaves the main entrance as it was, and clears its flag', async () => {
    const b = await newBuilding();
    const before = permissionsOn(b, b.permanentZones);
    const lobby = await addFacility(b, 'Lobby', mainEntrance(b));
    const lobbyBooking = await bookHour(b, lobby, '1');
    const gymBooking = await bookHour(b, b.facilities.Gym!.id, '2');
    expect((await decided(b, lobbyBooking)).state).toBe('failed');
    expect((await decided(b, gymBooking)).state).toBe('active');
    expect(await flagged(b)).toHaveLength(1);

    await actingAs(sql, manager(b), async (tx) => {
      await tx`delete from public.bookings where id = ${lobbyBooking}`;
      await tx`delete from public.facilities where id = ${lobby}`;
    });
    await settle(b);
    const run = await nightlyCleanup(b);

    expect(run).toMatchObject({ status: 'completed', repaired: 0 });
    expect(run.details.permanent ?? []).toEqual([]);
    expect(permissionsOn(b, b.permanentZones)).toEqual(before);
    expect(await flagged(b)).toEqual([]);
  });

  it("changing the gym's buffers rewrites the permissions this product wrote and none held permanently", async () => {
    const b = await newBuilding();
    const gym = b.facilities.Gym!;
    const holder = b.apartments['1']!.accessLevelId;
    b.simulator.site.accessLevels.get(holder)!.permissions.push(permanent(gym.zoneId, holder));
    const before = permissionsOn(b, [...b.permanentZones, gym.zoneId]);
    const held = await bookHour(b, gym.id, '1');
    const written = await bookHour(b, gym.id, '2');
    expect((await decided(b, held)).state).toBe('failed');
    expect((await decided(b, written)).state).toBe('active');
    const twoHoursEarly = new Date(at(9).getTime() - 2 * HOUR);
    expect(b.simulator.mayOpen(b.apartments['2']!.accessLevelId, gym.zoneId, twoHoursEarly)).toBe(false);

    await actingAs(
      sql,
      manager(b),
      (tx) =>
        tx`update public.facilities set access_buffer_before = interval '3 hours', access_buffer_after = interval '3 hours' where id = ${gym.id}`,
    );
    await settle(b);

    expect((await decided(b, held)).state).toBe('failed');
    expect((await decided(b, written)).state).toBe('active');
    expect(
      b.simulator.mayOpen(b.apartments['2']!.accessLevelId, gym.zoneId, twoHoursEarly),
      'the permission written follows the buffers',
    ).toBe(true);
    expect(permissionsOn(b, [...b.permanentZones, gym.zoneId]).get(holder)).toEqual(before.get(holder));
    expect(permissionsOn(b, b.permanentZones)).toEqual(
      new Map([...before].map(([level, ps]) => [level, ps.filter((p) => b.permanentZones.includes(p.zoneId))])),
    );
  });

  it("a permission added by hand on the gym's zone after a booking ended is kept and reported by the nightly cleanup, and the next booking fails with a reason", async () => {
    const b = await newBuilding();
    const gym = b.facilities.Gym!;
    const level = b.apartments['1']!.accessLevelId;
    const first = await bookHour(b, gym.id, '1');
    expect((await decided(b, first)).state).toBe('active');
    await actingAs(
      sql,
      resident(b, '1'),
      (tx) => tx`update public.bookings set status = 'cancelled' where id = ${first}`,
    );
    expect((await decided(b, first)).state).toBe('released');
    expect(permissionOf(b, level, gym.zoneId)).toBeUndefined();

    // By hand in SALTO, later: the apartment is given the gym for good.
    b.simulator.site.accessLevels.get(level)!.permissions.push(permanent(gym.zoneId, level));
    const before = permissionsOn(b, [...b.permanentZones, gym.zoneId]);
    const run = await nightlyCleanup(b);

    expect(run).toMatchObject({ status: 'completed', repaired: 0 });
    expect(run.details.permanent).toEqual([
      expect.objectContaining({ zone_id: gym.zoneId, facility_ids: [gym.id], access_level_ids: [level] }),
    ]);
    expect(permissionsOn(b, [...b.permanentZones, gym.zoneId])).toEqual(before);

    const next = await bookHour(b, gym.id, '1', 11);
    const access = await decided(b, next);
    expect(access.state).toBe('failed');
    expectHeldReason(access.reason, gym.zoneId);
    expect(permissionsOn(b, [...b.permanentZones, gym.zoneId])).toEqual(before);
  });
});

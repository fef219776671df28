// End to end: real database, the real salto-sync function on Deno (woken by pg_net after commit), and a
// SALTO simulator. Nothing of our own code is mocked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, setClockShift, syncNow, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';

const MINUTE = 60_000;
const sql = connect(4);
const { functionsUrl, functionsSecret } = stackEnv();

function permissionIn(building: TestBuilding, apartment: string, facility: string) {
  const level = building.simulator
    .snapshot()
    .accessLevels.find((l) => l.id === building.apartments[apartment]!.accessLevelId);
  return level?.zonePermissions.find((p) => p.zoneId === building.facilities[facility]!.zoneId);
}

async function accessState(bookingId: string) {
  const [row] = await sql<{ state: string; reason: string | null; write_at: Date | null }[]>`
    select state, reason, write_at from integration.booking_access where booking_id = ${bookingId}`;
  return row;
}

/** A local wall time in the building's zone as an instant (no DST ambiguity at the times used here). */
function at(building: TestBuilding, local: string): Date {
  const probe = new Date(`${local}Z`);
  const offsetMs = (d: Date) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: building.timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(d);
    const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - d.getTime();
  };
  return new Date(probe.getTime() - offsetMs(new Date(probe.getTime() - offsetMs(probe))));
}

describe('a booking grants SALTO access', { timeout: 60_000 }, () => {
  let building: TestBuilding;

  beforeAll(async () => {
    await setClockShift(sql, 0);
    building = await createTestBuilding(sql, {
      timeZone: 'Australia/Sydney',
      facilities: [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }],
      apartments: [{ label: '501/56' }, { label: '502/56' }],
    });
  });

  afterAll(async () => {
    await setClockShift(sql, 0);
    await building.close();
    await sql.end();
  });

  it('a resident books the gym and their cards open it exactly during the booking plus buffers', async () => {
    const apt = building.apartments['501/56']!;
    const gym = building.facilities.Gym!;
    // Tomorrow-ish, on whole minutes, 18:00-19:00 building time.
    const day = new Date(Date.now() + 2 * 24 * 3600_000).toISOString().slice(0, 10);
    const startsAt = at(building, `${day}T18:00:00`);
    const endsAt = at(building, `${day}T19:00:00`);
    const bookingId = await book(
      sql,
      { as: 'resident', userId: apt.residentId },
      { facilityId: gym.id, apartmentId: apt.id, startsAt, endsAt },
    );

    const permission = await eventually(
      async () => permissionIn(building, '501/56', 'Gym'),
      20_000,
      'the permission in SALTO',
    );
    expect(permission.period).toEqual({ startDate: `${day}T00:00:00`, endDate: `${day}T24:00:00` });

    const level = apt.accessLevelId;
    const mayOpen = (instant: Date) => building.simulator.mayOpen(level, gym.zoneId, instant);
    expect(mayOpen(new Date(startsAt.getTime() - 10 * MINUTE - 1000))).toBe(false);
    expect(mayOpen(new Date(startsAt.getTime() - 10 * MINUTE))).toBe(true);
    expect(mayOpen(startsAt)).toBe(true);
    expect(mayOpen(new Date(endsAt.getTime() + 5 * MINUTE - 1000))).toBe(true);
    expect(mayOpen(new Date(endsAt.getTime() + 5 * MINUTE))).toBe(false);
    expect(mayOpen(new Date(startsAt.getTime() - 24 * 3600_000))).toBe(false);
    expect(mayOpen(new Date(startsAt.getTime() + 7 * 24 * 3600_000))).toBe(false);

    // Permanent permissions survive.
    const stored = building.simulator.snapshot().accessLevels.find((l) => l.id === level)!;
    for (const zone of building.permanentZones) {
      expect(stored.zonePermissions.find((p) => p.zoneId === zone)).toMatchObject({ timetableId: 0, usePeriod: false });
    }
    await eventually(
      async () => ((await accessState(bookingId))?.state === 'active' ? true : undefined),
      10_000,
      'state active',
    );
  });

  it("today's and next week's booking of the gym: the second waits with an alert, then is written when the first ends", async () => {
    const apt = building.apartments['502/56']!;
    const gym = building.facilities.Gym!;
    const resident = { as: 'resident' as const, userId: apt.residentId };
    const soon = new Date(Math.ceil(Date.now() / MINUTE) * MINUTE + 60 * MINUTE);
    const first = await book(sql, resident, {
      facilityId: gym.id,
      apartmentId: apt.id,
      startsAt: soon,
      endsAt: new Date(soon.getTime() + 60 * MINUTE),
    });
    const nextWeek = new Date(soon.getTime() + 7 * 24 * 3600_000);
    const second = await book(sql, resident, {
      facilityId: gym.id,
      apartmentId: apt.id,
      startsAt: nextWeek,
      endsAt: new Date(nextWeek.getTime() + 60 * MINUTE),
    });

    // The sync, woken by the booking, decides the states and raises the alert.
    const waiting = await eventually(
      async () => {
        const state = await accessState(second);
        return state?.state === 'waiting' ? state : undefined;
      },
      10_000,
      'the second booking waiting',
    );
    expect(waiting?.state).toBe('waiting');
    // Written when the first booking's window (plus the 5-minute after-buffer) ends.
    expect(waiting?.write_at?.getTime()).toBe(soon.getTime() + 65 * MINUTE);
    const alerts = await sql`select kind, details, resolved_at from integration.alerts where booking_id = ${second}`;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.kind).toBe('double_booking');
    expect(alerts[0]!.resolved_at).toBeNull();

    await eventually(
      async () => ((await accessState(first))?.state === 'active' ? true : undefined),
      20_000,
      'the first booking active',
    );
    const firstPermission = permissionIn(building, '502/56', 'Gym')!;

    // Time moves past the first booking; the minute job hands the permission on with no human action.
    await setClockShift(sql, 130);
    await sql`select integration.tick()`;
    await syncNow(functionsUrl, functionsSecret);
    await eventually(
      async () => ((await accessState(second))?.state === 'active' ? true : undefined),
      20_000,
      'the second booking active',
    );
    const secondPermission = permissionIn(building, '502/56', 'Gym')!;
    expect(secondPermission.period).not.toEqual(firstPermission.period);
    expect(building.simulator.mayOpen(apt.accessLevelId, gym.zoneId, new Date(nextWeek.getTime() + 30 * MINUTE))).toBe(
      true,
    );
    expect((await accessState(first))?.state).toBe('released');
    // The double booking is over, and says so, in the transaction that recorded the write.
    const [resolved] = await sql<{ resolved_at: Date | null; resolution: string | null }[]>`
      select resolved_at, resolution from integration.alerts where booking_id = ${second} and kind = 'double_booking'`;
    expect(resolved?.resolved_at).not.toBeNull();
    expect(resolved?.resolution).toBe("The permission is free: the waiting booking's permission is written to SALTO.");
    await setClockShift(sql, 0);
  });
});

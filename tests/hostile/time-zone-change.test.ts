// A manager corrects the building's time zone. Every period and timetable in SALTO was computed in the
// old zone; within seconds each is rewritten in the new one, and each booking's state says what SALTO
// now holds: active, with the period and timetable of the new zone, never "active" for a permission
// still in the old zone (issue "Access safety", finding 6).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodAndTimetable } from '../../src/shared/access/index.ts';
import { local } from '../cleanup/support.ts';
import { actingAs, book, createTestBuilding, setClockShift, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';

const sql = connect(4);
let building: TestBuilding;

beforeAll(async () => {
  await setClockShift(sql, 0);
  building = await createTestBuilding(sql, {
    timeZone: 'Australia/Sydney',
    facilities: [{ name: 'Gym' }, { name: 'Pool' }],
    apartments: [{ label: '101' }, { label: '102' }],
  });
});
afterAll(async () => {
  await building.close();
  await sql.end();
});

interface AccessRow {
  state: string;
  period_start: string | null;
  period_end: string | null;
  timetable_id: number | null;
}

async function accessOf(bookingId: string) {
  const [row] = await sql<AccessRow[]>`
    select state, period_start::text, period_end::text, timetable_id
    from integration.booking_access where booking_id = ${bookingId}`;
  return row;
}

/** What SALTO holds for the apartment's zone: the period's dates and the timetable's hours. */
function heldInSalto(apartment: string, facility: string) {
  const snapshot = building.simulator.snapshot();
  const permission = snapshot.accessLevels
    .find((l) => l.id === building.apartments[apartment]!.accessLevelId)
    ?.zonePermissions.find((p) => p.zoneId === building.facilities[facility]!.zoneId);
  if (!permission?.period) return undefined;
  const timetable = snapshot.timetables.find((t) => t.id === permission.timetableId);
  return {
    period: { start: permission.period.startDate.slice(0, 10), end: permission.period.endDate.slice(0, 10) },
    hours: (timetable?.intervals ?? []).map((i) => `${i.start.slice(0, 5)}-${i.end.slice(0, 5)}`).sort(),
  };
}

/** The period and hours the booking's window gives in `timeZone`, as heldInSalto shows them. */
function expected(startsAt: Date, endsAt: Date, timeZone: string) {
  const { period, timetable } = periodAndTimetable({ start: startsAt, end: endsAt }, timeZone);
  if (timetable.kind === 'always') throw new Error('an hour-long booking needs a timetable of its own');
  const intervals = timetable.intervals.map((i) => `${i.start.slice(0, 5)}-${i.end.slice(0, 5)}`);
  return { period: { start: period.startDate, end: period.endDate }, hours: [...new Set(intervals)].sort() };
}

describe('changing the time zone rewrites SALTO in the new zone', { timeout: 60_000 }, () => {
  it("a booking active in SALTO is rewritten within seconds, and its state is active with the new zone's period and timetable", async () => {
    // Tomorrow-ish, 10:00 to 11:00 in Sydney: 15:00 to 16:00 the day before in Los Angeles.
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const startsAt = local(building, `${day}T10:00:00`);
    const endsAt = local(building, `${day}T11:00:00`);
    const gym = await book(
      sql,
      { as: 'resident', userId: building.apartments['101']!.residentId },
      { facilityId: building.facilities.Gym!.id, apartmentId: building.apartments['101']!.id, startsAt, endsAt },
    );
    // A second apartment and facility, to show the whole building moves at once.
    const pool = await book(
      sql,
      { as: 'resident', userId: building.apartments['102']!.residentId },
      { facilityId: building.facilities.Pool!.id, apartmentId: building.apartments['102']!.id, startsAt, endsAt },
    );
    const sydney = expected(startsAt, endsAt, 'Australia/Sydney');
    await eventually(
      async () =>
        (await accessOf(gym))?.state === 'active' && (await accessOf(pool))?.state === 'active' ? true : undefined,
      20_000,
      'both bookings active',
    );
    expect(heldInSalto('101', 'Gym')).toEqual(sydney);
    expect(sydney.hours).toEqual(['10:00-11:00']);

    const changedAt = Date.now();
    await actingAs(
      sql,
      { as: 'manager', userId: building.managerId },
      (tx) => tx`update public.buildings set timezone = 'America/Los_Angeles' where id = ${building.id}`,
    );
    const losAngeles = expected(startsAt, endsAt, 'America/Los_Angeles');
    expect(losAngeles.hours).toEqual(['15:00-16:00']);
    expect(losAngeles.period.start).not.toBe(sydney.period.start);

    for (const [apartment, facility, bookingId] of [
      ['101', 'Gym', gym],
      ['102', 'Pool', pool],
    ] as const) {
      await eventually(
        async () => {
          const held = heldInSalto(apartment, facility);
          return held && JSON.stringify(held) === JSON.stringify(losAngeles) ? true : undefined;
        },
        10_000,
        `SALTO rewritten in the new zone for apartment ${apartment}`,
      );
      const state = await eventually(
        async () => {
          const row = await accessOf(bookingId);
          return row?.state === 'active' && row.period_start === losAngeles.period.start ? row : undefined;
        },
        10_000,
        'the state active with the new period',
      );
      const held = heldInSalto(apartment, facility)!;
      expect(state).toMatchObject({ state: 'active', period_start: held.period.start, period_end: held.period.end });
      const snapshot = building.simulator.snapshot();
      const permission = snapshot.accessLevels
        .find((l) => l.id === building.apartments[apartment]!.accessLevelId)!
        .zonePermissions.find((p) => p.zoneId === building.facilities[facility]!.zoneId)!;
      expect(state.timetable_id).toBe(permission.timetableId);
    }
    expect(Date.now() - changedAt).toBeLessThan(15_000);
  });

  it("between the change and the rewrite, no booking says active for SALTO's old zone", async () => {
    const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const startsAt = local(building, `${day}T09:00:00`);
    const endsAt = local(building, `${day}T10:00:00`);
    const bookingId = await book(
      sql,
      { as: 'manager', userId: building.managerId },
      { facilityId: building.facilities.Pool!.id, apartmentId: building.apartments['101']!.id, startsAt, endsAt },
    );
    await eventually(
      async () => ((await accessOf(bookingId))?.state === 'active' ? true : undefined),
      20_000,
      'active',
    );
    // In the manager's own transaction, right after the change: scheduled again, not active.
    const during = await actingAs(sql, { as: 'manager', userId: building.managerId }, async (tx) => {
      await tx`update public.buildings set timezone = 'Europe/London' where id = ${building.id}`;
      const [row] = await tx<{ state: string }[]>`
        select state from public.booking_access_states where booking_id = ${bookingId}`;
      return row!.state;
    });
    expect(during).toBe('scheduled');
    const london = expected(startsAt, endsAt, 'Europe/London');
    await eventually(
      async () => {
        const row = await accessOf(bookingId);
        return row?.state === 'active' && row.period_start === london.period.start ? true : undefined;
      },
      10_000,
      'active again in the new zone',
    );
    expect(heldInSalto('101', 'Pool')).toEqual(london);
  });
});

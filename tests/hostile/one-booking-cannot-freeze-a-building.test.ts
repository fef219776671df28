// One booking whose window SALTO cannot express (ending at 'infinity', in year 9999 so that the
// building's local date is 10000-01-01, in year 294276, at the last minute a timestamp holds so that
// its buffer overflows, or shorter than a millisecond) fails alone: its state says why and what to do,
// managers are alerted, and every other booking of the building, of the same apartment too, is still
// written and revoked within seconds; the nightly cleanup completes.
//
// The bookings are stored past every check the database may have for such values (data stored before
// a check existed, or a check missed): this is about what the sync does with them, not about refusing them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupNow, existsSince, runsOf, storedPermissions, untilState } from '../cleanup/support.ts';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';
import { insertUnchecked, restoreBookingChecks } from './unchecked-bookings.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const sql = connect(4);

let building: TestBuilding;
// Bookings of 2098 (18:00 in Sydney on): still to come however far other tests move the integration's
// clock, and within the years the database accepts.
const evening = Date.UTC(2098, 5, 1, 8);
const hours = (n: number) => new Date(evening + n * HOUR);
const poison: Record<string, string> = {};
const bookings: Record<string, string> = {};

const apt = (label: string) => building.apartments[label]!;
const zonePermission = (label: string, facility: string) =>
  storedPermissions(building, apt(label).accessLevelId).find((p) => p.zoneId === building.facilities[facility]!.zoneId);

async function accessOf(bookingId: string) {
  const [row] = await sql<{ state: string; reason: string | null }[]>`
    select state, reason from integration.booking_access where booking_id = ${bookingId}`;
  return row;
}

beforeAll(async () => {
  building = await createTestBuilding(sql, {
    timeZone: 'Australia/Sydney',
    facilities: [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }, { name: 'Pool' }],
    apartments: ['101', '102', '103', '104', '105', '106', '107'].map((label) => ({ label })),
  });
  const gym = building.facilities.Gym!.id;
  const pool = building.facilities.Pool!.id;

  // Before: apartment 103's gym booking is in SALTO.
  bookings.toCancel = await book(
    sql,
    { as: 'service_role' },
    { facilityId: gym, apartmentId: apt('103').id, startsAt: hours(0), endsAt: hours(1) },
  );
  await untilState(sql, bookings.toCancel, 'active');

  // Then the poison, in five apartments.
  const start = hours(2).toISOString();
  [poison.infinity, poison.year9999, poison.year294276, poison.microsecond, poison.lastMinute] = await insertUnchecked(
    sql,
    [
      { facilityId: gym, apartmentId: apt('101').id, startsAt: start, endsAt: 'infinity' },
      // 01:00 on 10000-01-01 in Sydney.
      { facilityId: gym, apartmentId: apt('104').id, startsAt: start, endsAt: '9999-12-31T14:00:00Z' },
      { facilityId: gym, apartmentId: apt('105').id, startsAt: start, endsAt: '294276-06-01T00:00:00Z' },
      // The Pool has no buffers: a window of one microsecond, nothing once in milliseconds.
      { facilityId: pool, apartmentId: apt('106').id, startsAt: start, endsAt: `${start.slice(0, -1)}001Z` },
      // The last minute a timestamp holds: with the gym's after-buffer, past it.
      { facilityId: gym, apartmentId: apt('107').id, startsAt: start, endsAt: '294276-12-31T23:59:00Z' },
    ],
  );
});

afterAll(async () => {
  await building?.close();
  await restoreBookingChecks(sql);
  await sql.end();
});

describe('a booking SALTO cannot express fails alone', { timeout: 90_000 }, () => {
  it("another apartment's booking is written to SALTO within seconds, and a cancelled one is revoked", async () => {
    const startedAt = Date.now();
    bookings.other = await book(
      sql,
      { as: 'service_role' },
      { facilityId: building.facilities.Gym!.id, apartmentId: apt('102').id, startsAt: hours(3), endsAt: hours(4) },
    );
    await sql`update public.bookings set status = 'cancelled' where id = ${bookings.toCancel}`;
    await eventually(async () => zonePermission('102', 'Gym'), 15_000, "apartment 102's gym permission in SALTO");
    await eventually(
      async () => (zonePermission('103', 'Gym') === undefined ? true : undefined),
      15_000,
      "apartment 103's cancelled gym permission removed from SALTO",
    );
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    await untilState(sql, bookings.other, 'active');
    expect((await accessOf(bookings.toCancel))?.state).toBe('released');
  });

  it("the same apartment's other booking is written too", async () => {
    bookings.sameApartment = await book(
      sql,
      { as: 'service_role' },
      { facilityId: building.facilities.Pool!.id, apartmentId: apt('101').id, startsAt: hours(5), endsAt: hours(6) },
    );
    await untilState(sql, bookings.sameApartment, 'active');
    expect(zonePermission('101', 'Pool')).toBeDefined();
    expect(zonePermission('101', 'Gym')).toBeUndefined();
  });

  it('each poison booking is failed, with a reason a manager can act on, and an alert', async () => {
    for (const [name, id] of Object.entries(poison)) {
      const access = await eventually(
        async () => {
          const row = await accessOf(id);
          return row?.state === 'failed' ? row : undefined;
        },
        15_000,
        `the ${name} booking failed`,
      );
      expect(access.reason, name).toMatch(
        /^This booking's window cannot be written to SALTO: .+\. Correct or cancel the booking\.$/,
      );
      const alerts = await sql`select kind from integration.alerts where booking_id = ${id}`;
      expect(
        alerts.map((a) => a.kind),
        name,
      ).toContain('access_not_in_place');
    }
    expect((await accessOf(poison.year9999!))?.reason).toMatch(/10000-01-01/);
    // Nothing was written for them, and their access levels' work is done (nothing left to retry).
    for (const label of ['104', '105', '106', '107']) {
      expect(zonePermission(label, label === '106' ? 'Pool' : 'Gym')).toBeUndefined();
    }
    const [work] =
      await sql`select count(*)::int as n from integration.access_level_work where building_id = ${building.id}`;
    expect(work!.n).toBe(0);
  });

  it('the nightly cleanup completes for the building and lists the poison bookings as failed', async () => {
    await existsSince(sql, building, new Date(Date.now() - 3 * DAY));
    await cleanupNow(sql, [building.id]);
    const runs = await runsOf(sql, building.id);
    expect(runs.at(-1)).toMatchObject({ status: 'completed' });
    const failedBookings = runs.at(-1)!.details.failed!.flatMap((f) => (f.booking_ids as string[] | undefined) ?? []);
    for (const id of Object.values(poison)) expect(failedBookings).toContain(id);
    // The others are still in SALTO.
    expect(zonePermission('102', 'Gym')).toBeDefined();
    expect(zonePermission('101', 'Pool')).toBeDefined();
  });
});

// A booking SALTO cannot hold never gets into the database: ending at 'infinity', in year 9999 (local
// date 10000-01-01 in Sydney, which SALTO's yyyy-MM-ddTHH:mm:ss cannot carry), in year 294276, or
// of zero length. Whoever writes it (a resident, a manager, the connecX backend) is told why in a
// sentence; the check constraint refuses it even with the triggers off. Stored, such a booking froze
// every sync pass of its building (issue "Access safety", findings 1 and 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, actingAs, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const sql = connect(2);
let building: TestBuilding;

beforeAll(async () => {
  building = await createTestBuilding(sql, {
    timeZone: 'Australia/Sydney',
    facilities: [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }],
    apartments: [{ label: '101' }],
  });
});
afterAll(async () => {
  await building.close();
  await sql.end();
});

const actors = (): [string, Actor][] => [
  ['a resident', { as: 'resident', userId: building.apartments['101']!.residentId }],
  ['a manager', { as: 'manager', userId: building.managerId }],
  ['the connecX backend', { as: 'service_role' }],
];

/** Inserts one booking from timestamptz text as `actor`; the refusal's code and message, or undefined. */
async function tryBooking(actor: Actor, startsAt: string, endsAt: string) {
  const error = await actingAs(
    sql,
    actor,
    (tx) => tx`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      values (${building.facilities.Gym!.id}, ${building.apartments['101']!.id},
        ${startsAt}::text::timestamptz, ${endsAt}::text::timestamptz)`,
  ).then(
    () => undefined,
    (e: { code?: string; message?: string }) => e,
  );
  return error && { code: error.code, message: error.message };
}

const tomorrow = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 86_400_000).toISOString();

describe('bookings SALTO cannot hold are refused with a reason', () => {
  it('a booking that ends at infinity is refused for residents, managers and the backend alike', async () => {
    for (const [who, actor] of actors()) {
      expect(await tryBooking(actor, tomorrow, 'infinity'), who).toEqual({
        code: '23514',
        message: 'A booking must start and end at a real time, not at infinity.',
      });
      expect(await tryBooking(actor, '-infinity', tomorrow), who).toEqual({
        code: '23514',
        message: 'A booking must start and end at a real time, not at infinity.',
      });
    }
  });

  it('a booking in year 9999, on 10000-01-01 in Sydney, is refused', async () => {
    for (const [who, actor] of actors()) {
      expect(await tryBooking(actor, '9999-12-31T13:00:00Z', '9999-12-31T14:00:00Z'), who).toEqual({
        code: '23514',
        message: 'A booking must end before 2100-01-01 00:00 UTC.',
      });
    }
  });

  it('a booking in year 294276 is refused', async () => {
    for (const [who, actor] of actors()) {
      expect(await tryBooking(actor, tomorrow, '294276-06-01T00:00:00Z'), who).toEqual({
        code: '23514',
        message: 'A booking must end before 2100-01-01 00:00 UTC.',
      });
      expect(await tryBooking(actor, '294276-06-01T00:00:00Z', '294276-06-01T01:00:00Z'), who).toEqual({
        code: '23514',
        message: 'A booking must end before 2100-01-01 00:00 UTC.',
      });
    }
  });

  it('a booking before the year 2000 is refused', async () => {
    expect(await tryBooking({ as: 'service_role' }, '1999-12-31T23:00:00Z', '2000-01-01T01:00:00Z')).toEqual({
      code: '23514',
      message: 'A booking cannot start before 2000-01-01 00:00 UTC.',
    });
  });

  it('a booking of zero length is refused', async () => {
    for (const [who, actor] of actors()) {
      expect(await tryBooking(actor, tomorrow, tomorrow), who).toEqual({
        code: '23514',
        message: 'A booking must end after it starts.',
      });
    }
  });

  it('nothing of the refused bookings was stored', async () => {
    const [row] = await sql`select count(*)::int as bookings from public.bookings where building_id = ${building.id}`;
    expect(row!.bookings).toBe(0);
  });

  it('the last years SALTO can hold are still bookable by the backend', async () => {
    expect(await tryBooking({ as: 'service_role' }, '2099-12-31T12:00:00Z', '2099-12-31T13:00:00Z')).toBeUndefined();
    expect(await tryBooking({ as: 'service_role' }, '2000-01-01T00:00:00Z', '2000-01-01T01:00:00Z')).toBeUndefined();
    await sql`delete from public.bookings where building_id = ${building.id}`;
  });

  it('the check constraint refuses them even with the triggers off', async () => {
    const error = await sql
      .begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`
          insert into public.bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
          values (${building.id}, ${building.facilities.Gym!.id}, ${building.apartments['101']!.id}, now(), 'infinity')`;
      })
      .then(
        () => undefined,
        (e: { message?: string }) => e.message,
      );
    expect(error).toBe('new row for relation "bookings" violates check constraint "bookings_times_salto_can_hold"');
  });
});

// Residents book through the API with their own JWT: the app's own checks protect nothing. The
// database holds each resident's booking to the building's booking policy (public.booking_policies:
// by default at most 24 hours long, starting at most 365 days ahead, at most 5 unfinished bookings per
// apartment and facility and 20 per apartment), names the rule and the limit when it refuses, counts
// safely when two bookings arrive at once, and stops a 10,000-row insert at once. The building's
// managers and the connecX backend may book beyond it (issue "Access safety", finding 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, actingAs, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const sql = connect(4);
let building: TestBuilding;

const labels = ['long', 'ahead', 'facility', 'apartment', 'flood', 'race', 'staff', 'policy'] as const;

beforeAll(async () => {
  building = await createTestBuilding(sql, {
    facilities: [{ name: 'Gym' }, { name: 'Pool' }, { name: 'Sauna' }, { name: 'BBQ' }, { name: 'Tennis' }],
    apartments: labels.map((label) => ({ label })),
  });
});
afterAll(async () => {
  await building.close();
  await sql.end();
});

const resident = (label: (typeof labels)[number]): Actor => ({
  as: 'resident',
  userId: building.apartments[label]!.residentId,
});
const base = Math.ceil(Date.now() / HOUR) * HOUR + 2 * DAY;
/** The nth hour-long slot from two days ahead. */
const slot = (n: number, hours = 1) => ({
  startsAt: new Date(base + n * HOUR),
  endsAt: new Date(base + n * HOUR + hours * HOUR),
});

async function tryBook(
  actor: Actor,
  label: (typeof labels)[number],
  facility: string,
  { startsAt, endsAt }: { startsAt: Date; endsAt: Date },
) {
  return actingAs(
    sql,
    actor,
    (tx) => tx`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      values (${building.facilities[facility]!.id}, ${building.apartments[label]!.id}, ${startsAt}, ${endsAt})`,
  ).then(
    () => undefined,
    (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
  );
}

const policyNote = " The building's managers set this in Booking policy.";

describe("the booking policy holds residents' bookings to the building's limits", { timeout: 60_000 }, () => {
  it('a new building has the defaults: 24 hours long, 365 days ahead, 5 per facility, 20 per apartment', async () => {
    const [policy] = await sql`
      select extract(epoch from max_booking_length)::int / 3600 as hours, max_days_ahead,
        max_unfinished_per_facility, max_unfinished_per_apartment
      from public.booking_policies where building_id = ${building.id}`;
    expect(policy).toEqual({
      hours: 24,
      max_days_ahead: 365,
      max_unfinished_per_facility: 5,
      max_unfinished_per_apartment: 20,
    });
  });

  it('a resident cannot book longer than the policy allows, and is told the limit', async () => {
    expect(await tryBook(resident('long'), 'long', 'Gym', slot(0, 36))).toEqual({
      code: '23514',
      message: `A booking can be at most 24 hours long (this one is 36 hours).${policyNote}`,
    });
    expect(await tryBook(resident('long'), 'long', 'Gym', slot(0, 24 * 365 * 10))).toEqual({
      code: '23514',
      message: `A booking can be at most 24 hours long (this one is 3650 days).${policyNote}`,
    });
    expect(await tryBook(resident('long'), 'long', 'Gym', slot(0, 24))).toBeUndefined();
  });

  it('a resident cannot book further ahead than the policy allows', async () => {
    // 400 and a half days from now: "401 days ahead", counting a part day as a day.
    const far = { startsAt: new Date(Date.now() + 400.5 * DAY), endsAt: new Date(Date.now() + 400.5 * DAY + HOUR) };
    expect(await tryBook(resident('ahead'), 'ahead', 'Gym', far)).toEqual({
      code: '23514',
      message: `A booking can start at most 365 days ahead (this one starts 401 days ahead).${policyNote}`,
    });
    const near = { startsAt: new Date(base + 300 * DAY), endsAt: new Date(base + 300 * DAY + HOUR) };
    expect(await tryBook(resident('ahead'), 'ahead', 'Gym', near)).toBeUndefined();
  });

  it('an apartment can hold at most 5 unfinished bookings of one facility; cancelled and finished ones do not count', async () => {
    const me = resident('facility');
    for (let n = 0; n < 5; n += 1) expect(await tryBook(me, 'facility', 'Gym', slot(n * 2))).toBeUndefined();
    expect(await tryBook(me, 'facility', 'Gym', slot(20))).toEqual({
      code: '23514',
      message: `An apartment can hold at most 5 unfinished bookings of one facility (this apartment already holds 5 of Gym).${policyNote}`,
    });
    // Another facility is another count.
    expect(await tryBook(me, 'facility', 'Pool', slot(20))).toBeUndefined();
    // A cancelled booking frees its place; one that has finished (made by the backend) takes none.
    await actingAs(
      sql,
      me,
      (tx) => tx`
        update public.bookings set status = 'cancelled'
        where id = (select id from public.bookings where apartment_id = ${building.apartments.facility!.id}
          and facility_id = ${building.facilities.Gym!.id} order by starts_at limit 1)`,
    );
    await tryBook({ as: 'service_role' }, 'facility', 'Gym', {
      startsAt: new Date(Date.now() - 3 * HOUR),
      endsAt: new Date(Date.now() - 2 * HOUR),
    });
    expect(await tryBook(me, 'facility', 'Gym', slot(20))).toBeUndefined();
  });

  it('an apartment can hold at most 20 unfinished bookings in all', async () => {
    const me = resident('apartment');
    const facilities = ['Gym', 'Pool', 'Sauna', 'BBQ', 'Tennis'];
    for (let n = 0; n < 20; n += 1) {
      expect(await tryBook(me, 'apartment', facilities[n % 5]!, slot(n * 2))).toBeUndefined();
    }
    expect(await tryBook(me, 'apartment', 'Tennis', slot(60))).toEqual({
      code: '23514',
      message: `An apartment can hold at most 20 unfinished bookings (this apartment already holds 20).${policyNote}`,
    });
  });

  it('a resident inserting 10,000 bookings in one statement is refused at once, and nothing is stored', async () => {
    const started = Date.now();
    const refusal = await actingAs(
      sql,
      resident('flood'),
      (tx) => tx`
        insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
        select ${building.facilities.Gym!.id}, ${building.apartments.flood!.id},
          ${new Date(base)}::timestamptz + n * interval '1 hour',
          ${new Date(base)}::timestamptz + n * interval '1 hour' + interval '30 minutes'
        from generate_series(0, 9999) as n`,
    ).then(
      () => undefined,
      (e: { message?: string }) => e.message,
    );
    const elapsed = Date.now() - started;
    expect(refusal).toBe(
      `An apartment can hold at most 5 unfinished bookings of one facility (this apartment already holds 5 of Gym).${policyNote}`,
    );
    expect(elapsed).toBeLessThan(1000);
    const [row] =
      await sql`select count(*)::int as n from public.bookings where apartment_id = ${building.apartments.flood!.id}`;
    expect(row!.n).toBe(0);
  });

  it('two bookings made at the same moment cannot both take the last place', async () => {
    const me = resident('race');
    for (let n = 0; n < 4; n += 1) expect(await tryBook(me, 'race', 'Gym', slot(n * 2))).toBeUndefined();
    // The first takes the fifth place and holds its transaction open; the second must wait for it,
    // then count it.
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let firstInserted!: () => void;
    const firstIn = new Promise<void>((resolve) => {
      firstInserted = resolve;
    });
    const first = actingAs(sql, me, async (tx) => {
      await tx`
        insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
        values (${building.facilities.Gym!.id}, ${building.apartments.race!.id}, ${slot(10).startsAt}, ${slot(10).endsAt})`;
      firstInserted();
      await firstHolds;
    });
    await firstIn;
    const second = tryBook(me, 'race', 'Gym', slot(12));
    // The second is waiting on the apartment's lock, not refused or stored yet.
    const waiting = await Promise.race([
      second.then(() => 'finished'),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 500)),
    ]);
    expect(waiting).toBe('waiting');
    releaseFirst();
    await first;
    expect(await second).toEqual({
      code: '23514',
      message: `An apartment can hold at most 5 unfinished bookings of one facility (this apartment already holds 5 of Gym).${policyNote}`,
    });
    const [row] = await sql`
      select count(*)::int as n from public.bookings
      where apartment_id = ${building.apartments.race!.id} and status = 'confirmed'`;
    expect(row!.n).toBe(5);
  });

  it("the building's managers and the connecX backend may book beyond the policy", async () => {
    const manager: Actor = { as: 'manager', userId: building.managerId };
    expect(await tryBook(manager, 'staff', 'Gym', slot(0, 36))).toBeUndefined();
    expect(await tryBook({ as: 'service_role' }, 'staff', 'Gym', slot(40, 72))).toBeUndefined();
    const far = { startsAt: new Date(base + 400 * DAY), endsAt: new Date(base + 400 * DAY + HOUR) };
    expect(await tryBook(manager, 'staff', 'Pool', far)).toBeUndefined();
    for (let n = 0; n < 6; n += 1) expect(await tryBook(manager, 'staff', 'Sauna', slot(n * 2))).toBeUndefined();
  });

  it('a manager changes the policy and it applies to the next booking', async () => {
    const me = resident('policy');
    expect((await tryBook(me, 'policy', 'Gym', slot(0, 36)))?.message).toMatch(
      /^A booking can be at most 24 hours long/,
    );
    await actingAs(
      sql,
      { as: 'manager', userId: building.managerId },
      (tx) => tx`update public.booking_policies set max_booking_length = '48 hours', max_unfinished_per_facility = 1
        where building_id = ${building.id}`,
    );
    expect(await tryBook(me, 'policy', 'Gym', slot(0, 36))).toBeUndefined();
    expect(await tryBook(me, 'policy', 'Gym', slot(40))).toEqual({
      code: '23514',
      message: `An apartment can hold at most 1 unfinished bookings of one facility (this apartment already holds 1 of Gym).${policyNote}`,
    });
    // A resident cannot change it.
    const changed = await actingAs(
      sql,
      me,
      (tx) => tx`update public.booking_policies set max_unfinished_per_facility = 1000 returning building_id`,
    );
    expect(changed).toHaveLength(0);
  });
});

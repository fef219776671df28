// A building's managers and the connecX backend may book beyond the residents' policy, but not
// without bound: the integration decides one apartment's unfinished bookings of one facility together
// (SALTO holds one permission per apartment and zone), so every writer is held to 500 of them, and a
// fold's work is a window over the pair's bookings, never a join of the pair with itself (which cost
// 190 s for one change of a pair of 10,000). Figures: BENCHMARKS.md, "Fold of one full pair" (issue
// "Access safety", fairness).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, actingAs, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const HOUR = 3_600_000;
const CAP = 500;
const sql = connect(2);
let building: TestBuilding;

beforeAll(async () => {
  building = await createTestBuilding(sql, {
    facilities: [{ name: 'Gym' }, { name: 'Pool' }],
    apartments: [{ label: 'full' }, { label: 'other' }],
  });
});
afterAll(async () => {
  await building.close();
  await sql.end();
});

const base = Math.ceil(Date.now() / HOUR) * HOUR + 48 * HOUR;

/** Books `count` hour-long bookings two hours apart from slot `from`, as `actor`, in one statement. */
async function bookMany(actor: Actor, label: string, facility: string, from: number, count: number) {
  return actingAs(
    sql,
    actor,
    (tx) => tx`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      select ${building.facilities[facility]!.id}, ${building.apartments[label]!.id},
        ${new Date(base)}::timestamptz + (i * 2) * interval '1 hour',
        ${new Date(base)}::timestamptz + (i * 2 + 1) * interval '1 hour'
      from generate_series(${from}::int, ${from + count - 1}::int) as i`,
  ).then(
    () => undefined,
    (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
  );
}

async function unfinished(label: string, facility: string) {
  const [row] = await sql`
    select count(*)::int as n from public.bookings
    where apartment_id = ${building.apartments[label]!.id} and facility_id = ${building.facilities[facility]!.id}
      and status = 'confirmed'`;
  return row!.n as number;
}

describe('one apartment and facility bound what a fold costs', () => {
  it('the service role and managers may hold 500 unfinished bookings of one facility, and not one more', async () => {
    expect(await bookMany({ as: 'service_role' }, 'full', 'Gym', 0, CAP - 1)).toBeUndefined();
    const manager: Actor = { as: 'manager', userId: building.managerId };
    expect(await bookMany(manager, 'full', 'Gym', CAP - 1, 1)).toBeUndefined();
    expect(await bookMany(manager, 'full', 'Gym', CAP, 1)).toEqual({
      code: '23514',
      message:
        'An apartment can hold at most 500 unfinished bookings of one facility, whoever books them (this apartment holds 500 of Gym).',
    });
    expect(await bookMany({ as: 'service_role' }, 'full', 'Gym', CAP + 1, 20)).toMatchObject({ code: '23514' });
    expect(await unfinished('full', 'Gym')).toBe(CAP);
    // Another facility of the same apartment, and another apartment, are not held back by it.
    expect(await bookMany({ as: 'service_role' }, 'full', 'Pool', 0, 3)).toBeUndefined();
    expect(await bookMany({ as: 'service_role' }, 'other', 'Gym', 0, 3)).toBeUndefined();
  });

  it('a cancelled booking frees its place', async () => {
    const [first] = await sql`
      select id from public.bookings
      where apartment_id = ${building.apartments.full!.id} and facility_id = ${building.facilities.Gym!.id}
        and status = 'confirmed'
      order by starts_at limit 1`;
    await sql`update public.bookings set status = 'cancelled' where id = ${first!.id}`;
    expect(await bookMany({ as: 'service_role' }, 'full', 'Gym', CAP + 1, 1)).toBeUndefined();
    expect(await unfinished('full', 'Gym')).toBe(CAP);
  });

  it('a full pair is decided: the first booking holds the permission, each later one waits for it', async () => {
    const [groups] = await sql`
      select count(*)::int as n, max(group_number)::int as groups, count(distinct holder_booking_ids)::int as holders
      from integration.permission_groups(
        array[${building.apartments.full!.id}]::uuid[], array[${building.facilities.Gym!.id}]::uuid[], now())`;
    // Each booking of the pair is its own time group (two hours apart): the first holds the
    // permission, and each later one waits for that same first group.
    expect(groups).toEqual({ n: CAP, groups: CAP, holders: 1 });
  });
});

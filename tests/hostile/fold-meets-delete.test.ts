// A fold and a delete of the same bookings, at the same time: a manager clearing an apartment's
// bookings, or a building being removed, while the sync folds their changes. The fold locks the
// bookings it decides (FOR KEY SHARE) and skips a booking someone is deleting, recording its change
// again: it neither fails on a booking that is gone (booking_access_booking_id_fkey) nor waits for a
// delete that waits for it (a deadlock), and whether the delete commits or rolls back, a later fold
// leaves the right states (issue "Access safety", fairness and failure isolation).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const HOUR = 3_600_000;
const sql = connect(4);
let building: TestBuilding;

beforeAll(async () => {
  building = await createTestBuilding(sql, {
    facilities: [{ name: 'Gym' }],
    apartments: [{ label: 'commit' }, { label: 'rollback' }, { label: 'race' }],
  });
});
afterAll(async () => {
  await building.close();
  await sql.end();
});

const base = Math.ceil(Date.now() / HOUR) * HOUR + 48 * HOUR;

/** Two bookings of the apartment whose changes were never folded: no state yet, nothing queued. */
async function unfoldedBookings(label: string): Promise<string[]> {
  return sql.begin(async (tx) => {
    // Only this transaction's triggers are off (no table lock): the bookings exist, undecided.
    await tx`set local session_replication_role = replica`;
    const rows = await tx<{ id: string }[]>`
      insert into public.bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
      select ${building.id}, ${building.facilities.Gym!.id}, ${building.apartments[label]!.id},
        ${new Date(base)}::timestamptz + i * interval '3 hours', ${new Date(base)}::timestamptz + i * interval '3 hours' + interval '1 hour'
      from generate_series(0, 1) as i
      returning id`;
    return rows.map((r) => r.id);
  }) as Promise<string[]>;
}

/** Folds the apartment's pair as the sync would, within 5 s or fails. */
async function foldPair(label: string) {
  await sql.begin(async (tx) => {
    await tx`set local statement_timeout = '5s'`;
    await tx`
      insert into integration.booking_changes (building_id, apartment_id, facility_id)
      values (${building.id}, ${building.apartments[label]!.id}, ${building.facilities.Gym!.id})`;
    await tx`select integration.apply_booking_changes(null, ${building.id})`;
  });
}

async function statesOf(ids: string[]) {
  const rows = await sql<{ booking_id: string; state: string }[]>`
    select booking_id, state from integration.booking_access where booking_id = any (${ids}::uuid[])`;
  return Object.fromEntries(rows.map((r) => [r.booking_id, r.state]));
}

async function pendingChangesOf(ids: string[]) {
  const [row] = await sql`
    select count(*)::int as n from integration.booking_changes where booking_id = any (${ids}::uuid[])`;
  return row!.n as number;
}

describe('a fold meeting a delete of the bookings it decides', () => {
  for (const outcome of ['commit', 'rollback'] as const) {
    it(`does not wait for the delete, and a later fold is right when the delete ${outcome}s`, async () => {
      const ids = await unfoldedBookings(outcome);
      const deleter = await sql.reserve();
      try {
        await deleter`begin`;
        await deleter`delete from public.bookings where id = any (${ids}::uuid[])`;
        // The fold runs while the delete holds the bookings: it completes (no wait, no foreign key
        // error), writes no state for them, and records their changes again.
        await foldPair(outcome);
        expect(await statesOf(ids)).toEqual({});
        expect(await pendingChangesOf(ids)).toBeGreaterThanOrEqual(2);
        await deleter`${deleter.unsafe(outcome)}`;
      } finally {
        deleter.release();
      }
      await foldPair(outcome);
      if (outcome === 'commit') {
        expect(await statesOf(ids)).toEqual({});
      } else {
        // The first booking holds the apartment's one permission, the second waits for it.
        expect(Object.values(await statesOf(ids)).sort()).toEqual(['scheduled', 'waiting']);
      }
    });
  }

  it('bulk deletes racing folds of the same bookings never fail either side', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 8; round++) {
      await sql`
        insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
        select ${building.facilities.Gym!.id}, ${building.apartments.race!.id},
          ${new Date(base + round * 200 * HOUR)}::timestamptz + i * interval '2 hours',
          ${new Date(base + round * 200 * HOUR)}::timestamptz + i * interval '2 hours' + interval '1 hour'
        from generate_series(0, 39) as i`;
      const results = await Promise.allSettled([
        sql`select integration.apply_booking_changes(null, ${building.id})`,
        sql`delete from public.bookings where apartment_id = ${building.apartments.race!.id}`,
        sql`select integration.apply_booking_changes(null, ${building.id})`,
      ]);
      for (const r of results) if (r.status === 'rejected') failures.push(String((r.reason as Error).message));
    }
    expect(failures).toEqual([]);
    await foldPair('race');
    const [left] = await sql`
      select count(*)::int as n from integration.booking_access where apartment_id = ${building.apartments.race!.id}`;
    expect(left!.n).toBe(0);
  });
});

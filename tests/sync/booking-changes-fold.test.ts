// Bookings' changes are folded into access states after commit (integration.apply_booking_changes).
// Folds running at the same time as each other and as the bookings being written decide every booking
// exactly as one fold would: one holder per apartment and facility, the rest waiting, one alert each.
import { afterAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';

const DAY = 86_400_000;
/** 10:00 UTC, two days after the next UTC midnight: bookings still to come. */
const inTwoDays = () => Math.ceil(Date.now() / DAY) * DAY + 2 * DAY + 10 * 3600_000;
const sql = connect(8);
afterAll(() => sql.end());

/** Folds the building's pending changes until none is left (the sync, woken too, may be folding some). */
async function foldAll(buildingId: string) {
  await eventually(
    async () => {
      await sql`select integration.apply_booking_changes(null, ${buildingId})`;
      const [pending] = await sql<
        { n: number }[]
      >`select count(*)::int as n from integration.booking_changes where building_id = ${buildingId}`;
      return pending!.n === 0 ? true : undefined;
    },
    20_000,
    'every change folded',
  );
}

/** `count` finished one-hour bookings of a facility by an apartment, one every other day back from now. */
async function pastBookings(buildingId: string, facilityId: string, apartmentId: string, count: number) {
  await sql`
    insert into public.bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
    select ${buildingId}, ${facilityId}, ${apartmentId}, now() - make_interval(days => 2 * i), now() - make_interval(days => 2 * i) + interval '1 hour'
    from generate_series(1, ${count}) as i`;
}

describe('folding booking changes', { timeout: 120_000 }, () => {
  it('concurrent folds, while bookings are written, decide every booking once and correctly', async () => {
    const building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }, { name: 'Pool' }],
      apartments: [{ label: '1/1' }, { label: '1/2' }, { label: '1/3' }],
    });
    try {
      const base = inTwoDays();
      const bookings = Object.values(building.apartments).flatMap((apartment) =>
        Object.values(building.facilities).flatMap((facility) =>
          [0, 7, 14].map((week) => ({
            apartmentId: apartment.id,
            facilityId: facility.id,
            startsAt: new Date(base + week * DAY),
          })),
        ),
      );
      // Written as the app writes them, one per transaction, with the wake-up left out so that only
      // the folds below (and the minute job, if it runs) decide them.
      let next = 0;
      let writing = true;
      const writers = Array.from({ length: 3 }, async () => {
        for (let i = next++; i < bookings.length; i = next++) {
          const b = bookings[i]!;
          await sql.begin(async (tx) => {
            await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true),
              set_config('integration.sync_woken', 'yes', true)`;
            await tx`insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
              values (${b.facilityId}, ${b.apartmentId}, ${b.startsAt}, ${new Date(b.startsAt.getTime() + 3600_000)})`;
          });
        }
      });
      const folders = Array.from({ length: 3 }, async () => {
        while (writing) {
          await sql`select integration.apply_booking_changes(2, ${building.id})`;
        }
      });
      await Promise.all(writers);
      writing = false;
      await Promise.all(folders);
      await Promise.all(
        Array.from({ length: 3 }, () => sql`select integration.apply_booking_changes(null, ${building.id})`),
      );

      const states = await sql<{ apartment_id: string; facility_id: string; states: string[] }[]>`
        select apartment_id, facility_id, array_agg(state order by access_starts_at) as states
        from public.booking_access_states where building_id = ${building.id}
        group by apartment_id, facility_id`;
      expect(states).toHaveLength(6);
      for (const pair of states) expect(pair.states).toEqual(['scheduled', 'waiting', 'waiting']);
      const [alerts] = await sql<{ n: number }[]>`
        select count(*)::int as n from integration.alerts where building_id = ${building.id} and kind = 'double_booking'`;
      expect(alerts!.n).toBe(12);
      const [pending] = await sql<{ n: number }[]>`
        select count(*)::int as n from integration.booking_changes where building_id = ${building.id}`;
      expect(pending!.n).toBe(0);
      const levels = await sql<{ access_level_id: string }[]>`
        select access_level_id from integration.access_level_work where building_id = ${building.id} order by 1`;
      // Unless the sync already wrote them (the minute job may have woken it), every access level is queued.
      for (const l of levels)
        expect(Object.values(building.apartments).map((a) => a.accessLevelId)).toContain(l.access_level_id);

      // Folding again changes nothing.
      const before =
        await sql`select booking_id, state, updated_at from integration.booking_access where building_id = ${building.id} order by booking_id`;
      await sql`select integration.apply_booking_changes(null, ${building.id})`;
      const after =
        await sql`select booking_id, state, updated_at from integration.booking_access where building_id = ${building.id} order by booking_id`;
      expect(after).toEqual(before);
    } finally {
      await building.close();
    }
  });

  it("a fold writes only the states that change: a regular's past bookings are neither rewritten nor locked", async () => {
    const building = await createTestBuilding(sql, { apartments: [{ label: '1/1' }] });
    try {
      const gym = building.facilities.Gym!;
      const apartment = building.apartments['1/1']!;
      // Twenty finished bookings of the gym (released once folded), and one to come (active once in SALTO).
      await pastBookings(building.id, gym.id, apartment.id, 20);
      const startsAt = new Date(inTwoDays());
      const next = await book(
        sql,
        { as: 'service_role' },
        { facilityId: gym.id, apartmentId: apartment.id, startsAt, endsAt: new Date(startsAt.getTime() + 3600_000) },
      );
      const states = () => sql<{ booking_id: string; state: string; xmin: string; xmax: string; updated_at: Date }[]>`
        select booking_id, state, xmin::text, xmax::text, updated_at from integration.booking_access
        where apartment_id = ${apartment.id} and facility_id = ${gym.id} order by booking_id`;
      const before = await eventually(
        async () => {
          const rows = await states();
          return rows.length === 21 && rows.find((r) => r.booking_id === next)?.state === 'active' ? rows : undefined;
        },
        20_000,
        'the history released and the next booking active',
      );
      expect(before.filter((r) => r.state === 'released')).toHaveLength(20);

      // The pair decided again, as at every change of its bookings: nothing about these states changed.
      await sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(integration.pair_lock_key(${apartment.id}, ${gym.id}))`;
        await tx`select integration.refresh_pairs(${[apartment.id]}::uuid[], ${[gym.id]}::uuid[])`;
      });

      // Not rewritten (xmin), not even locked (xmax), and the active state's time unchanged.
      expect(await states()).toEqual(before);
    } finally {
      await building.close();
    }
  });

  it('a booking made in the past, or cancelled after it finished, gets its state from its change', async () => {
    const building = await createTestBuilding(sql, { apartments: [{ label: '1/1' }] });
    try {
      const gym = building.facilities.Gym!;
      const apartment = building.apartments['1/1']!;
      const [booking] = await sql<{ id: string }[]>`
        insert into public.bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
        values (${building.id}, ${gym.id}, ${apartment.id}, now() - interval '1 day', now() - interval '23 hours') returning id`;
      await foldAll(building.id);
      const stateOf = () => sql<{ state: string; reason: string }[]>`
        select state, reason from integration.booking_access where booking_id = ${booking!.id}`;
      expect(await stateOf()).toEqual([{ state: 'released', reason: 'The booking has finished.' }]);

      await sql`update public.bookings set status = 'cancelled' where id = ${booking!.id}`;
      await foldAll(building.id);
      expect(await stateOf()).toEqual([{ state: 'released', reason: 'The booking was cancelled.' }]);
    } finally {
      await building.close();
    }
  });
});

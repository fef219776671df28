// Timetable slots are a small pool: identical timetables share a slot, unused ones are recycled, and
// running out fails the booking with a reason instead of crashing. And access level work is transactional.
import { afterAll, describe, expect, it } from 'vitest';
import { instantAtLocal, parseLocalDateTime } from '../../src/shared/time/local-time.ts';
import { book, createTestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const sql = connect(4);
afterAll(() => sql.end());

async function accessState(bookingId: string) {
  const [row] = await sql<
    { state: string; reason: string | null; timetable_id: number | null; exact: boolean | null }[]
  >`
    select state, reason, timetable_id, exact from integration.booking_access where booking_id = ${bookingId}`;
  return row;
}
const untilState = (bookingId: string, state: string) =>
  eventually(
    async () => ((await accessState(bookingId))?.state === state ? true : undefined),
    20_000,
    `booking ${state}`,
  );

/** Sydney wall time `hour`:00 on the date `days` ahead (wall time: the same hours whatever the season). */
const sydneyEvening = (days: number, hour = 18) => {
  const date = new Date(Date.now() + days * 24 * HOUR).toISOString().slice(0, 10);
  return instantAtLocal(parseLocalDateTime(`${date}T${String(hour).padStart(2, '0')}:00:00`), 'Australia/Sydney');
};

describe('timetable slots', { timeout: 60_000 }, () => {
  it('identical hours share one slot; a full pool fails the booking with a reason, and a freed slot is reused', async () => {
    const building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }],
      apartments: [{ label: '1' }, { label: '2' }, { label: '3' }],
      timetableRange: { first: 200, last: 200 },
    });
    try {
      const gym = building.facilities.Gym!;
      const [a1, a2, a3] = ['1', '2', '3'].map((l) => building.apartments[l]!);
      // Same weekday and hours (a week apart): one timetable, one slot.
      const first = await book(
        sql,
        { as: 'service_role' },
        { facilityId: gym.id, apartmentId: a1!.id, startsAt: sydneyEvening(3), endsAt: sydneyEvening(3, 19) },
      );
      const sameHours = await book(
        sql,
        { as: 'service_role' },
        { facilityId: gym.id, apartmentId: a2!.id, startsAt: sydneyEvening(10), endsAt: sydneyEvening(10, 19) },
      );
      await untilState(first, 'active');
      await untilState(sameHours, 'active');
      expect((await accessState(first))?.timetable_id).toBe(200);
      expect((await accessState(sameHours))?.timetable_id).toBe(200);

      // Other hours need a second slot; the range holds one.
      const otherHours = await book(
        sql,
        { as: 'service_role' },
        { facilityId: gym.id, apartmentId: a3!.id, startsAt: sydneyEvening(4, 7), endsAt: sydneyEvening(4, 8) },
      );
      await untilState(otherHours, 'failed');
      expect((await accessState(otherHours))?.reason).toMatch(/No free SALTO timetable: all slots 200-200/);

      // Once nothing uses slot 200, it is recycled for the new hours.
      await sql`update public.bookings set status = 'cancelled' where id in (${first}, ${sameHours})`;
      await sql`update public.bookings set ends_at = ends_at + interval '30 minutes' where id = ${otherHours}`;
      await untilState(otherHours, 'active');
      expect((await accessState(otherHours))?.timetable_id).toBe(200);
      expect(building.simulator.snapshot().timetables.find((t) => t.id === 200)?.intervals[0]).toMatchObject({
        start: '07:00:00',
        end: '08:30:00',
      });
    } finally {
      await building.close();
    }
  });

  it('after the reserved range moves, the same hours take a slot of the new range', async () => {
    const building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }],
      apartments: [{ label: '1' }, { label: '2' }],
      timetableRange: { first: 200, last: 201 },
    });
    try {
      const gym = building.facilities.Gym!;
      const [a1, a2] = ['1', '2'].map((l) => building.apartments[l]!);
      const before = await book(
        sql,
        { as: 'service_role' },
        { facilityId: gym.id, apartmentId: a1!.id, startsAt: sydneyEvening(3), endsAt: sydneyEvening(3, 19) },
      );
      await untilState(before, 'active');
      expect((await accessState(before))?.timetable_id).toBe(200);

      // The building's SALTO administrator hands slots 200-201 to something else: 210-211 are ours now.
      await sql`update integration.salto_servers set timetable_first = 210, timetable_last = 211 where building_id = ${building.id}`;
      const after = await book(
        sql,
        { as: 'service_role' },
        { facilityId: gym.id, apartmentId: a2!.id, startsAt: sydneyEvening(10), endsAt: sydneyEvening(10, 19) },
      );
      await untilState(after, 'active');
      expect((await accessState(after))?.timetable_id).toBe(210);
      expect(building.simulator.snapshot().timetables.find((t) => t.id === 210)?.intervals[0]).toMatchObject({
        start: '18:00:00',
        end: '19:00:00',
      });
    } finally {
      await building.close();
    }
  });

  it('a reserved range of timetables SALTO does not have fails the booking with a reason naming the range', async () => {
    // The simulated site has timetables 1-255.
    const building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }],
      apartments: [{ label: '1' }],
      timetableRange: { first: 300, last: 301 },
    });
    try {
      const id = await book(
        sql,
        { as: 'service_role' },
        {
          facilityId: building.facilities.Gym!.id,
          apartmentId: building.apartments['1']!.id,
          startsAt: sydneyEvening(3),
          endsAt: sydneyEvening(3, 19),
        },
      );
      await untilState(id, 'failed');
      expect((await accessState(id))?.reason).toMatch(
        /SALTO has no timetable with the number .*reserved timetable range/,
      );
    } finally {
      await building.close();
    }
  });

  it('a booking spanning more than seven days gets whole days, and its state says so', async () => {
    const building = await createTestBuilding(sql, { facilities: [{ name: 'Storage' }] });
    try {
      const apt = building.apartments['501/56']!;
      const id = await book(
        sql,
        { as: 'service_role' },
        {
          facilityId: building.facilities.Storage!.id,
          apartmentId: apt.id,
          startsAt: sydneyEvening(2),
          endsAt: sydneyEvening(12, 9),
        },
      );
      await untilState(id, 'active');
      const state = await accessState(id);
      expect(state).toMatchObject({ exact: false, timetable_id: 0 });
      expect(state?.reason).toMatch(/more than 7 days get whole-day access/);
    } finally {
      await building.close();
    }
  });
});

describe("a booking's change is part of the booking transaction", () => {
  it('a booking rolled back leaves no work, no state, no alert and no wake-up', async () => {
    const building = await createTestBuilding(sql);
    // Saving the building's IDs had them checked against SALTO: what follows is counted from here.
    building.simulator.clearRequests();
    try {
      const apt = building.apartments['501/56']!;
      // This transaction's id: a wake-up it queued is its own row (other buildings' bookings queue
      // theirs meanwhile, so counting the whole queue would read their rows).
      let transaction: string | undefined;
      await sql
        .begin(async (tx) => {
          await tx`insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
                   values (${building.facilities.Gym!.id}, ${apt.id}, now() + interval '1 day', now() + interval '25 hours')`;
          const [current] = await tx<{ xid: string }[]>`select xid(pg_current_xact_id())::text as xid`;
          transaction = current!.xid;
          // The booking's change is recorded in its transaction (the fold decides the work after commit).
          const [inside] =
            await tx`select count(*)::int as n from integration.booking_changes where building_id = ${building.id}`;
          expect(inside!.n).toBe(1);
          throw new Error('the app changed its mind');
        })
        .catch((error: Error) => {
          // Only the app's own change of mind; a failed expectation inside must fail the test.
          if (error.message !== 'the app changed its mind') throw error;
        });
      const [work] =
        await sql`select count(*)::int as n from integration.access_level_work where building_id = ${building.id}`;
      const [states] =
        await sql`select count(*)::int as n from integration.booking_access where building_id = ${building.id}`;
      const [alerts] = await sql`select count(*)::int as n from integration.alerts where building_id = ${building.id}`;
      const [changes] =
        await sql`select count(*)::int as n from integration.booking_changes where building_id = ${building.id}`;
      expect([work!.n, states!.n, alerts!.n, changes!.n]).toEqual([0, 0, 0, 0]);
      const [queued] =
        await sql`select count(*)::int as n from net.http_request_queue where xmin = ${transaction!}::xid`;
      expect(queued!.n).toBe(0);
      expect(building.simulator.requests()).toHaveLength(0);
    } finally {
      await building.close();
    }
  });
});

// Finding 3: one building's flood of bookings must not hold another building's booking back. A
// building that commits thousands of bookings at once is folded in turns with the others, and is
// leased for writing only once its own changes are folded, so another building's booking is decided
// and written in the next round.
import { afterAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';

const HOUR = 3_600_000;
const sql = connect(4);
afterAll(() => sql.end());

describe("one building's flood does not hold another building back", { timeout: 180_000 }, () => {
  it("a booking in one building reaches SALTO before another building's flood of 3,000 bookings is done", async () => {
    const flooded = await createTestBuilding(sql, {
      facilities: Array.from({ length: 10 }, (_, i) => ({ name: `Room ${i + 1}` })),
      apartments: Array.from({ length: 300 }, (_, i) => ({ label: String(1001 + i) })),
    });
    const quiet = await createTestBuilding(sql, { facilities: [{ name: 'Pool' }], apartments: [{ label: '1' }] });
    try {
      const base = Math.ceil(Date.now() / HOUR) * HOUR + 2 * HOUR;
      // 300 apartments x 10 facilities, one statement, as the connecX backend (service role) would.
      await sql.begin(async (tx) => {
        await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true)`;
        await tx`
          insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
          select f.id, a.id, ${new Date(base)}::timestamptz, ${new Date(base + HOUR)}::timestamptz
          from public.apartments as a cross join public.facilities as f
          where a.building_id = ${flooded.id} and f.building_id = ${flooded.id}`;
      });

      const bookedAt = Date.now();
      await book(
        sql,
        { as: 'service_role' },
        {
          facilityId: quiet.facilities.Pool!.id,
          apartmentId: quiet.apartments['1']!.id,
          startsAt: new Date(base),
          endsAt: new Date(base + HOUR),
        },
      );
      // Watched until the quiet building's permission is in SALTO; at that moment, what the flood still
      // had to do (changes to fold, access levels to write). An order, not a time: on a loaded machine
      // everything is slower, the flood's work included.
      const floodLeft = await eventually(
        async () => {
          if (!quiet.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).some((r) => r.applied))
            return undefined;
          const [left] = await sql<{ changes: number; work: number }[]>`
            select (select count(*)::int from integration.booking_changes where building_id = ${flooded.id}) as changes,
                   (select count(*)::int from integration.access_level_work where building_id = ${flooded.id}) as work`;
          return left!;
        },
        90_000,
        "the quiet building's permission in SALTO",
      );
      const writtenAfter = Date.now() - bookedAt;
      // Behind the flood, it would have waited for the flood's whole fold and its building's writes.
      expect(
        floodLeft.changes + floodLeft.work,
        `written ${writtenAfter} ms after its commit, while the flood still had ${floodLeft.changes} changes to fold and ${floodLeft.work} access levels to write`,
      ).toBeGreaterThan(0);
      const floodWrites = flooded.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).filter((r) => r.applied);
      expect(floodWrites.length, 'of the flood, fewer access levels were written than it has').toBeLessThan(300);
    } finally {
      await flooded.close();
      await quiet.close();
    }
  });
});

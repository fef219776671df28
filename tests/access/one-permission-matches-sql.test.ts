// The one-permission rule is decided in the database (integration.permission_groups), when a booking's
// change is folded. Its TypeScript statement (one-permission-oracle.ts) is the readable
// specification; this property test holds the two to the same answers on random bookings.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { BookingForAccess } from '../../src/shared/access/index.ts';
import { connect } from '../support/stack.ts';
import { decideOnePermission } from './one-permission-oracle.ts';

const sql = connect(2);
afterAll(() => sql.end());

const MINUTE = 60_000;
const base = Date.UTC(2031, 0, 6, 0, 0); // far enough ahead that "now" never finishes a booking by accident

const bookingSet = fc.record({
  before: fc.integer({ min: 0, max: 30 }),
  after: fc.integer({ min: 0, max: 30 }),
  nowOffsetMinutes: fc.integer({ min: -60, max: 6 * 60 }),
  bookings: fc.array(
    fc.record({
      startMinute: fc.integer({ min: 0, max: 8 * 60 }).map((m) => m - (m % 15)),
      minutes: fc.constantFrom(15, 30, 45, 60, 90, 120),
      cancelled: fc.boolean(),
    }),
    { minLength: 1, maxLength: 7 },
  ),
});

describe('the one-permission rule in SQL and in TypeScript', () => {
  it('group the same bookings, with the same windows and the same write times', async () => {
    await fc.assert(
      fc.asyncProperty(bookingSet, async ({ before, after, nowOffsetMinutes, bookings }) => {
        const now = new Date(base + nowOffsetMinutes * MINUTE);
        await sql
          .begin(async (tx) => {
            const [building] =
              await tx`insert into public.buildings (name, timezone) values ('Rule check', 'UTC') returning id`;
            const [apartment] =
              await tx`insert into public.apartments (building_id, label) values (${building!.id}, '1') returning id`;
            const [facility] = await tx`
              insert into public.facilities (building_id, name, access_buffer_before, access_buffer_after)
              values (${building!.id}, 'Gym', make_interval(mins => ${before}), make_interval(mins => ${after})) returning id`;
            const inserted: BookingForAccess[] = [];
            for (const b of bookings) {
              const startsAt = new Date(base + b.startMinute * MINUTE);
              const endsAt = new Date(startsAt.getTime() + b.minutes * MINUTE);
              const status = b.cancelled ? 'cancelled' : 'confirmed';
              const [row] = await tx<{ id: string }[]>`
                insert into public.bookings (facility_id, apartment_id, starts_at, ends_at, status)
                values (${facility!.id}, ${apartment!.id}, ${startsAt}, ${endsAt}, ${status}) returning id`;
              inserted.push({
                id: row!.id,
                apartmentId: apartment!.id,
                facilityId: facility!.id,
                startsAt,
                endsAt,
                status,
              });
            }
            const rows = await tx<
              { booking_id: string; group_number: string; group_start: Date; group_end: Date; write_at: Date | null }[]
            >`
              select booking_id, group_number, group_start, group_end, write_at
              from integration.permission_groups(array[${apartment!.id}::uuid], array[${facility!.id}::uuid], ${now})
              order by group_number, window_start, booking_id`;

            const expected = decideOnePermission(inserted, { beforeMinutes: before, afterMinutes: after }, now);
            const fromSql = new Map<number, { ids: string[]; start: number; end: number; writeAt: number | null }>();
            for (const r of rows) {
              const group = fromSql.get(Number(r.group_number)) ?? {
                ids: [],
                start: r.group_start.getTime(),
                end: r.group_end.getTime(),
                writeAt: r.write_at?.getTime() ?? null,
              };
              group.ids.push(r.booking_id);
              fromSql.set(Number(r.group_number), group);
            }
            expect([...fromSql.values()].map((g) => ({ ...g, ids: [...g.ids].sort() }))).toEqual(
              expected.queue.map((g) => ({
                ids: [...g.bookingIds].sort(),
                start: g.window.start.getTime(),
                end: g.window.end.getTime(),
                writeAt: g.writtenAt?.getTime() ?? null,
              })),
            );
            throw new Rollback();
          })
          .catch((error) => {
            if (!(error instanceof Rollback)) throw error;
          });
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

class Rollback extends Error {}

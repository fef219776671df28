import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BookingForAccess } from '../../src/shared/access/index.ts';
import { decideOnePermission } from './one-permission-oracle.ts';

const BASE = Date.parse('2026-05-04T00:00:00Z');
const MINUTE = 60_000;

const bookingsArbitrary = fc.uniqueArray(
  fc.record({
    id: fc.string({ minLength: 1, maxLength: 4 }),
    startMinute: fc.integer({ min: 0, max: 3 * 24 * 60 }),
    lengthMinutes: fc.integer({ min: 15, max: 300 }),
    cancelled: fc.boolean(),
  }),
  { selector: (booking) => booking.id, maxLength: 12 },
);

function toBookings(drafts: { id: string; startMinute: number; lengthMinutes: number; cancelled: boolean }[]) {
  return drafts.map(
    (draft): BookingForAccess => ({
      id: draft.id,
      apartmentId: 'apt-501',
      facilityId: 'gym',
      startsAt: new Date(BASE + draft.startMinute * MINUTE),
      endsAt: new Date(BASE + (draft.startMinute + draft.lengthMinutes) * MINUTE),
      status: draft.cancelled ? 'cancelled' : 'confirmed',
    }),
  );
}

const setting = fc.record({
  beforeMinutes: fc.integer({ min: 0, max: 60 }),
  afterMinutes: fc.integer({ min: 0, max: 60 }),
  nowMinute: fc.integer({ min: -60, max: 3 * 24 * 60 }),
});

describe('the one-permission rule, for any bookings', () => {
  it('serves every live booking exactly once, in non-touching groups, each written before it starts', () => {
    fc.assert(
      fc.property(bookingsArbitrary, setting, (drafts, { beforeMinutes, afterMinutes, nowMinute }) => {
        const now = new Date(BASE + nowMinute * MINUTE);
        const decision = decideOnePermission(toBookings(drafts), { beforeMinutes, afterMinutes }, now);

        const served = decision.queue.flatMap((group) => group.bookingIds);
        const live = decision.bookings.filter((b) => b.state === 'holder' || b.state === 'waiting');
        expect(new Set(served)).toEqual(new Set(live.map((b) => b.bookingId)));
        expect(served).toHaveLength(live.length);

        for (const [index, group] of decision.queue.entries()) {
          const previous = decision.queue[index - 1];
          if (previous === undefined) {
            expect(group.writtenAt).toBeNull();
            expect(decision.permission?.window).toEqual(group.window);
            continue;
          }
          // Groups neither overlap nor touch, and each is written when the one before it finishes,
          // strictly before its own access starts.
          expect(group.writtenAt?.getTime()).toBe(previous.window.end.getTime());
          expect(previous.window.end.getTime()).toBeLessThan(group.window.start.getTime());
        }
        for (const booking of decision.bookings) {
          if (booking.state === 'finished') expect(booking.window.end.getTime()).toBeLessThanOrEqual(now.getTime());
          if (booking.state === 'holder' || booking.state === 'waiting') {
            expect(booking.window.end.getTime()).toBeGreaterThan(now.getTime());
          }
        }
        expect(decision.permission === null).toBe(decision.queue.length === 0);
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on the order the bookings arrive in', () => {
    fc.assert(
      fc.property(
        bookingsArbitrary,
        setting,
        fc.integer(),
        (drafts, { beforeMinutes, afterMinutes, nowMinute }, seed) => {
          const bookings = toBookings(drafts);
          const shuffled = [...bookings].sort(
            (a, b) => ((a.id.charCodeAt(0) * 31 + seed) % 7) - ((b.id.charCodeAt(0) * 31 + seed) % 7),
          );
          const now = new Date(BASE + nowMinute * MINUTE);
          const buffers = { beforeMinutes, afterMinutes };
          const one = decideOnePermission(bookings, buffers, now);
          const other = decideOnePermission(shuffled, buffers, now);
          expect(other.queue).toEqual(one.queue);
          expect(other.permission).toEqual(one.permission);
        },
      ),
      { numRuns: 300 },
    );
  });
});

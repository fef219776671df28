/**
 * Test oracle: the one-permission rule, which booking holds an apartment's permission for a facility's
 * zone, written plainly in TypeScript. The database decides it (integration.permission_groups);
 * one-permission-matches-sql.test.ts holds the two to the same answers, and the other
 * one-permission tests state the rule's properties against this copy.
 *
 * Why: SALTO keeps one permission per (access level, zone), with one period and one timetable. An
 * apartment with two bookings of the gym cannot have both written at once. The rule (design.md, "The
 * flow"): among the apartment's confirmed bookings of the facility that have not finished (finished =
 * access window end <= now), the one that starts first holds the permission, together with every booking
 * whose window overlaps or touches the holder's, transitively (a chain), served by one permission
 * covering their union. Every other booking waits, in groups formed the same way; a waiting group is
 * written when the group before it finishes, at the end of that group's union.
 *
 * Because groups are formed by one sweep over windows sorted by start, every booking outside the holder
 * group starts after the holder group ends, so the queue computed now is the queue that will be served:
 * when the holder group finishes nothing in the next group has finished yet.
 *
 * Pure and deterministic: the caller passes `now`; ties are broken by booking id (code-unit order).
 */

import {
  type AccessBuffers,
  type AccessWindow,
  accessWindow,
  type BookingForAccess,
} from '../../src/shared/access/index.ts';

/** Bookings served together by one permission, and when that permission is written. */
export interface ServedGroup {
  /** Sorted by window start, then id. */
  bookingIds: string[];
  /** Union of the group's access windows: what the permission must cover. */
  window: AccessWindow;
  /** When the permission for this group can be written: null for the holder group (now). */
  writtenAt: Date | null;
}

export type BookingAccessDecision =
  | {
      bookingId: string;
      state: 'holder';
      window: AccessWindow;
      /** Every booking served by the same permission, this one included. */
      servedWith: string[];
    }
  | {
      bookingId: string;
      state: 'waiting';
      window: AccessWindow;
      /** The bookings holding the permission now. */
      heldBy: string[];
      /** When this booking's permission will be written: the end of the group before it. */
      writtenAt: Date;
      servedWith: string[];
    }
  | { bookingId: string; state: 'finished'; window: AccessWindow }
  | { bookingId: string; state: 'cancelled' };

export interface OnePermissionDecision {
  /** The permission the apartment should hold for the zone now, or null for none. */
  permission: { window: AccessWindow; bookingIds: string[] } | null;
  /** Holder group first, then waiting groups in the order they will be written. */
  queue: ServedGroup[];
  /** One decision per input booking, in input order. */
  bookings: BookingAccessDecision[];
}

export interface PairPermissionDecision extends OnePermissionDecision {
  apartmentId: string;
  facilityId: string;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Apply the one-permission rule to the bookings of ONE apartment and ONE facility (the caller groups;
 * see `decidePermissions`).
 */
export function decideOnePermission(
  bookings: readonly BookingForAccess[],
  buffers: AccessBuffers,
  now: Date,
): OnePermissionDecision {
  const nowMs = now.getTime();
  const decisions = new Map<string, BookingAccessDecision>();
  const live: { id: string; start: number; end: number }[] = [];

  for (const booking of bookings) {
    if (booking.status === 'cancelled') {
      decisions.set(booking.id, { bookingId: booking.id, state: 'cancelled' });
      continue;
    }
    const window = accessWindow(booking, buffers);
    if (window.end.getTime() <= nowMs) {
      decisions.set(booking.id, { bookingId: booking.id, state: 'finished', window });
      continue;
    }
    live.push({ id: booking.id, start: window.start.getTime(), end: window.end.getTime() });
  }

  live.sort((a, b) => a.start - b.start || compareIds(a.id, b.id));

  const groups: { ids: string[]; start: number; end: number }[] = [];
  for (const entry of live) {
    const current = groups.at(-1);
    // `<=`: a booking that starts exactly when the previous one's access ends touches it.
    if (current !== undefined && entry.start <= current.end) {
      current.ids.push(entry.id);
      current.end = Math.max(current.end, entry.end);
    } else {
      groups.push({ ids: [entry.id], start: entry.start, end: entry.end });
    }
  }

  const queue: ServedGroup[] = groups.map((group, index) => ({
    bookingIds: group.ids,
    window: { start: new Date(group.start), end: new Date(group.end) },
    writtenAt: index === 0 ? null : new Date(groups[index - 1]!.end),
  }));

  const liveById = new Map(live.map((entry) => [entry.id, entry]));
  const holders = queue[0];
  for (const group of queue) {
    for (const id of group.bookingIds) {
      const entry = liveById.get(id)!;
      const window = { start: new Date(entry.start), end: new Date(entry.end) };
      decisions.set(
        id,
        group.writtenAt === null
          ? { bookingId: id, state: 'holder', window, servedWith: group.bookingIds }
          : {
              bookingId: id,
              state: 'waiting',
              window,
              heldBy: holders!.bookingIds,
              writtenAt: group.writtenAt,
              servedWith: group.bookingIds,
            },
      );
    }
  }

  return {
    permission: holders === undefined ? null : { window: holders.window, bookingIds: holders.bookingIds },
    queue,
    bookings: bookings.map((booking) => decisions.get(booking.id)!),
  };
}

/**
 * Apply the one-permission rule to bookings of any apartments and facilities: one decision per
 * (apartment, facility) pair that has at least one booking, sorted by apartment id then facility id.
 */
export function decidePermissions(
  bookings: readonly BookingForAccess[],
  buffersOf: (facilityId: string) => AccessBuffers,
  now: Date,
): PairPermissionDecision[] {
  const byPair = new Map<string, BookingForAccess[]>();
  for (const booking of bookings) {
    const key = JSON.stringify([booking.apartmentId, booking.facilityId]);
    const pair = byPair.get(key);
    if (pair === undefined) byPair.set(key, [booking]);
    else pair.push(booking);
  }
  return [...byPair.values()]
    .map((pair) => {
      const { apartmentId, facilityId } = pair[0]!;
      return { apartmentId, facilityId, ...decideOnePermission(pair, buffersOf(facilityId), now) };
    })
    .sort((a, b) => compareIds(a.apartmentId, b.apartmentId) || compareIds(a.facilityId, b.facilityId));
}

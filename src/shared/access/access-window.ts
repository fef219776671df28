/**
 * A booking's access window: the time its apartment's key cards should open the facility's zone.
 *
 * Why: residents arrive early and leave late, so each facility carries buffers before and after its
 * bookings. Every later decision (which booking holds the permission, when it finishes, which period and
 * timetable to write) works on this widened, half-open window [starts_at - before, ends_at + after).
 */

export type BookingStatus = 'confirmed' | 'cancelled';

/** What the access rules need to know about a booking (`public.bookings`). */
export interface BookingForAccess {
  id: string;
  apartmentId: string;
  facilityId: string;
  startsAt: Date;
  endsAt: Date;
  status: BookingStatus;
}

/** A facility's access buffers, in whole or fractional minutes, never negative. */
export interface AccessBuffers {
  beforeMinutes: number;
  afterMinutes: number;
}

export const NO_BUFFERS: AccessBuffers = { beforeMinutes: 0, afterMinutes: 0 };

/** A half-open interval of instants [start, end). */
export interface AccessWindow {
  start: Date;
  end: Date;
}

const MINUTE_MS = 60_000;

/**
 * [startsAt - before, endsAt + after). Throws RangeError on a booking that ends before it starts or on
 * negative buffers: the database forbids both, so seeing one here is a bug, not data to work around.
 */
export function accessWindow(
  booking: Pick<BookingForAccess, 'startsAt' | 'endsAt'>,
  buffers: AccessBuffers = NO_BUFFERS,
): AccessWindow {
  const { beforeMinutes, afterMinutes } = buffers;
  if (!(Number.isFinite(beforeMinutes) && beforeMinutes >= 0)) {
    throw new RangeError(`access buffer before must be a non-negative number of minutes, got ${beforeMinutes}`);
  }
  if (!(Number.isFinite(afterMinutes) && afterMinutes >= 0)) {
    throw new RangeError(`access buffer after must be a non-negative number of minutes, got ${afterMinutes}`);
  }
  const startsAt = booking.startsAt.getTime();
  const endsAt = booking.endsAt.getTime();
  if (!(endsAt > startsAt)) {
    throw new RangeError('a booking must end after it starts');
  }
  return {
    start: new Date(startsAt - Math.round(beforeMinutes * MINUTE_MS)),
    end: new Date(endsAt + Math.round(afterMinutes * MINUTE_MS)),
  };
}

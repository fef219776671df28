import { describe, expect, it } from 'vitest';
import { type AccessBuffers, accessWindow, type BookingForAccess } from '../../src/shared/access/index.ts';
import { decideOnePermission, decidePermissions } from './one-permission-oracle.ts';

const NONE: AccessBuffers = { beforeMinutes: 0, afterMinutes: 0 };

function booking(
  id: string,
  startsAt: string,
  endsAt: string,
  extra: Partial<BookingForAccess> = {},
): BookingForAccess {
  return {
    id,
    apartmentId: 'apt-501',
    facilityId: 'gym',
    startsAt: new Date(startsAt),
    endsAt: new Date(endsAt),
    status: 'confirmed',
    ...extra,
  };
}

const iso = (date: Date | null | undefined) => date?.toISOString();

describe('access window', () => {
  it("opens before a booking starts and closes after it ends by the facility's buffers", () => {
    const window = accessWindow(booking('a', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z'), {
      beforeMinutes: 15,
      afterMinutes: 10,
    });
    expect(iso(window.start)).toBe('2026-05-04T07:45:00.000Z');
    expect(iso(window.end)).toBe('2026-05-04T09:10:00.000Z');
  });

  it('is the booking itself when the facility has no buffers', () => {
    const window = accessWindow(booking('a', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z'));
    expect(iso(window.start)).toBe('2026-05-04T08:00:00.000Z');
    expect(iso(window.end)).toBe('2026-05-04T09:00:00.000Z');
  });

  it('refuses a booking that ends before it starts, and negative buffers', () => {
    expect(() => accessWindow(booking('a', '2026-05-04T09:00:00Z', '2026-05-04T09:00:00Z'))).toThrow(RangeError);
    expect(() =>
      accessWindow(booking('a', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z'), {
        beforeMinutes: -5,
        afterMinutes: 0,
      }),
    ).toThrow(RangeError);
  });
});

describe('one permission per apartment and facility', () => {
  const now = new Date('2026-05-04T07:00:00Z');

  it('a single upcoming booking holds the permission now, so key cards can learn it early', () => {
    const decision = decideOnePermission([booking('a', '2026-05-10T08:00:00Z', '2026-05-10T09:00:00Z')], NONE, now);
    expect(decision.bookings[0]).toMatchObject({ state: 'holder', servedWith: ['a'] });
    expect(decision.permission?.bookingIds).toEqual(['a']);
    expect(iso(decision.permission?.window.start)).toBe('2026-05-10T08:00:00.000Z');
  });

  it('a second booking of the gym waits and is written when the first ends', () => {
    const first = booking('first', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z');
    const second = booking('second', '2026-05-11T08:00:00Z', '2026-05-11T09:00:00Z');
    const decision = decideOnePermission([second, first], { beforeMinutes: 0, afterMinutes: 15 }, now);

    expect(decision.permission?.bookingIds).toEqual(['first']);
    expect(decision.bookings[1]).toMatchObject({ bookingId: 'first', state: 'holder' });
    const waiting = decision.bookings[0]!;
    expect(waiting.state).toBe('waiting');
    if (waiting.state !== 'waiting') return;
    expect(waiting.heldBy).toEqual(['first']);
    // The first booking's access ends with its after-buffer: 09:15.
    expect(iso(waiting.writtenAt)).toBe('2026-05-04T09:15:00.000Z');
  });

  it('once the first booking has finished, the second holds the permission without anyone acting', () => {
    const first = booking('first', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z');
    const second = booking('second', '2026-05-11T08:00:00Z', '2026-05-11T09:00:00Z');
    const decision = decideOnePermission(
      [first, second],
      { beforeMinutes: 0, afterMinutes: 15 },
      new Date('2026-05-04T09:15:00Z'),
    );
    expect(decision.bookings.map((b) => b.state)).toEqual(['finished', 'holder']);
    expect(decision.permission?.bookingIds).toEqual(['second']);
  });

  it('a booking is not finished until its after-buffer has passed', () => {
    const first = booking('first', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z');
    const decision = decideOnePermission(
      [first],
      { beforeMinutes: 0, afterMinutes: 15 },
      new Date('2026-05-04T09:14:59Z'),
    );
    expect(decision.bookings[0]?.state).toBe('holder');
  });

  it('bookings that touch are served by one permission', () => {
    const morning = booking('morning', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z');
    const next = booking('next', '2026-05-04T09:00:00Z', '2026-05-04T10:00:00Z');
    const decision = decideOnePermission([next, morning], NONE, now);
    expect(decision.bookings.map((b) => b.state)).toEqual(['holder', 'holder']);
    expect(decision.permission?.bookingIds).toEqual(['morning', 'next']);
    expect(iso(decision.permission?.window.start)).toBe('2026-05-04T08:00:00.000Z');
    expect(iso(decision.permission?.window.end)).toBe('2026-05-04T10:00:00.000Z');
  });

  it('buffers can make bookings touch: the after-buffer of one reaches the before-buffer of the next', () => {
    const first = booking('first', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z');
    const second = booking('second', '2026-05-04T09:30:00Z', '2026-05-04T10:00:00Z');
    const apart = decideOnePermission([first, second], { beforeMinutes: 10, afterMinutes: 10 }, now);
    expect(apart.bookings.map((b) => b.state)).toEqual(['holder', 'waiting']);
    const touching = decideOnePermission([first, second], { beforeMinutes: 15, afterMinutes: 15 }, now);
    expect(touching.bookings.map((b) => b.state)).toEqual(['holder', 'holder']);
    expect(iso(touching.permission?.window.end)).toBe('2026-05-04T10:15:00.000Z');
  });

  it('a chain of overlapping bookings is served by one permission covering all of them', () => {
    const a = booking('a', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z');
    const b = booking('b', '2026-05-04T08:30:00Z', '2026-05-04T10:00:00Z');
    const c = booking('c', '2026-05-04T09:45:00Z', '2026-05-04T11:00:00Z'); // overlaps b, not a
    const d = booking('d', '2026-05-04T11:30:00Z', '2026-05-04T12:00:00Z');
    const decision = decideOnePermission([d, c, b, a], NONE, now);
    expect(decision.permission?.bookingIds).toEqual(['a', 'b', 'c']);
    expect(iso(decision.permission?.window.end)).toBe('2026-05-04T11:00:00.000Z');
    expect(decision.bookings[0]).toMatchObject({ bookingId: 'd', state: 'waiting', heldBy: ['a', 'b', 'c'] });
  });

  it('a third booking is written when the second one ends, not the first', () => {
    const decision = decideOnePermission(
      [
        booking('monday', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z'),
        booking('tuesday', '2026-05-05T08:00:00Z', '2026-05-05T09:00:00Z'),
        booking('wednesday', '2026-05-06T08:00:00Z', '2026-05-06T09:00:00Z'),
      ],
      NONE,
      now,
    );
    expect(decision.queue.map((group) => [group.bookingIds, iso(group.writtenAt)])).toEqual([
      [['monday'], undefined],
      [['tuesday'], '2026-05-04T09:00:00.000Z'],
      [['wednesday'], '2026-05-05T09:00:00.000Z'],
    ]);
    expect(decision.bookings[2]).toMatchObject({ state: 'waiting', heldBy: ['monday'] });
  });

  it('a cancelled booking is ignored: the next booking holds the permission', () => {
    const decision = decideOnePermission(
      [
        booking('cancelled', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z', { status: 'cancelled' }),
        booking('kept', '2026-05-05T08:00:00Z', '2026-05-05T09:00:00Z'),
      ],
      NONE,
      now,
    );
    expect(decision.bookings.map((b) => b.state)).toEqual(['cancelled', 'holder']);
    expect(decision.permission?.bookingIds).toEqual(['kept']);
  });

  it('when every booking has finished or been cancelled the apartment holds no permission for the facility', () => {
    const decision = decideOnePermission(
      [
        booking('past', '2026-05-01T08:00:00Z', '2026-05-01T09:00:00Z'),
        booking('cancelled', '2026-05-08T08:00:00Z', '2026-05-08T09:00:00Z', { status: 'cancelled' }),
      ],
      NONE,
      now,
    );
    expect(decision.permission).toBeNull();
    expect(decision.queue).toEqual([]);
    expect(decision.bookings.map((b) => b.state)).toEqual(['finished', 'cancelled']);
  });

  it('bookings starting at the same time are ordered by id, whatever order they arrive in', () => {
    const x = booking('x', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z');
    const y = booking('y', '2026-05-04T08:00:00Z', '2026-05-04T08:30:00Z');
    const one = decideOnePermission([x, y], NONE, now);
    const other = decideOnePermission([y, x], NONE, now);
    expect(one.queue).toEqual(other.queue);
    expect(one.permission?.bookingIds).toEqual(['x', 'y']);
  });

  it('bookings of other apartments or other facilities never wait for each other', () => {
    const decisions = decidePermissions(
      [
        booking('gym-501', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z'),
        booking('gym-502', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z', { apartmentId: 'apt-502' }),
        booking('pool-501', '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z', { facilityId: 'pool' }),
        booking('gym-501-later', '2026-05-06T08:00:00Z', '2026-05-06T09:00:00Z'),
      ],
      (facilityId) => (facilityId === 'pool' ? { beforeMinutes: 30, afterMinutes: 0 } : NONE),
      now,
    );
    expect(
      decisions.map((d) => [d.apartmentId, d.facilityId, d.permission?.bookingIds, d.bookings.map((b) => b.state)]),
    ).toEqual([
      ['apt-501', 'gym', ['gym-501'], ['holder', 'waiting']],
      ['apt-501', 'pool', ['pool-501'], ['holder']],
      ['apt-502', 'gym', ['gym-502'], ['holder']],
    ]);
    // Each facility's own buffers apply.
    expect(iso(decisions[1]?.permission?.window.start)).toBe('2026-05-04T07:30:00.000Z');
  });
});

/**
 * "May a card of access level G open zone Z at local time T?", from the simulator's state alone —
 * including on the two DST-change days of a building in Sydney.
 */
import { describe, expect, it } from 'vitest';
import { allDays } from '../../src/shared/salto/model.ts';
import { decideAccess } from '../../src/simulator/access.ts';
import { type SiteSeed, siteFromSeed } from '../../src/simulator/state.ts';

const sundayOneToFour = { start: '01:00:00', end: '04:00:00', days: { ...allDays(false), sunday: true } };

function site(extra: Partial<SiteSeed> = {}) {
  return siteFromSeed(
    {
      timeZone: 'Australia/Sydney',
      zones: [{ id: 'GYM' }, { id: 'POOL' }, { id: 'MAIN-ENTRANCE' }],
      timetables: [
        { id: 200, name: 'Sunday 01:00-04:00', intervals: [sundayOneToFour] },
        {
          id: 201,
          name: 'Evenings to midnight',
          intervals: [{ start: '18:00:00', end: '24:00:00', days: allDays(true) }],
        },
        {
          id: 202,
          name: 'Holidays only',
          intervals: [{ start: '00:00:00', end: '24:00:00', days: { ...allDays(false), holiday: true } }],
        },
      ],
      holidays: ['2026-12-25'],
      accessLevels: [
        {
          id: 'APT-501-56',
          zonePermissions: [
            { zoneId: 'MAIN-ENTRANCE', timetableId: 0, usePeriod: false },
            {
              zoneId: 'GYM',
              timetableId: 200,
              usePeriod: true,
              period: { startDate: '2026-04-05T00:00:00', endDate: '2026-10-04T24:00:00' },
            },
            {
              zoneId: 'POOL',
              timetableId: 201,
              usePeriod: true,
              period: { startDate: '2026-05-01T00:00:00', endDate: '2026-05-02T24:00:00' },
            },
          ],
        },
        { id: 'APT-502-56', zonePermissions: [{ zoneId: 'GYM', timetableId: 202, usePeriod: false }] },
      ],
      ...extra,
    },
    255,
  );
}

const open = (at: Date | string, zone = 'GYM', level = 'APT-501-56') => decideAccess(site(), level, zone, at).open;

describe('effective access from the SALTO state', () => {
  it('opens a permanent zone at any time (timetable 0, no period)', () => {
    expect(open('2031-02-03T03:04:05', 'MAIN-ENTRANCE')).toBe(true);
  });

  it('is closed for a zone the access level holds no permission for, or an unknown access level', () => {
    expect(decideAccess(site(), 'APT-501-56', 'BBQ', '2026-05-01T12:00:00')).toMatchObject({
      open: false,
      reason: expect.stringMatching(/no permission/),
    });
    expect(open('2026-05-01T12:00:00', 'GYM', 'APT-999-56')).toBe(false);
  });

  it('takes the period date-granular and inclusive at both ends', () => {
    expect(open('2026-04-30T23:59:59', 'POOL')).toBe(false);
    expect(open('2026-05-01T18:00:00', 'POOL')).toBe(true);
    expect(open('2026-05-02T23:59:59', 'POOL')).toBe(true); // end 24:00:00 closes the interval
    expect(open('2026-05-03T18:00:00', 'POOL')).toBe(false);
  });

  it('opens an interval at its start and closes it at its end', () => {
    expect(open('2026-05-01T17:59:59', 'POOL')).toBe(false);
    expect(open('2026-05-01T18:00:00', 'POOL')).toBe(true);
  });

  it('uses the Holiday day type on a holiday instead of the weekday', () => {
    expect(open('2026-12-25T10:00:00', 'GYM', 'APT-502-56')).toBe(true); // a Friday, but a holiday
    expect(open('2026-12-24T10:00:00', 'GYM', 'APT-502-56')).toBe(false);
  });

  describe('on the spring-forward day in Sydney (2026-10-04, 02:00 -> 03:00)', () => {
    // Local 01:00 is 2026-10-03T15:00Z (+10); local 03:00 is 2026-10-03T16:00Z (+11); 04:00 is 17:00Z.
    it.each([
      ['2026-10-03T14:59:59Z', false, 'just before 01:00 local'],
      ['2026-10-03T15:00:00Z', true, '01:00 local, the interval starts'],
      ['2026-10-03T15:59:59Z', true, '01:59:59 local, the last second before the gap'],
      ['2026-10-03T16:00:00Z', true, '03:00 local, right after the gap'],
      ['2026-10-03T16:59:59Z', true, '03:59:59 local'],
      ['2026-10-03T17:00:00Z', false, '04:00 local, the interval has ended'],
    ])('at %s the gym is open=%s (%s)', (instant, expected) => {
      expect(open(new Date(instant))).toBe(expected);
    });

    it('is open for exactly two real hours, as the 01:00-04:00 wall-clock window loses an hour', () => {
      let openSeconds = 0;
      for (let t = Date.parse('2026-10-03T13:00:00Z'); t < Date.parse('2026-10-03T19:00:00Z'); t += 60_000) {
        if (open(new Date(t))) openSeconds += 60;
      }
      expect(openSeconds).toBe(2 * 3600);
    });
  });

  describe('on the fall-back day in Sydney (2026-04-05, 03:00 -> 02:00)', () => {
    // Local 01:00 is 2026-04-04T14:00Z (+11); 02:00-03:00 happens twice; local 04:00 is 2026-04-04T18:00Z (+10).
    it.each([
      ['2026-04-04T13:59:59Z', false, 'just before 01:00 local'],
      ['2026-04-04T14:00:00Z', true, '01:00 local (+11)'],
      ['2026-04-04T15:30:00Z', true, 'the first 02:30 local (+11)'],
      ['2026-04-04T16:30:00Z', true, 'the second 02:30 local (+10)'],
      ['2026-04-04T17:59:59Z', true, '03:59:59 local (+10)'],
      ['2026-04-04T18:00:00Z', false, '04:00 local, the interval has ended'],
    ])('at %s the gym is open=%s (%s)', (instant, expected) => {
      expect(open(new Date(instant))).toBe(expected);
    });

    it('is open for four real hours, as the 01:00-04:00 wall-clock window gains an hour', () => {
      let openSeconds = 0;
      for (let t = Date.parse('2026-04-04T12:00:00Z'); t < Date.parse('2026-04-04T20:00:00Z'); t += 60_000) {
        if (open(new Date(t))) openSeconds += 60;
      }
      expect(openSeconds).toBe(4 * 3600);
    });
  });

  it('is closed on the Sunday after the period, at the same wall-clock hours', () => {
    expect(open('2026-10-11T02:00:00')).toBe(false);
    expect(open('2026-10-04T03:30:00')).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { opensAt, type PeriodAndTimetable, periodAndTimetable } from '../../src/shared/access/index.ts';
import { parseLocalDateTime } from '../../src/shared/time/local-time.ts';
import { disagreements, doorOpens, everyMinuteAround, windowOf } from './door.ts';

const SYDNEY = 'Australia/Sydney';
const ADELAIDE = 'Australia/Adelaide';
const KATHMANDU = 'Asia/Kathmandu';
const LOS_ANGELES = 'America/Los_Angeles';

/** Compute, and prove with the door that it opens exactly in the window, minute by minute. */
function exactly(start: string, end: string, timeZone: string): PeriodAndTimetable {
  const window = windowOf(start, end);
  const permission = periodAndTimetable(window, timeZone);
  expect(permission.exact).toBe(true);
  expect(disagreements(permission, timeZone, permission.roundedWindow, everyMinuteAround(window))).toEqual([]);
  return permission;
}

function hours(permission: PeriodAndTimetable) {
  const { timetable } = permission;
  return timetable.kind === 'always'
    ? 'always'
    : timetable.intervals.map((interval) => `${interval.days.join('+')} ${interval.start}-${interval.end}`);
}

describe('period and timetable of a booking', () => {
  it('a one-hour gym booking opens the gym that hour, on that date, and at no other time', () => {
    const permission = exactly('2026-05-04T18:00:00+10:00', '2026-05-04T19:00:00+10:00', SYDNEY);
    expect(permission.period).toEqual({ startDate: '2026-05-04', endDate: '2026-05-04' });
    expect(hours(permission)).toEqual(['Monday 18:00:00-19:00:00']);
    expect(permission.notes).toEqual([]);
  });

  it('a booking across midnight opens Monday evening and Tuesday morning only', () => {
    const permission = exactly('2026-05-04T22:00:00+10:00', '2026-05-05T02:00:00+10:00', SYDNEY);
    expect(permission.period).toEqual({ startDate: '2026-05-04', endDate: '2026-05-05' });
    expect(hours(permission)).toEqual(['Tuesday 00:00:00-02:00:00', 'Monday 22:00:00-24:00:00']);
  });

  it('a booking ending exactly at midnight does not reach into the next date', () => {
    const permission = exactly('2026-05-04T20:00:00+10:00', '2026-05-05T00:00:00+10:00', SYDNEY);
    expect(permission.period).toEqual({ startDate: '2026-05-04', endDate: '2026-05-04' });
    expect(hours(permission)).toEqual(['Monday 20:00:00-24:00:00']);
  });

  it('a three-day booking opens from the first evening, all of the middle day, until the last morning', () => {
    const permission = exactly('2026-05-04T18:00:00+10:00', '2026-05-06T09:00:00+10:00', SYDNEY);
    expect(hours(permission)).toEqual([
      'Wednesday 00:00:00-09:00:00',
      'Tuesday 00:00:00-24:00:00',
      'Monday 18:00:00-24:00:00',
    ]);
  });

  it('whole days share one interval ticking several weekdays', () => {
    const permission = exactly('2026-05-04T00:00:00+10:00', '2026-05-07T00:00:00+10:00', SYDNEY);
    expect(hours(permission)).toEqual(['Monday+Tuesday+Wednesday 00:00:00-24:00:00']);
  });

  it('a booking covering seven dates is still exact', () => {
    const permission = exactly('2026-05-04T10:00:00+10:00', '2026-05-10T16:00:00+10:00', SYDNEY);
    expect(permission.period).toEqual({ startDate: '2026-05-04', endDate: '2026-05-10' });
    expect(hours(permission)).toEqual([
      'Sunday 00:00:00-16:00:00',
      'Tuesday+Wednesday+Thursday+Friday+Saturday 00:00:00-24:00:00',
      'Monday 10:00:00-24:00:00',
    ]);
  });

  it('a booking covering eight dates gets whole-day access, and the manager is told why', () => {
    const permission = periodAndTimetable(windowOf('2026-05-04T10:00:00+10:00', '2026-05-11T09:00:00+10:00'), SYDNEY);
    expect(permission.exact).toBe(false);
    expect(permission.timetable).toEqual({ kind: 'always' });
    expect(permission.period).toEqual({ startDate: '2026-05-04', endDate: '2026-05-11' });
    expect(permission.notes.join('\n')).toContain(
      'windows spanning more than 7 days get whole-day access from 2026-05-04 to 2026-05-11',
    );
    expect(opensAt(permission, parseLocalDateTime('2026-05-04T00:00:00'))).toBe(true);
    expect(opensAt(permission, parseLocalDateTime('2026-05-11T23:59:59'))).toBe(true);
    expect(opensAt(permission, parseLocalDateTime('2026-05-12T00:00:00'))).toBe(false);
  });

  it('a season booking gets whole days from its first date to the last, not the date it ends at midnight', () => {
    const permission = periodAndTimetable(windowOf('2026-05-04T10:00:00+10:00', '2026-08-01T00:00:00+10:00'), SYDNEY);
    expect(permission.timetable).toEqual({ kind: 'always' });
    expect(permission.period).toEqual({ startDate: '2026-05-04', endDate: '2026-07-31' });
  });

  it('booking times off the whole minute are rounded outwards, and the note says so', () => {
    const window = windowOf('2026-05-04T18:00:30+10:00', '2026-05-04T18:59:10+10:00');
    const permission = periodAndTimetable(window, SYDNEY);
    expect(permission.exact).toBe(true);
    expect(permission.rounded).toBe(true);
    expect(hours(permission)).toEqual(['Monday 18:00:00-19:00:00']);
    expect(permission.roundedWindow.start.toISOString()).toBe('2026-05-04T08:00:00.000Z');
    expect(permission.roundedWindow.end.toISOString()).toBe('2026-05-04T09:00:00.000Z');
    expect(permission.notes).toEqual([
      'times are rounded to whole minutes: the door opens from 2026-05-04 18:00:00 until 2026-05-04 19:00:00 (Australia/Sydney)',
    ]);
  });

  it('the same instants give local hours in the building, not UTC (Kathmandu, +5:45)', () => {
    const permission = exactly('2026-05-04T18:00:00Z', '2026-05-04T19:00:00Z', KATHMANDU);
    expect(permission.period).toEqual({ startDate: '2026-05-04', endDate: '2026-05-05' });
    expect(hours(permission)).toEqual(['Tuesday 00:00:00-00:45:00', 'Monday 23:45:00-24:00:00']);
  });

  it('in Kathmandu an evening booking opens at its local hours', () => {
    const permission = exactly('2026-10-04T18:00:00+05:45', '2026-10-04T19:30:00+05:45', KATHMANDU);
    expect(hours(permission)).toEqual(['Sunday 18:00:00-19:30:00']);
  });
});

describe('when the clocks change', () => {
  it('in Sydney, on the night clocks go forward, a 01:30 to 03:30 booking is exact (it lasts one hour)', () => {
    const permission = exactly('2026-10-04T01:30:00+10:00', '2026-10-04T03:30:00+11:00', SYDNEY);
    expect(hours(permission)).toEqual(['Sunday 01:30:00-03:30:00']);
  });

  it('in Sydney, a Saturday night booking across the spring-forward opens Saturday evening and Sunday morning only', () => {
    const permission = exactly('2026-10-03T22:00:00+10:00', '2026-10-04T04:00:00+11:00', SYDNEY);
    expect(hours(permission)).toEqual(['Sunday 00:00:00-04:00:00', 'Saturday 22:00:00-24:00:00']);
  });

  it('in Sydney, a booking covering the whole repeated hour when clocks go back is exact', () => {
    const permission = exactly('2026-04-05T01:00:00+11:00', '2026-04-05T04:00:00+10:00', SYDNEY);
    expect(hours(permission)).toEqual(['Sunday 01:00:00-04:00:00']);
  });

  it('in Sydney, a booking that starts as the repeated hour first begins is exact', () => {
    const permission = exactly('2026-04-05T02:00:00+11:00', '2026-04-05T04:00:00+10:00', SYDNEY);
    expect(hours(permission)).toEqual(['Sunday 02:00:00-04:00:00']);
  });

  it('in Sydney, a booking starting in the second pass of the repeated hour also opens in the first pass, and says so', () => {
    const window = windowOf('2026-04-05T02:30:00+10:00', '2026-04-05T05:00:00+10:00');
    const permission = periodAndTimetable(window, SYDNEY);
    expect(permission.exact).toBe(false);
    expect(hours(permission)).toEqual(['Sunday 02:30:00-05:00:00']);
    expect(permission.notes.join('\n')).toContain(
      'the window starts at 2026-04-05 02:30:00 (Australia/Sydney), inside the hour that repeats when clocks go back',
    );
    // The extra access is exactly the first pass 02:30-03:00 (AEDT), i.e. half an hour.
    expect(disagreements(permission, SYDNEY, window, everyMinuteAround(window))).toHaveLength(30);
    expect(doorOpens(permission, Date.parse('2026-04-05T02:30:00+11:00'), SYDNEY)).toBe(true);
    expect(doorOpens(permission, Date.parse('2026-04-05T02:29:00+11:00'), SYDNEY)).toBe(false);
    expect(doorOpens(permission, Date.parse('2026-04-05T02:00:00+10:00'), SYDNEY)).toBe(false);
  });

  it('in Adelaide (+9:30), a booking across the spring-forward night opens Saturday evening and Sunday morning only', () => {
    const permission = exactly('2026-10-03T21:00:00+09:30', '2026-10-04T04:00:00+10:30', ADELAIDE);
    expect(permission.period).toEqual({ startDate: '2026-10-03', endDate: '2026-10-04' });
    expect(hours(permission)).toEqual(['Sunday 00:00:00-04:00:00', 'Saturday 21:00:00-24:00:00']);
  });

  it('in Adelaide, a booking across the fall-back night is exact', () => {
    const permission = exactly('2026-04-04T23:00:00+10:30', '2026-04-05T06:00:00+09:30', ADELAIDE);
    expect(hours(permission)).toEqual(['Sunday 00:00:00-06:00:00', 'Saturday 23:00:00-24:00:00']);
  });

  it('in Adelaide, a booking ending in the first pass of the repeated hour also opens in the second pass, and says so', () => {
    const window = windowOf('2026-04-05T01:00:00+10:30', '2026-04-05T02:15:00+10:30');
    const permission = periodAndTimetable(window, ADELAIDE);
    expect(permission.exact).toBe(false);
    expect(hours(permission)).toEqual(['Sunday 01:00:00-02:15:00']);
    expect(permission.notes.join('\n')).toContain('the window ends at 2026-04-05 02:15:00');
    // Second pass 02:00-02:15 (ACST) opens too: 15 extra minutes.
    expect(disagreements(permission, ADELAIDE, window, everyMinuteAround(window))).toHaveLength(15);
  });

  it('in Los Angeles, a booking across the spring-forward gap is exact', () => {
    const permission = exactly('2026-03-08T01:00:00-08:00', '2026-03-08T04:00:00-07:00', LOS_ANGELES);
    expect(hours(permission)).toEqual(['Sunday 01:00:00-04:00:00']);
  });

  it('in Los Angeles, a Halloween night booking across the fall-back is exact', () => {
    const permission = exactly('2026-10-31T22:00:00-07:00', '2026-11-01T03:00:00-08:00', LOS_ANGELES);
    expect(hours(permission)).toEqual(['Sunday 00:00:00-03:00:00', 'Saturday 22:00:00-24:00:00']);
  });

  it('in Los Angeles, a booking ending in the first pass of 01:00-02:00 also opens in the second pass', () => {
    const window = windowOf('2026-11-01T00:00:00-07:00', '2026-11-01T01:30:00-07:00');
    const permission = periodAndTimetable(window, LOS_ANGELES);
    expect(permission.exact).toBe(false);
    expect(doorOpens(permission, Date.parse('2026-11-01T01:29:00-08:00'), LOS_ANGELES)).toBe(true);
    expect(doorOpens(permission, Date.parse('2026-11-01T01:30:00-08:00'), LOS_ANGELES)).toBe(false);
  });

  it('a booking lying inside the repeated hour across the change opens only the wall times it covers', () => {
    // 02:40 first pass (AEDT) to 02:10 second pass (AEST): 30 minutes, two pieces of Sunday wall time.
    const window = windowOf('2026-04-05T02:40:00+11:00', '2026-04-05T02:10:00+10:00');
    const permission = periodAndTimetable(window, SYDNEY);
    expect(permission.exact).toBe(false);
    expect(hours(permission)).toEqual(['Sunday 02:00:00-02:10:00', 'Sunday 02:40:00-03:00:00']);
  });
});

describe('holidays and special days', () => {
  const window = windowOf('2026-05-04T18:00:00+10:00', '2026-05-05T09:00:00+10:00');

  it('by default only weekdays are ticked: on a date the site marks as a holiday the booking does not open', () => {
    const permission = periodAndTimetable(window, SYDNEY);
    expect(opensAt(permission, parseLocalDateTime('2026-05-04T18:30:00'))).toBe(true);
    expect(opensAt(permission, parseLocalDateTime('2026-05-04T18:30:00'), 'Holiday')).toBe(false);
  });

  it('ticking Holiday too opens a marked date for the union of the booking hours', () => {
    const permission = periodAndTimetable(window, SYDNEY, { alsoTick: ['Holiday'] });
    expect(hours(permission)).toEqual(['Tuesday+Holiday 00:00:00-09:00:00', 'Monday+Holiday 18:00:00-24:00:00']);
    expect(opensAt(permission, parseLocalDateTime('2026-05-04T18:30:00'), 'Holiday')).toBe(true);
    // The trade-off: on a holiday Monday the door also opens Monday morning.
    expect(opensAt(permission, parseLocalDateTime('2026-05-04T08:00:00'), 'Holiday')).toBe(true);
  });
});

describe("dates the site's calendar marks (specialDates)", () => {
  // 2026-05-04 is a Monday.
  const at = (local: string) => parseLocalDateTime(local);

  it('a booking on a holiday opens on that holiday exactly as on any other date', () => {
    const specialDates = new Map([['2026-05-04', 'Holiday' as const]]);
    const permission = periodAndTimetable(windowOf('2026-05-04T18:00:00+10:00', '2026-05-04T19:00:00+10:00'), SYDNEY, {
      specialDates,
    });
    expect(permission.exact).toBe(true);
    expect(hours(permission)).toEqual(['Monday+Holiday 18:00:00-19:00:00']);
    expect(opensAt(permission, at('2026-05-04T18:30:00'), 'Holiday')).toBe(true);
    expect(opensAt(permission, at('2026-05-04T19:00:00'), 'Holiday')).toBe(false);
    expect(opensAt(permission, at('2026-05-04T17:59:00'), 'Holiday')).toBe(false);
  });

  it('a longer period gives a holiday inside it only that date’s hours', () => {
    // Monday 18:00 to Wednesday 09:00; Wednesday is a holiday.
    const specialDates = new Map([['2026-05-06', 'Holiday' as const]]);
    const permission = periodAndTimetable(windowOf('2026-05-04T18:00:00+10:00', '2026-05-06T09:00:00+10:00'), SYDNEY, {
      specialDates,
    });
    expect(permission.exact).toBe(true);
    expect(opensAt(permission, at('2026-05-06T08:59:00'), 'Holiday')).toBe(true);
    expect(opensAt(permission, at('2026-05-06T09:00:00'), 'Holiday')).toBe(false);
    expect(opensAt(permission, at('2026-05-06T20:00:00'), 'Holiday')).toBe(false);
    // Marked dates outside the period never open.
    expect(opensAt(permission, at('2026-05-07T08:00:00'), 'Holiday')).toBe(false);
  });

  it('two marked dates of one type share the hours common to both, never more (not exact, with a note)', () => {
    const specialDates = new Map([
      ['2026-05-04', 'Holiday' as const],
      ['2026-05-06', 'Holiday' as const],
    ]);
    const permission = periodAndTimetable(windowOf('2026-05-04T08:00:00+10:00', '2026-05-06T12:00:00+10:00'), SYDNEY, {
      specialDates,
    });
    expect(permission.exact).toBe(false);
    expect(permission.notes.join(' ')).toMatch(/2026-05-04, 2026-05-06 are marked Holiday/);
    // Monday is covered 08:00-24:00 and Wednesday 00:00-12:00: Holiday opens 08:00-12:00 only.
    expect(opensAt(permission, at('2026-05-04T09:00:00'), 'Holiday')).toBe(true);
    expect(opensAt(permission, at('2026-05-06T07:00:00'), 'Holiday')).toBe(false);
    expect(opensAt(permission, at('2026-05-04T13:00:00'), 'Holiday')).toBe(false);
    // The weekday intervals are unchanged.
    expect(opensAt(permission, at('2026-05-05T03:00:00'))).toBe(true);
  });

  it('Special1 and Special2 dates get their own day types', () => {
    const specialDates = new Map([
      ['2026-05-04', 'Special1' as const],
      ['2026-05-05', 'Special2' as const],
    ]);
    const permission = periodAndTimetable(windowOf('2026-05-04T18:00:00+10:00', '2026-05-05T09:00:00+10:00'), SYDNEY, {
      specialDates,
    });
    expect(permission.exact).toBe(true);
    expect(opensAt(permission, at('2026-05-04T18:30:00'), 'Special1')).toBe(true);
    expect(opensAt(permission, at('2026-05-04T08:30:00'), 'Special1')).toBe(false);
    expect(opensAt(permission, at('2026-05-05T08:30:00'), 'Special2')).toBe(true);
    expect(opensAt(permission, at('2026-05-05T18:30:00'), 'Special2')).toBe(false);
  });
});

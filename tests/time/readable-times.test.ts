// Times as alert emails and the action page write them: the zone abbreviation people in that zone use,
// and an open-ended window (an infinite bound) said in words, never "Invalid time value".
import { describe, expect, it } from 'vitest';
import {
  describeLocalDate,
  describeLocalDateTime,
  describeLocalRange,
  isReadableInstant,
} from '../../src/shared/time/local-time.ts';

describe('zone abbreviations', () => {
  const winter = new Date('2026-01-15T12:00:00Z');
  const summer = new Date('2026-07-15T12:00:00Z');
  it.each([
    ['Europe/Berlin', 'CET', 'CEST'],
    ['Australia/Sydney', 'AEDT', 'AEST'],
    ['Australia/Perth', 'AWST', 'AWST'],
    ['Europe/London', 'GMT', 'BST'],
    ['America/New_York', 'EST', 'EDT'],
    ['Pacific/Auckland', 'NZDT', 'NZST'],
    ['Asia/Kolkata', 'IST', 'IST'],
  ])('%s is written %s in January and %s in July', (zone, january, july) => {
    expect(describeLocalDateTime(winter, zone)).toMatch(new RegExp(` ${january}$`));
    expect(describeLocalDateTime(summer, zone)).toMatch(new RegExp(` ${july}$`));
  });

  it('a zone no English locale names keeps its offset', () => {
    expect(describeLocalDateTime(winter, 'Asia/Tokyo')).toBe('Thu 15 Jan 2026, 21:00 GMT+9');
  });

  it('Berlin across its autumn change: both abbreviations in one range', () => {
    expect(describeLocalRange('2026-10-24T22:00:00Z', '2026-10-25T02:00:00Z', 'Europe/Berlin')).toBe(
      'Sun 25 Oct 2026, 00:00 CEST – Sun 25 Oct 2026, 03:00 CET',
    );
  });
});

describe('open-ended windows', () => {
  const start = new Date('2026-12-03T07:00:00Z');
  const never = new Date(Number.POSITIVE_INFINITY);
  const always = new Date(Number.NEGATIVE_INFINITY);

  it('an infinite or invalid instant is not readable', () => {
    expect(isReadableInstant(start)).toBe(true);
    for (const bad of [never, always, 'infinity', '-infinity', null, undefined, Number.NaN]) {
      expect(isReadableInstant(bad as Date)).toBe(false);
    }
  });

  it('says open-ended where a bound is infinite', () => {
    const tz = 'Australia/Sydney';
    expect(describeLocalRange(start, never, tz)).toBe('from Thu 3 Dec 2026, 18:00 AEDT, open-ended');
    expect(describeLocalRange(always, start, tz)).toBe('open-ended, until Thu 3 Dec 2026, 18:00 AEDT');
    expect(describeLocalRange(always, never, tz)).toBe('open-ended (no start or end)');
    expect(describeLocalDateTime(never, tz)).toBe('open-ended');
    expect(describeLocalDate('infinity', tz)).toBe('open-ended');
  });
});

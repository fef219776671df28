import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatLocalDateTime,
  instantAtLocal,
  instantsAtLocal,
  localDateTimeAt,
  parseLocalDateTime,
  wallMsAt,
  weekdayOf,
} from '../../src/shared/time/local-time.ts';

const ZONES = [
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/Los_Angeles',
  'America/Santiago',
  'Europe/Dublin',
];

// 2026's clock changes of those zones (UTC).
const CLOCK_CHANGES = [
  '2026-04-04T16:00:00Z', // Sydney falls back
  '2026-10-03T16:00:00Z', // Sydney springs forward
  '2026-04-04T15:00:00Z', // Lord Howe falls back half an hour
  '2026-10-03T15:30:00Z', // Lord Howe springs forward half an hour
  '2026-03-08T10:00:00Z', // Los Angeles springs forward
  '2026-11-01T09:00:00Z', // Los Angeles falls back
  '2026-04-05T03:00:00Z', // Santiago falls back at midnight
  '2026-09-06T04:00:00Z', // Santiago springs forward at midnight
  '2026-03-29T01:00:00Z', // Dublin springs forward
  '2026-10-25T01:00:00Z', // Dublin falls back
];

/** The wall clock straight from Intl, as wall ms (what wallMsAt remembers per second). */
function intlWallMs(instantMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instantMs);
  const field = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const date = new Date(0);
  date.setUTCFullYear(field('year'), field('month') - 1, field('day'));
  date.setUTCHours(field('hour'), field('minute'), field('second'), 0);
  const subSecond = ((instantMs % 1000) + 1000) % 1000;
  return date.getTime() + subSecond;
}

describe('wallMsAt', () => {
  it('reads what Intl reads, to the millisecond, asked once or again (its memo of offsets)', () => {
    // Instants anywhere in 1900..2100, and near clock changes (to the millisecond) where a memo keyed
    // too coarsely would hand one side's offset to the other.
    const anywhere = fc.integer({ min: -2_208_988_800_000, max: 4_102_444_800_000 });
    const nearClockChange = fc
      .tuple(fc.constantFrom(...CLOCK_CHANGES), fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }))
      .map(([at, delta]) => Date.parse(at) + delta);
    fc.assert(
      fc.property(fc.oneof(anywhere, nearClockChange), fc.constantFrom(...ZONES), (instant, zone) => {
        const expected = intlWallMs(instant, zone);
        expect(wallMsAt(instant, zone)).toBe(expected);
        expect(wallMsAt(instant, zone)).toBe(expected);
      }),
      { numRuns: 5_000 },
    );
  });

  it('around a fall-back hour, each pass through it keeps its own offset', () => {
    // Sydney, 2026-04-05 03:00 AEDT -> 02:00 AEST: 02:30 local happens twice, an hour apart.
    const first = Date.parse('2026-04-04T15:30:00Z');
    const second = Date.parse('2026-04-04T16:30:00Z');
    expect(wallMsAt(first, 'Australia/Sydney')).toBe(wallMsAt(second, 'Australia/Sydney'));
    expect(wallMsAt(first, 'Australia/Sydney') - first).toBe(11 * 3_600_000);
    expect(wallMsAt(second, 'Australia/Sydney') - second).toBe(10 * 3_600_000);
  });
});

const SYDNEY = 'Australia/Sydney';
const local = (text: string) => parseLocalDateTime(text);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('building-local wall time (Intl only)', () => {
  it('reads an instant as Sydney wall time, in summer (+11) and in winter (+10)', () => {
    expect(formatLocalDateTime(localDateTimeAt(new Date('2026-01-15T01:30:00Z'), SYDNEY))).toBe('2026-01-15T12:30:00');
    expect(formatLocalDateTime(localDateTimeAt(new Date('2026-07-15T01:30:00Z'), SYDNEY))).toBe('2026-07-15T11:30:00');
  });

  it('finds no instant for a wall time inside the spring-forward gap (Sydney 2026-10-04 02:30)', () => {
    expect(instantsAtLocal(local('2026-10-04T02:30:00'), SYDNEY)).toEqual([]);
    expect(instantAtLocal(local('2026-10-04T02:30:00'), SYDNEY).toISOString()).toBe('2026-10-03T16:30:00.000Z');
  });

  it('finds two instants for a wall time inside the fall-back overlap (Sydney 2026-04-05 02:30)', () => {
    expect(iso(instantsAtLocal(local('2026-04-05T02:30:00'), SYDNEY))).toEqual([
      '2026-04-04T15:30:00.000Z',
      '2026-04-04T16:30:00.000Z',
    ]);
    expect(instantAtLocal(local('2026-04-05T02:30:00'), SYDNEY).toISOString()).toBe('2026-04-04T15:30:00.000Z');
  });

  it('maps the edges of the gap and the overlap to one instant each', () => {
    expect(iso(instantsAtLocal(local('2026-10-04T01:59:59'), SYDNEY))).toEqual(['2026-10-03T15:59:59.000Z']);
    expect(iso(instantsAtLocal(local('2026-10-04T03:00:00'), SYDNEY))).toEqual(['2026-10-03T16:00:00.000Z']);
    expect(iso(instantsAtLocal(local('2026-04-05T03:00:00'), SYDNEY))).toEqual(['2026-04-04T17:00:00.000Z']);
  });

  it('round-trips every instant through wall time in several zones', () => {
    const zones = [
      'Australia/Sydney',
      'Europe/London',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kolkata',
      'UTC',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2040, 0, 1) / 1000 }),
        fc.constantFrom(...zones),
        (seconds, zone) => {
          const instant = new Date(seconds * 1000);
          expect(instantsAtLocal(localDateTimeAt(instant, zone), zone).map((d) => d.getTime())).toContain(
            instant.getTime(),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('knows the weekday of a date', () => {
    expect(weekdayOf(local('2026-10-04T00:00:00'))).toBe('Sunday');
    expect(weekdayOf(local('2026-04-05T00:00:00'))).toBe('Sunday');
    expect(weekdayOf(local('2026-05-01T00:00:00'))).toBe('Friday');
  });

  it('rejects impossible wall times and unknown zones', () => {
    expect(() => parseLocalDateTime('2026-02-30T00:00:00')).toThrow();
    expect(() => parseLocalDateTime('2026-05-01T24:00:00')).toThrow();
    expect(() => localDateTimeAt(new Date(), 'Mars/Olympus')).toThrow(RangeError);
  });
});

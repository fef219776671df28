import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatLocalDateTime,
  fromZoned,
  fromZonedCompatible,
  parseLocalDateTime,
  toZoned,
  weekdayOf,
} from '../../src/shared/time/zoned.ts';

const SYDNEY = 'Australia/Sydney';
const local = (text: string) => parseLocalDateTime(text);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('building-local wall time (Intl only)', () => {
  it('reads an instant as Sydney wall time, in summer (+11) and in winter (+10)', () => {
    expect(formatLocalDateTime(toZoned(new Date('2026-01-15T01:30:00Z'), SYDNEY))).toBe('2026-01-15T12:30:00');
    expect(formatLocalDateTime(toZoned(new Date('2026-07-15T01:30:00Z'), SYDNEY))).toBe('2026-07-15T11:30:00');
  });

  it('finds no instant for a wall time inside the spring-forward gap (Sydney 2026-10-04 02:30)', () => {
    expect(fromZoned(local('2026-10-04T02:30:00'), SYDNEY)).toEqual([]);
    expect(fromZonedCompatible(local('2026-10-04T02:30:00'), SYDNEY).toISOString()).toBe('2026-10-03T16:30:00.000Z');
  });

  it('finds two instants for a wall time inside the fall-back overlap (Sydney 2026-04-05 02:30)', () => {
    expect(iso(fromZoned(local('2026-04-05T02:30:00'), SYDNEY))).toEqual([
      '2026-04-04T15:30:00.000Z',
      '2026-04-04T16:30:00.000Z',
    ]);
    expect(fromZonedCompatible(local('2026-04-05T02:30:00'), SYDNEY).toISOString()).toBe('2026-04-04T15:30:00.000Z');
  });

  it('maps the edges of the gap and the overlap to one instant each', () => {
    expect(iso(fromZoned(local('2026-10-04T01:59:59'), SYDNEY))).toEqual(['2026-10-03T15:59:59.000Z']);
    expect(iso(fromZoned(local('2026-10-04T03:00:00'), SYDNEY))).toEqual(['2026-10-03T16:00:00.000Z']);
    expect(iso(fromZoned(local('2026-04-05T03:00:00'), SYDNEY))).toEqual(['2026-04-04T17:00:00.000Z']);
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
          expect(fromZoned(toZoned(instant, zone), zone).map((d) => d.getTime())).toContain(instant.getTime());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('knows the weekday of a date', () => {
    expect(weekdayOf(local('2026-10-04T00:00:00'))).toBe(0); // Sunday
    expect(weekdayOf(local('2026-04-05T00:00:00'))).toBe(0);
    expect(weekdayOf(local('2026-05-01T00:00:00'))).toBe(5); // Friday
  });

  it('rejects impossible wall times and unknown zones', () => {
    expect(() => parseLocalDateTime('2026-02-30T00:00:00')).toThrow();
    expect(() => parseLocalDateTime('2026-05-01T24:00:00')).toThrow();
    expect(() => toZoned(new Date(), 'Mars/Olympus')).toThrow(RangeError);
  });
});

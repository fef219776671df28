import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wallMsAt } from '../../src/shared/access/local-time.ts';

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

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { periodAndTimetable } from '../../src/shared/access/index.ts';
import { DAY, doorOpens, HOUR, MINUTE, wallClock } from './door.ts';

// Zones with the shapes that matter: whole-hour DST (Sydney, Los Angeles), half-hour base offset
// (Adelaide), quarter-hour offset without DST (Kathmandu), a half-hour DST shift (Lord Howe), and DST
// changes at local midnight (Santiago).
const ZONES = [
  'Australia/Sydney',
  'Australia/Adelaide',
  'Asia/Kathmandu',
  'America/Los_Angeles',
  'Australia/Lord_Howe',
  'America/Santiago',
] as const;

// The 2026 clock changes of those zones (and one quiet day), so most windows meet one.
const ANCHORS = [
  '2026-04-04T15:00:00Z', // Lord Howe falls back 02:00 -> 01:30
  '2026-04-04T16:00:00Z', // Sydney falls back 03:00 -> 02:00
  '2026-04-04T16:30:00Z', // Adelaide falls back 03:00 -> 02:00
  '2026-10-03T15:30:00Z', // Lord Howe springs forward 02:00 -> 02:30
  '2026-10-03T16:00:00Z', // Sydney springs forward 02:00 -> 03:00
  '2026-10-03T16:30:00Z', // Adelaide springs forward 02:00 -> 03:00
  '2026-03-08T10:00:00Z', // Los Angeles springs forward 02:00 -> 03:00
  '2026-11-01T09:00:00Z', // Los Angeles falls back 02:00 -> 01:00
  '2026-04-05T03:00:00Z', // Santiago falls back at midnight
  '2026-09-06T04:00:00Z', // Santiago springs forward at midnight
  '2026-07-15T00:00:00Z', // nothing happening
].map(Date.parse);

const window = (timeZone: string, start: number, durationMs: number) => ({
  timeZone,
  start,
  end: start + Math.max(1000, durationMs),
});

/** Windows of up to about a week, starting within 4 days of an anchor. */
const anyWindow = fc
  .record({
    timeZone: fc.constantFrom(...ZONES),
    anchor: fc.constantFrom(...ANCHORS),
    // Quarter-hour steps hit transitions and midnights exactly; the jitter exercises rounding.
    startQuarterHours: fc.integer({ min: -4 * 96, max: 4 * 96 }),
    startJitterMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MINUTE * 15 - 1 })),
    durationQuarterHours: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 7 * 96 })),
    durationJitterMs: fc.oneof(fc.constant(0), fc.integer({ min: -MINUTE * 14, max: MINUTE * 14 })),
  })
  .map((w) =>
    window(
      w.timeZone,
      w.anchor + w.startQuarterHours * 15 * MINUTE + w.startJitterMs,
      w.durationQuarterHours * 15 * MINUTE + w.durationJitterMs,
    ),
  );

/** Short windows starting and ending close to a clock change, including inside a repeated hour. */
const windowAtAClockChange = fc
  .record({
    timeZone: fc.constantFrom(...ZONES),
    anchor: fc.constantFrom(...ANCHORS),
    startMinutes: fc.integer({ min: -150, max: 90 }),
    durationMinutes: fc.integer({ min: 1, max: 240 }),
  })
  .map((w) => window(w.timeZone, w.anchor + w.startMinutes * MINUTE, w.durationMinutes * MINUTE));

const windowArbitrary = fc.oneof(anyWindow, windowAtAClockChange);

/** Another instant with the same wall-clock reading (the other pass of a repeated hour), if any. */
function twinsOf(instant: number, timeZone: string): number[] {
  const wall = wallClock(instant, timeZone);
  return [-HOUR, -30 * MINUTE, 30 * MINUTE, HOUR]
    .map((delta) => instant + delta)
    .filter((other) => {
      const otherWall = wallClock(other, timeZone);
      return otherWall.date === wall.date && otherWall.time === wall.time;
    });
}

function samples(from: number, until: number, phase: number): number[] {
  const instants: number[] = [];
  for (let at = from - 26 * HOUR + phase; at < until + 26 * HOUR; at += 13 * MINUTE) instants.push(at);
  for (const edge of [from, until]) for (const delta of [-MINUTE, -1, 0, 1, MINUTE - 1]) instants.push(edge + delta);
  return instants;
}

describe('period and timetable, for any window', () => {
  it('windows within 7 local dates open the door exactly in the minute-rounded window, except the other pass of a repeated hour', () => {
    fc.assert(
      fc.property(windowArbitrary, fc.integer({ min: 0, max: 13 * MINUTE - 1 }), ({ timeZone, start, end }, phase) => {
        const permission = periodAndTimetable({ start: new Date(start), end: new Date(end) }, timeZone);
        const from = permission.roundedWindow.start.getTime();
        const until = permission.roundedWindow.end.getTime();
        expect(from).toBeLessThanOrEqual(start);
        expect(start - from).toBeLessThan(MINUTE);
        expect(until).toBeGreaterThanOrEqual(end);
        expect(until - end).toBeLessThan(MINUTE);
        expect(permission.period.startDate).toBe(wallClock(from, timeZone).date);
        if (permission.timetable.kind === 'always') return; // more than 7 dates: the next property

        for (const at of samples(from, until, phase)) {
          const inWindow = from <= at && at < until;
          const opens = doorOpens(permission, at, timeZone);
          if (opens === inWindow) continue;
          // The only allowed difference: opening at a wall time the window covers in the other pass.
          const explained =
            opens && !permission.exact && twinsOf(at, timeZone).some((twin) => from <= twin && twin < until);
          expect(
            explained,
            `${timeZone} [${new Date(from).toISOString()}, ${new Date(until).toISOString()}) at ${new Date(at).toISOString()}: opens=${opens}`,
          ).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
  });

  it('windows over 7 local dates open the door on every date of the window, all day, and on no other date', () => {
    fc.assert(
      fc.property(anyWindow, ({ timeZone, start, end }) => {
        const long = { start, end: start + 8 * DAY + (end - start) }; // 8 days: over 7 dates even across a DST change
        const permission = periodAndTimetable({ start: new Date(long.start), end: new Date(long.end) }, timeZone);
        expect(permission.exact).toBe(false);
        expect(permission.timetable).toEqual({ kind: 'always' });
        expect(permission.period.startDate).toBe(wallClock(long.start, timeZone).date);
        expect(permission.period.endDate).toBe(wallClock(permission.roundedWindow.end.getTime() - 1, timeZone).date);
        for (let at = long.start - DAY; at < long.end + DAY; at += 37 * MINUTE) {
          const date = wallClock(at, timeZone).date;
          const inPeriod = permission.period.startDate <= date && date <= permission.period.endDate;
          expect(doorOpens(permission, at, timeZone)).toBe(inPeriod);
          if (long.start <= at && at < long.end) expect(inPeriod).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });
});

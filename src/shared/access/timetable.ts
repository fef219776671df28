/**
 * Timetables: the hours of a permission, and their canonical form and identity key.
 *
 * Why: SALTO timetables live in a small pool of numbered slots shared by the whole building. Two
 * permissions that need the same hours must share one slot, so we need to know when two timetables are
 * the same. The canonical form is semantic: per day type the covered times are merged into the fewest
 * ranges, then identical ranges are grouped into one interval ticking several day types. Two timetables
 * that open the door at exactly the same times therefore have the same canonical form and the same key,
 * however they were written (including one read back from SALTO).
 *
 * Day types are named as SHIP's `SaltoDBTimezone` elements (Monday..Sunday, Holiday, Special1, Special2).
 */

import { type LocalTime, WEEKDAYS } from '../time/local-time.ts';

export const SPECIAL_DAY_TYPES = ['Holiday', 'Special1', 'Special2'] as const;
export type SpecialDayType = (typeof SPECIAL_DAY_TYPES)[number];
export const DAY_TYPES = [...WEEKDAYS, ...SPECIAL_DAY_TYPES] as const;
export type DayType = (typeof DAY_TYPES)[number];

/** One SALTO timezone entry: open from `start` (inclusive) to `end` (exclusive) on the ticked days. */
export interface TimetableInterval {
  start: LocalTime;
  /** `24:00:00` means until the end of the day. */
  end: LocalTime;
  /** Canonical order (Monday..Sunday, Holiday, Special1, Special2), no repeats. */
  days: DayType[];
}

/** SALTO's built-in timetable 0: open at every time of every day type; needs no slot. */
export const ALWAYS_TIMETABLE_ID = 0;

export type Timetable = { kind: 'always' } | { kind: 'intervals'; intervals: TimetableInterval[] };

export const ALWAYS: Timetable = { kind: 'always' };

const TIME = /^(\d{2}):(\d{2}):(\d{2})$/;

/** Seconds into the day of `HH:mm:ss` (0 ..= 86400). Throws RangeError on anything else. */
export function secondsOfLocalTime(time: LocalTime): number {
  const match = TIME.exec(time);
  const [hours, minutes, seconds] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [];
  if (hours === undefined || minutes === undefined || seconds === undefined || minutes > 59 || seconds > 59) {
    throw new RangeError(`not a time of day (HH:mm:ss): ${JSON.stringify(time)}`);
  }
  const total = hours * 3600 + minutes * 60 + seconds;
  if (total > 86_400) throw new RangeError(`time of day after 24:00:00: ${time}`);
  return total;
}

function timeOfSeconds(total: number): LocalTime {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
}

/**
 * The canonical form: fewest intervals, each ticking every day type it applies to, sorted by start then
 * end; empty intervals and intervals ticking no day are dropped. `always` stays `always`.
 */
export function canonicalTimetable(timetable: Timetable): Timetable {
  if (timetable.kind === 'always') return ALWAYS;

  const rangesByDay = new Map<DayType, [number, number][]>();
  for (const interval of timetable.intervals) {
    const start = secondsOfLocalTime(interval.start);
    const end = secondsOfLocalTime(interval.end);
    if (end <= start) continue;
    for (const day of interval.days) {
      if (!DAY_TYPES.includes(day)) throw new RangeError(`unknown day type: ${String(day)}`);
      const ranges = rangesByDay.get(day) ?? [];
      ranges.push([start, end]);
      rangesByDay.set(day, ranges);
    }
  }

  const daysByRange = new Map<string, { start: number; end: number; days: Set<DayType> }>();
  for (const day of DAY_TYPES) {
    const ranges = (rangesByDay.get(day) ?? []).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged: [number, number][] = [];
    for (const [start, end] of ranges) {
      const last = merged.at(-1);
      if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
      else merged.push([start, end]);
    }
    for (const [start, end] of merged) {
      const key = `${start}-${end}`;
      const entry = daysByRange.get(key) ?? { start, end, days: new Set<DayType>() };
      entry.days.add(day);
      daysByRange.set(key, entry);
    }
  }

  const intervals = [...daysByRange.values()]
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .map(({ start, end, days }) => ({
      start: timeOfSeconds(start),
      end: timeOfSeconds(end),
      days: DAY_TYPES.filter((day) => days.has(day)),
    }));
  return { kind: 'intervals', intervals };
}

/**
 * Identity of a timetable: equal keys <=> the timetables open at the same times on the same day types.
 * Readable on purpose (it ends up in logs and slot bookkeeping), e.g.
 * `18:00:00-24:00:00 Monday; 00:00:00-09:30:00 Tuesday`. `always` -> `always`, no intervals -> `never`.
 */
export function timetableKey(timetable: Timetable): string {
  const canonical = canonicalTimetable(timetable);
  if (canonical.kind === 'always') return 'always';
  if (canonical.intervals.length === 0) return 'never';
  return canonical.intervals
    .map((interval) => `${interval.start}-${interval.end} ${interval.days.join(',')}`)
    .join('; ');
}

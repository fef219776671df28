/**
 * Period + timetable for an access window, in the building's time zone.
 *
 * Why: a SALTO permission has no "from instant to instant". It has a period (local dates, inclusive)
 * and a timetable (local times per day type), and the door opens at a local date-time when the date is
 * in the period and the timetable covers the time on that date's day type. This module turns a window
 * of instants into that shape so the door opens in the window and at no other time, wherever that can be
 * expressed, and says plainly when and why it cannot.
 *
 * Decisions:
 * - Minutes. The window is rounded outwards to whole minutes of wall time (start down, end up), and
 *   `rounded` says so. Booking times are minute-based in practice; sub-minute precision would buy
 *   nothing at a door.
 * - The period runs from the local date of the first instant to the local date of the last instant;
 *   a window ending exactly at local midnight does not include the next date (its last date ends at
 *   `24:00:00`).
 * - At most 7 local dates: exact. Each weekday occurs at most once, so per date one interval (first
 *   date [start, 24:00), middle dates [00:00, 24:00), last date [00:00, end), a single date
 *   [start, end)); identical time ranges share one interval ticking several weekdays.
 * - More than 7 local dates: a timetable cannot tell the first Monday from the second, so the
 *   permission grants whole days on every date of the period with the built-in "always" timetable
 *   (id 0, which also needs no slot from the pool). `exact` is false and a note says so.
 * - DST, spring forward: nothing special. The skipped wall times never happen, so an interval that
 *   spans them is still exact.
 * - DST, fall back: the wall times of the repeated hour happen twice, and a timetable cannot tell
 *   which pass it is in. The intervals for that date cover exactly the wall times the window covers. If the
 *   window starts or ends strictly inside the repeated span (first pass start .. second pass end), the
 *   door also opens during the other pass at the same wall times: up to one extra hour (the size of the
 *   shift), never less than the window. Then `exact` is false with a note. A window that covers both
 *   passes or neither is exact.
 * - Holiday / Special1 / Special2: on a date the site's calendar marks as such, SALTO applies that day
 *   type's intervals instead of the weekday's (`PeriodAndTimetableOptions.specialDates`). Such a date
 *   keeps its weekday's interval (harmless: no other date of an exact period has that weekday, and it
 *   still opens if the calendar drops the date) and its day type gets the date's own hours. Two marked
 *   dates of one type in a period share that day type, so it gets only the hours common to all of them:
 *   the door never opens on one of them at an hour the window does not cover there; hours lost that
 *   way make `exact` false with a note.
 */

import {
  DAY_MS,
  dayNumberOf,
  describeWallMs,
  HOUR_MS,
  type LocalDate,
  localDateOfDay,
  localTimeOfDayMs,
  MINUTE_MS,
  mod,
  offsetTransitions,
  wallMsAt,
  weekdayOfDay,
} from '../time/local-time.ts';
import type { AccessWindow } from './access-window.ts';
import {
  ALWAYS,
  canonicalTimetable,
  type DayType,
  type SpecialDayType,
  type Timetable,
  type TimetableInterval,
} from './timetable.ts';

/** SALTO period: the local dates on which the permission applies, both inclusive. */
export interface Period {
  startDate: LocalDate;
  endDate: LocalDate;
}

export interface PeriodAndTimetableOptions {
  /**
   * Day types to tick on every interval besides its weekday. Default: none.
   *
   * SALTO uses the Holiday (or Special) day type instead of the weekday on dates the site's calendar
   * marks as such. Trade-off:
   * - Weekdays only (default): exact on ordinary dates, but on a date the site marks as a holiday the
   *   booking does not open the door at all (fails closed; the manager sees it in the access status).
   * - Also ticking Holiday: the booking opens on a marked date, but the Holiday day type then carries
   *   the intervals of ALL dates of the permission, so on a marked date the door opens for their union
   *   (e.g. a Monday 18:00 to Tuesday 09:00 booking opens a holiday Monday from 00:00 to 09:00 too).
   * Sites that do not use holiday calendars for facility zones can ignore this.
   */
  alsoTick?: readonly SpecialDayType[];
  /**
   * The day type the site's calendars give a local date (`yyyy-MM-dd`) that is not its weekday:
   * Holiday, Special1 or Special2 (several when calendars disagree: the date's hours are then given to
   * each, so it opens whichever calendar the card or lock uses). Dates absent use their weekday.
   */
  specialDates?: ReadonlyMap<LocalDate, SpecialDayType | readonly SpecialDayType[]>;
}

export interface PeriodAndTimetable {
  period: Period;
  timetable: Timetable;
  /** True when the door opens exactly in `roundedWindow` and at no other time. */
  exact: boolean;
  /** True when the window did not start and end on whole minutes of local time. */
  rounded: boolean;
  /** The window actually targeted: start rounded down, end rounded up to the minute. */
  roundedWindow: AccessWindow;
  /** Plain-language notes for managers: rounding, and why the result is not exact. */
  notes: string[];
}

/** The longest period (in local dates) that a timetable can describe exactly. */
export const MAX_EXACT_DATES = 7;

/** Furthest any time zone shifts its clock at once; bounds the search for a repeated span. */
const MAX_SHIFT_MS = 3 * HOUR_MS;

/**
 * The wall times covered on each local date, as merged [from, to) ranges in ms into the day.
 *
 * Fall back: the two passes through the repeated span usually give overlapping pieces, whose union is
 * one range; a window lying inside the repeated span from one pass to the other can give two pieces.
 * Spring forward: the piece after the jump is stretched back over the skipped wall times (they never
 * happen, so opening "during" them is free) so that the date keeps one range.
 */
function wallCoverageByDate(startMs: number, endMs: number, timeZone: string): Map<number, [number, number][]> {
  const pieces = new Map<number, [number, number][]>();
  const transitions = offsetTransitions(startMs, endMs, timeZone);
  const cuts = [startMs, ...transitions.map((transition) => transition.at), endMs];
  for (let index = 0; index + 1 < cuts.length; index += 1) {
    const segmentStart = cuts[index]!;
    const segmentEnd = cuts[index + 1]!;
    if (segmentEnd <= segmentStart) continue;
    const offset = wallMsAt(segmentStart, timeZone) - segmentStart;
    const jumpedAhead = index > 0 ? Math.max(0, offset - transitions[index - 1]!.offsetBeforeMs) : 0;
    const wallEnd = segmentEnd + offset;
    let wall = segmentStart + offset;
    let stretch = jumpedAhead;
    while (wall < wallEnd) {
      const day = dayNumberOf(wall);
      const dayStart = day * DAY_MS;
      const pieceEnd = Math.min(wallEnd, dayStart + DAY_MS);
      const from = Math.max(dayStart, wall - stretch) - dayStart;
      const list = pieces.get(day) ?? [];
      list.push([from, pieceEnd - dayStart]);
      pieces.set(day, list);
      wall = pieceEnd;
      stretch = 0;
    }
  }
  const coverage = new Map<number, [number, number][]>();
  for (const [day, list] of pieces) {
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged: [number, number][] = [];
    for (const [from, to] of list) {
      const last = merged.at(-1);
      if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
      else merged.push([from, to]);
    }
    coverage.set(day, merged);
  }
  return coverage;
}

/** The ranges (ms into the day) both lists cover. */
function intersectRanges(a: [number, number][], b: [number, number][]): [number, number][] {
  const both: [number, number][] = [];
  for (const [aFrom, aTo] of a) {
    for (const [bFrom, bTo] of b) {
      const from = Math.max(aFrom, bFrom);
      const to = Math.min(aTo, bTo);
      if (to > from) both.push([from, to]);
    }
  }
  return both;
}

/** The fall-back transition whose repeated span strictly contains the instant, if any. */
function repeatedSpanAround(instantMs: number, timeZone: string) {
  return offsetTransitions(instantMs - MAX_SHIFT_MS, instantMs + MAX_SHIFT_MS, timeZone).find((transition) => {
    const shift = transition.offsetBeforeMs - transition.offsetAfterMs;
    return shift > 0 && transition.at - shift < instantMs && instantMs < transition.at + shift;
  });
}

function minutesText(ms: number): string {
  const minutes = Math.round(ms / MINUTE_MS);
  return minutes % 60 === 0 ? `${minutes / 60} hour${minutes === 60 ? '' : 's'}` : `${minutes} minutes`;
}

/**
 * The period and timetable that open the facility's zone during `window`, in `timeZone` (IANA).
 * Throws RangeError for an empty window or an unknown time zone.
 */
export function periodAndTimetable(
  window: AccessWindow,
  timeZone: string,
  options: PeriodAndTimetableOptions = {},
): PeriodAndTimetable {
  const startMs = window.start.getTime();
  const endMs = window.end.getTime();
  if (!(endMs > startMs)) throw new RangeError('an access window must end after it starts');

  const startWall = wallMsAt(startMs, timeZone);
  const endWall = wallMsAt(endMs, timeZone);
  const roundDown = mod(startWall, MINUTE_MS);
  const roundUp = mod(MINUTE_MS - mod(endWall, MINUTE_MS), MINUTE_MS);
  const fromMs = startMs - roundDown;
  const untilMs = endMs + roundUp;
  const rounded = roundDown !== 0 || roundUp !== 0;
  const roundedWindow = { start: new Date(fromMs), end: new Date(untilMs) };

  // Long windows need only their first and last dates; walking their clock changes would cost an Intl
  // call per hour. The margin of one date keeps windows near the limit on the precise path below.
  const roughDates = dayNumberOf(endWall + roundUp - 1) - dayNumberOf(startWall - roundDown) + 1;
  const coverage = roughDates > MAX_EXACT_DATES + 1 ? undefined : wallCoverageByDate(fromMs, untilMs, timeZone);
  const days = coverage
    ? [...coverage.keys()].sort((a, b) => a - b)
    : [dayNumberOf(startWall - roundDown), dayNumberOf(endWall + roundUp - 1)];
  const firstDay = days[0]!;
  const lastDay = days.at(-1)!;
  const period = { startDate: localDateOfDay(firstDay), endDate: localDateOfDay(lastDay) };

  const notes: string[] = [];
  if (rounded) {
    notes.push(
      `times are rounded to whole minutes: the door opens from ${describeWallMs(startWall - roundDown)} ` +
        `until ${describeWallMs(endWall + roundUp)} (${timeZone})`,
    );
  }

  const dateCount = lastDay - firstDay + 1;
  if (coverage === undefined || dateCount > MAX_EXACT_DATES) {
    notes.push(
      `windows spanning more than ${MAX_EXACT_DATES} days get whole-day access from ${period.startDate} ` +
        `to ${period.endDate} (this one covers ${dateCount} local dates, and a timetable can describe ` +
        'each weekday only once)',
    );
    return { period, timetable: ALWAYS, exact: false, rounded, roundedWindow, notes };
  }

  const alsoTick = options.alsoTick ?? [];
  const intervals: TimetableInterval[] = days.flatMap((day) => {
    const dayTypes: DayType[] = [weekdayOfDay(day), ...alsoTick];
    return coverage.get(day)!.map(([from, to]) => ({
      start: localTimeOfDayMs(from),
      end: localTimeOfDayMs(to),
      days: dayTypes,
    }));
  });
  let exact = true;
  // Marked dates: each special day type gets the hours common to every date of the period it marks.
  const specialDates = options.specialDates;
  if (specialDates && specialDates.size > 0) {
    const datesOf = new Map<SpecialDayType, number[]>();
    for (const day of days) {
      const marks = specialDates.get(localDateOfDay(day)) ?? [];
      for (const type of typeof marks === 'string' ? [marks] : marks) {
        datesOf.set(type, [...(datesOf.get(type) ?? []), day]);
      }
    }
    for (const [type, marked] of datesOf) {
      let common = coverage.get(marked[0]!)!;
      for (const day of marked.slice(1)) common = intersectRanges(common, coverage.get(day)!);
      const total = (ranges: [number, number][]) => ranges.reduce((sum, [from, to]) => sum + to - from, 0);
      const short = marked.filter((day) => total(coverage.get(day)!) > total(common));
      if (short.length > 0) {
        exact = false;
        notes.push(
          `${short.map(localDateOfDay).join(', ')} ${short.length === 1 ? 'is' : 'are'} marked ${type} in ` +
            `SALTO's calendar like another date of this booking; on ${type} dates a timetable opens the same ` +
            'hours, so the door opens only the hours the booking covers on all of them',
        );
      }
      for (const [from, to] of common) {
        intervals.push({ start: localTimeOfDayMs(from), end: localTimeOfDayMs(to), days: [type] });
      }
    }
  }
  const timetable = canonicalTimetable({ kind: 'intervals', intervals });

  for (const [edge, instant] of [
    ['starts', fromMs],
    ['ends', untilMs],
  ] as const) {
    const span = repeatedSpanAround(instant, timeZone);
    if (span === undefined) continue;
    exact = false;
    const shift = span.offsetBeforeMs - span.offsetAfterMs;
    notes.push(
      `the window ${edge} at ${describeWallMs(wallMsAt(instant, timeZone))} (${timeZone}), inside the hour that repeats ` +
        'when clocks go back; a timetable cannot tell the two passes apart, so the door also opens at ' +
        `the same wall-clock times in the other pass (at most ${minutesText(shift)} extra)`,
    );
  }

  return { period, timetable, exact, rounded, roundedWindow, notes };
}

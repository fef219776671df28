/**
 * Building-local wall time from instants, using Intl only.
 *
 * Why this file exists: SALTO speaks building-local dates and times (periods and timetables have no
 * offset), so every permission we compute must pass through the building's IANA time zone. This is the
 * access domain's own small conversion so it does not wait on `src/shared/time/zoned.ts`; the two can be
 * merged later. It is runtime-neutral: Intl and numbers, no Node or Deno APIs.
 *
 * The central trick is "wall ms": a local wall-clock reading encoded as milliseconds since
 * 1970-01-01T00:00 of a zone-less calendar (as if it were UTC). Calendar arithmetic on wall ms (which
 * date, which weekday, how far into the day) is plain integer arithmetic and never meets a DST change.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A local calendar date, `YYYY-MM-DD`. */
export type LocalDate = string;
/** A local time of day, `HH:mm:ss`; `24:00:00` is allowed as the end of a day. */
export type LocalTime = string;

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    // Throws RangeError for an unknown zone: buildings.timezone is validated, so that is a bug upstream.
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

function wallMsFromFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

// UTC offsets already asked for, per time zone and whole second. Planning asks for the same instants
// again and again (windows on whole hours, each searched three hours either side for a repeated
// hour, the zones of an access level and the bookings of a building sharing their hours), and each
// answer is an Intl.formatToParts: about 90% of the time spent planning a permission. A zone's memo
// starts over past MEMO_LIMIT entries.
const offsetMemo = new Map<string, Map<number, number>>();
const MEMO_LIMIT = 50_000;

/** The building's wall clock at an instant, as wall ms. */
export function wallMsAt(instantMs: number, timeZone: string): number {
  // Offsets are whole seconds, so one per second of the instant serves every millisecond of it.
  const secondMs = instantMs - mod(instantMs, 1000);
  let memo = offsetMemo.get(timeZone);
  if (memo === undefined) offsetMemo.set(timeZone, (memo = new Map()));
  let offset = memo.get(secondMs);
  if (offset === undefined) {
    offset = formattedWallMs(secondMs, timeZone) - secondMs;
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(secondMs, offset);
  }
  return instantMs + offset;
}

/** The wall clock Intl reads at a whole second. */
function formattedWallMs(instantMs: number, timeZone: string): number {
  let year = 1970;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) {
    const value = Number(part.value);
    switch (part.type) {
      case 'year':
        year = value;
        break;
      case 'month':
        month = value;
        break;
      case 'day':
        day = value;
        break;
      case 'hour':
        hour = value;
        break;
      case 'minute':
        minute = value;
        break;
      case 'second':
        second = value;
        break;
    }
  }
  return wallMsFromFields(year, month, day, hour, minute, second);
}

/** UTC offset in force at an instant (local minus UTC), in ms. */
export function offsetMsAt(instantMs: number, timeZone: string): number {
  return wallMsAt(instantMs, timeZone) - instantMs;
}

export interface OffsetTransition {
  /** First instant with the new offset. */
  at: number;
  offsetBeforeMs: number;
  offsetAfterMs: number;
}

/**
 * Offset changes (DST and others) in (fromMs, toMs]. Samples hourly and bisects to the millisecond, so
 * two transitions less than an hour apart would be missed; no time zone has had that.
 */
export function offsetTransitions(fromMs: number, toMs: number, timeZone: string): OffsetTransition[] {
  const transitions: OffsetTransition[] = [];
  let previousAt = fromMs;
  let previousOffset = offsetMsAt(fromMs, timeZone);
  while (previousAt < toMs) {
    const at = Math.min(previousAt + HOUR_MS, toMs);
    const offset = offsetMsAt(at, timeZone);
    if (offset !== previousOffset) {
      let low = previousAt;
      let high = at;
      while (high - low > 1) {
        const middle = low + Math.floor((high - low) / 2);
        if (offsetMsAt(middle, timeZone) === previousOffset) low = middle;
        else high = middle;
      }
      transitions.push({
        at: high,
        offsetBeforeMs: previousOffset,
        offsetAfterMs: offsetMsAt(high, timeZone),
      });
    }
    previousAt = at;
    previousOffset = offset;
  }
  return transitions;
}

/**
 * Every instant whose wall clock reads `wallMs`: none in a spring-forward gap, two in a fall-back
 * repeated hour, otherwise one. Sorted.
 */
export function instantsAtWallMs(wallMs: number, timeZone: string): number[] {
  const offsets = new Set([
    offsetMsAt(wallMs - DAY_MS, timeZone),
    offsetMsAt(wallMs, timeZone),
    offsetMsAt(wallMs + DAY_MS, timeZone),
  ]);
  const instants = new Set<number>();
  for (const offset of offsets) {
    const candidate = wallMs - offset;
    if (wallMsAt(candidate, timeZone) === wallMs) instants.add(candidate);
  }
  return [...instants].sort((a, b) => a - b);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** Day number (days since 1970-01-01) of a wall-ms value. */
export function dayNumberOf(wallMs: number): number {
  return Math.floor(wallMs / DAY_MS);
}

export function localDateOfDay(dayNumber: number): LocalDate {
  const date = new Date(dayNumber * DAY_MS);
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

export function weekdayOfDay(dayNumber: number): Weekday {
  // 1970-01-01 was a Thursday (index 3 in WEEKDAYS).
  return WEEKDAYS[mod(dayNumber + 3, 7)]!;
}

/** `HH:mm:ss` for a number of ms into a day, 0 ..= DAY_MS (DAY_MS gives `24:00:00`); drops sub-seconds. */
export function localTimeOfDayMs(msIntoDay: number): LocalTime {
  const seconds = Math.floor(msIntoDay / 1000);
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

/** `YYYY-MM-DD HH:mm:ss` for people (notes, emails, test names). */
export function describeWallMs(wallMs: number): string {
  const day = dayNumberOf(wallMs);
  return `${localDateOfDay(day)} ${localTimeOfDayMs(wallMs - day * DAY_MS)}`;
}

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Day number of a `YYYY-MM-DD` date, or undefined when it is not a real date. */
export function dayOfLocalDate(date: LocalDate): number | undefined {
  const match = LOCAL_DATE.exec(date);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const wallMs = wallMsFromFields(year, month, day, 0, 0, 0);
  return localDateOfDay(dayNumberOf(wallMs)) === date ? dayNumberOf(wallMs) : undefined;
}

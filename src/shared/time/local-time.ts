/**
 * Building-local wall time, with Intl only (runtime-neutral: Deno, Node, browsers).
 *
 * SALTO speaks the building's local wall time with no offset (periods, timetables, SHIP date-times),
 * and alert emails state every time as the building's clocks show it, so every instant we send, check
 * or show passes through the building's IANA time zone. The two directions are not symmetric: an
 * instant always has one local time, but a local time can have none (a DST gap) or two instants (a DST
 * overlap).
 *
 * "Wall ms": a local wall-clock reading encoded as milliseconds since 1970-01-01T00:00 of a zone-less
 * calendar (as if it were UTC). Calendar arithmetic on wall ms (which date, which weekday, how far into
 * the day) is plain integer arithmetic and never meets a DST change.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A local calendar date, `YYYY-MM-DD`. */
export type LocalDate = string;
/** A local time of day, `HH:mm:ss`; `24:00:00` is allowed as the end of a day. */
export type LocalTime = string;

/** A local wall-clock date-time (no zone). Months are 1..12. */
export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    // Throws RangeError for an unknown zone (buildings.timezone is validated: a bug upstream).
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
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

/** True when `timeZone` is an IANA zone name this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

function wallMsFromFields(local: LocalDateTime): number {
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(local.year, local.month - 1, local.day);
  date.setUTCHours(local.hour, local.minute, local.second, 0);
  return date.getTime();
}

// UTC offsets already asked for, per time zone and whole second. Computing a permission asks for the
// same instants again and again (windows on whole hours, each searched three hours either side for a
// repeated hour, the zones of an access level and the bookings of a building sharing their hours),
// and each answer is an Intl.formatToParts, by far the costliest step. A zone's memo starts over past
// MEMO_LIMIT entries.
const offsetMemo = new Map<string, Map<number, number>>();
const MEMO_LIMIT = 50_000;

/** The building's wall clock at an instant, as wall ms. */
export function wallMsAt(instantMs: number, timeZone: string): number {
  // Offsets are whole seconds, so one per second of the instant serves every millisecond of it.
  const secondMs = instantMs - mod(instantMs, 1000);
  const memo = offsetMemo.get(timeZone);
  let offset = memo?.get(secondMs);
  if (offset === undefined) {
    offset = formattedWallMs(secondMs, timeZone) - secondMs;
    if (memo === undefined) offsetMemo.set(timeZone, new Map([[secondMs, offset]]));
    else {
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(secondMs, offset);
    }
  }
  return instantMs + offset;
}

/** The wall clock Intl reads at a whole second. */
function formattedWallMs(instantMs: number, timeZone: string): number {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) parts[part.type] = part.value;
  const year = Number(parts.year);
  return wallMsFromFields({
    year: parts.era === 'BC' ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    // Some engines print midnight as "24" even with h23.
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
  });
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
  // Real zones change offset at most once in any two days, so the offsets a day either side cover it.
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

/** `YYYY-MM-DD HH:mm:ss` for people (notes, test names). */
export function describeWallMs(wallMs: number): string {
  const day = dayNumberOf(wallMs);
  return `${localDateOfDay(day)} ${localTimeOfDayMs(wallMs - day * DAY_MS)}`;
}

/** The wall ms of a local date-time; throws RangeError when it is not a real one (2026-02-30, 24:00). */
export function wallMsOf(local: LocalDateTime): number {
  assertLocal(local);
  return wallMsFromFields(local);
}

/** The local date-time of a wall-ms value (sub-second part dropped). */
function localDateTimeOfWallMs(wallMs: number): LocalDateTime {
  const date = new Date(wallMs);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
  };
}

/** The local wall time of `instant` in `timeZone` (sub-second part dropped). */
export function localDateTimeAt(instant: Date, timeZone: string): LocalDateTime {
  const ms = instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid instant');
  return localDateTimeOfWallMs(wallMsAt(ms, timeZone));
}

/**
 * Every instant whose wall time in `timeZone` is `local`, earliest first: none inside a DST gap, two
 * inside a DST overlap, one otherwise.
 */
export function instantsAtLocal(local: LocalDateTime, timeZone: string): Date[] {
  return instantsAtWallMs(wallMsOf(local), timeZone).map((ms) => new Date(ms));
}

/**
 * One instant for a wall time, resolved like Temporal's "compatible" disambiguation: in an overlap the
 * earlier instant; in a gap the wall time is read with the offset from before the gap, which lands after
 * the gap (02:30 in a 02:00 -> 03:00 spring-forward becomes 03:30).
 */
export function instantAtLocal(local: LocalDateTime, timeZone: string): Date {
  const wallMs = wallMsOf(local);
  const instants = instantsAtWallMs(wallMs, timeZone);
  if (instants.length > 0) return new Date(instants[0]!);
  return new Date(wallMs - offsetMsAt(wallMs - DAY_MS, timeZone));
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** Parses `yyyy-MM-ddTHH:mm:ss` (no offset). `T24:00:00` is not a wall time and is rejected here. */
export function parseLocalDateTime(text: string): LocalDateTime {
  const match = LOCAL_DATE_TIME.exec(text);
  if (!match) throw new RangeError(`not a local date-time yyyy-MM-ddTHH:mm:ss: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s] = match;
  const local = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
  };
  assertLocal(local);
  return local;
}

/** `yyyy-MM-ddTHH:mm:ss`, the shape SHIP uses for date-times. */
export function formatLocalDateTime(local: LocalDateTime): string {
  return `${formatLocalDate(local)}T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}`;
}

/** `yyyy-MM-dd`. */
export function formatLocalDate(local: Pick<LocalDateTime, 'year' | 'month' | 'day'>): LocalDate {
  return `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}`;
}

/** The weekday of a calendar date (proleptic Gregorian). */
export function weekdayOf(local: Pick<LocalDateTime, 'year' | 'month' | 'day'>): Weekday {
  return weekdayOfDay(dayNumberOf(wallMsFromFields({ ...local, hour: 0, minute: 0, second: 0 })));
}

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Day number of a `YYYY-MM-DD` date, or undefined when it is not a real date. */
export function dayOfLocalDate(date: LocalDate): number | undefined {
  const match = LOCAL_DATE.exec(date);
  if (match === null) return undefined;
  const wallMs = wallMsFromFields({
    year: Number(match[1]),
    month: Number(match[2]),
    day: Number(match[3]),
    hour: 0,
    minute: 0,
    second: 0,
  });
  return localDateOfDay(dayNumberOf(wallMs)) === date ? dayNumberOf(wallMs) : undefined;
}

function assertLocal(local: LocalDateTime): void {
  const { year, month, day, hour, minute, second } = local;
  const ints = [year, month, day, hour, minute, second].every(Number.isInteger);
  const date = new Date(0);
  if (ints) date.setUTCFullYear(year, month - 1, day);
  const valid =
    ints &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 59;
  if (!valid) throw new RangeError(`not a valid local date-time: ${JSON.stringify(local)}`);
}

// For people: alert emails and action pages state times as the building's clocks show them, never
// the reader's or the server's.

const readableFormats = new Map<string, Intl.DateTimeFormat>();

function readableFormat(timeZone: string): Intl.DateTimeFormat {
  let format = readableFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-AU', {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    readableFormats.set(timeZone, format);
  }
  return format;
}

// The abbreviation people in a zone use: each English locale's CLDR data names the zones of its own
// region (en-AU AEDT, en-GB CET/CEST, en-US EST, en-IN IST ...) and writes others as "GMT+1". The
// first locale with a name wins; a zone none names keeps the offset ("GMT+9").
const zoneNameLocales = ['en-AU', 'en-GB', 'en-US', 'en-NZ', 'en-IN', 'en-SG', 'en-CA', 'en-IE', 'en-ZA'];
const zoneNameFormats = new Map<string, Intl.DateTimeFormat[]>();
const offsetForm = /^(GMT|UTC)[+-−]/;

function zoneAbbreviation(instant: Date, timeZone: string): string {
  let formats = zoneNameFormats.get(timeZone);
  if (formats === undefined) {
    formats = zoneNameLocales.map((locale) => new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }));
    zoneNameFormats.set(timeZone, formats);
  }
  let fallback = '';
  for (const format of formats) {
    const name = format.formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (name && !offsetForm.test(name)) return name;
    fallback ||= name;
  }
  return fallback;
}

/** An instant people can be told about: a valid date, not ±infinity (an open-ended window). */
export function isReadableInstant(instant: Date | string | number | null | undefined): boolean {
  if (instant === null || instant === undefined) return false;
  return Number.isFinite(new Date(instant).getTime());
}

/** What an open-ended window's missing end or start reads as. */
export const OPEN_ENDED = 'open-ended';

function readableParts(instant: Date | string, timeZone: string): { date: string; time: string; zone: string } {
  if (!isReadableInstant(instant)) return { date: OPEN_ENDED, time: '', zone: '' };
  const at = new Date(instant);
  const parts = readableFormat(timeZone).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    date: `${get('weekday')} ${get('day')} ${get('month')} ${get('year')}`,
    time: `${get('hour')}:${get('minute')}`,
    zone: zoneAbbreviation(at, timeZone),
  };
}

/** "Tue 8 Dec 2026, 18:00 AEDT" */
export function describeLocalDateTime(instant: Date | string, timeZone: string): string {
  if (!isReadableInstant(instant)) return OPEN_ENDED;
  const p = readableParts(instant, timeZone);
  return `${p.date}, ${p.time} ${p.zone}`;
}

/** "Tue 8 Dec 2026" */
export function describeLocalDate(instant: Date | string, timeZone: string): string {
  return readableParts(instant, timeZone).date;
}

/**
 * "Tue 8 Dec 2026, 18:00–19:00 AEDT", or with both dates when the window crosses midnight:
 * "Tue 8 Dec 2026, 23:00 AEDT – Wed 9 Dec 2026, 01:00 AEDT". An end at exactly local midnight is
 * written 24:00 of the start day, as people (and SALTO periods) say it.
 */
export function describeLocalRange(start: Date | string, end: Date | string, timeZone: string): string {
  const [from, to] = [isReadableInstant(start), isReadableInstant(end)];
  if (!from && !to) return `${OPEN_ENDED} (no start or end)`;
  if (!to) return `from ${describeLocalDateTime(start, timeZone)}, ${OPEN_ENDED}`;
  if (!from) return `${OPEN_ENDED}, until ${describeLocalDateTime(end, timeZone)}`;
  const a = readableParts(start, timeZone);
  const b = readableParts(end, timeZone);
  if (a.date === b.date && a.zone === b.zone) return `${a.date}, ${a.time}–${b.time} ${a.zone}`;
  const endedAtMidnight =
    b.time === '00:00' && readableParts(new Date(new Date(end).getTime() - 1), timeZone).date === a.date;
  if (endedAtMidnight && a.zone === b.zone) return `${a.date}, ${a.time}–24:00 ${a.zone}`;
  return `${a.date}, ${a.time} ${a.zone} – ${b.date}, ${b.time} ${b.zone}`;
}

/** "2 hours", "90 minutes", "1 day": for lead times and outage durations. */
export function describeDuration(minutes: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes % 1440 === 0 && minutes > 0) return plural(minutes / 1440, 'day');
  if (minutes % 60 === 0 && minutes > 0) return plural(minutes / 60, 'hour');
  return plural(Math.round(minutes), 'minute');
}

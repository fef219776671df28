/**
 * Wall-clock time in an IANA time zone, with Intl only (runtime-neutral: Deno, Node, browsers).
 *
 * SALTO speaks the building's local wall time with no offset, so every instant we send or check must be
 * converted to and from the building's zone. The two directions are not symmetric: an instant always has
 * one local time, but a local time can have none (the DST gap) or two instants (the DST overlap).
 */

/** A local wall-clock date-time (no zone). Months are 1..12. */
export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatterCache = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatterCache.get(timeZone);
  if (!formatter) {
    // Throws RangeError for an unknown zone, which is what callers want.
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      era: 'short',
    });
    formatterCache.set(timeZone, formatter);
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

/** The local wall time of `instant` in `timeZone` (sub-second part dropped). */
export function toZoned(instant: Date, timeZone: string): LocalDateTime {
  const ms = instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid instant');
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) parts[part.type] = part.value;
  const year = Number(parts.year);
  return {
    year: parts.era === 'BC' ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    // Some engines print midnight as "24" even with h23; normalise.
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Milliseconds since the epoch of the wall time read as if it were UTC. */
function wallAsUtc(local: LocalDateTime): number {
  const date = new Date(0);
  date.setUTCFullYear(local.year, local.month - 1, local.day);
  date.setUTCHours(local.hour, local.minute, local.second, 0);
  return date.getTime();
}

/** The zone's offset from UTC at `instant`, in milliseconds (e.g. +10:00 -> 36_000_000). */
export function offsetAt(instant: Date, timeZone: string): number {
  const wholeSecond = Math.floor(instant.getTime() / 1000) * 1000;
  return wallAsUtc(toZoned(new Date(wholeSecond), timeZone)) - wholeSecond;
}

function sameWallTime(a: LocalDateTime, b: LocalDateTime): boolean {
  return (
    a.year === b.year &&
    a.month === b.month &&
    a.day === b.day &&
    a.hour === b.hour &&
    a.minute === b.minute &&
    a.second === b.second
  );
}

/**
 * Every instant whose wall time in `timeZone` is `local`, earliest first: none inside a DST gap, two
 * inside a DST overlap, one otherwise.
 */
export function fromZoned(local: LocalDateTime, timeZone: string): Date[] {
  assertLocal(local);
  const asUtc = wallAsUtc(local);
  const day = 86_400_000;
  // Real zones change offset at most once in any two days, so the offsets a day either side cover it.
  const offsets = new Set([
    offsetAt(new Date(asUtc - day), timeZone),
    offsetAt(new Date(asUtc), timeZone),
    offsetAt(new Date(asUtc + day), timeZone),
  ]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = asUtc - offset;
    if (sameWallTime(toZoned(new Date(candidate), timeZone), local)) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b).map((ms) => new Date(ms));
}

/**
 * One instant for a wall time, resolved like Temporal's "compatible" disambiguation: in an overlap the
 * earlier instant; in a gap the wall time is read with the offset from before the gap, which lands after
 * the gap (02:30 in a 02:00 -> 03:00 spring-forward becomes 03:30).
 */
export function fromZonedCompatible(local: LocalDateTime, timeZone: string): Date {
  const instants = fromZoned(local, timeZone);
  if (instants.length > 0) return instants[0]!;
  const asUtc = wallAsUtc(local);
  const offsetBefore = offsetAt(new Date(asUtc - 86_400_000), timeZone);
  return new Date(asUtc - offsetBefore);
}

const LOCAL_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** Parses `yyyy-MM-ddTHH:mm:ss` (no offset). `T24:00:00` is not a wall time and is rejected here. */
export function parseLocalDateTime(text: string): LocalDateTime {
  const match = LOCAL_PATTERN.exec(text);
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

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `yyyy-MM-ddTHH:mm:ss`, the shape SHIP uses for date-times. */
export function formatLocalDateTime(local: LocalDateTime): string {
  return `${formatLocalDate(local)}T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}`;
}

/** `yyyy-MM-dd`. */
export function formatLocalDate(local: Pick<LocalDateTime, 'year' | 'month' | 'day'>): string {
  return `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}`;
}

/** 0 = Sunday .. 6 = Saturday, for a calendar date (proleptic Gregorian). */
export function weekdayOf(local: Pick<LocalDateTime, 'year' | 'month' | 'day'>): number {
  const date = new Date(0);
  date.setUTCFullYear(local.year, local.month - 1, local.day);
  return date.getUTCDay();
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

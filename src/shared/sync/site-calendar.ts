/**
 * The dates the SALTO site's calendars mark Holiday, Special1 or Special2, read through SHIP.
 *
 * On such a date SALTO applies the timetable's intervals for that day type instead of the weekday's,
 * so a booking on a holiday must tick Holiday for that date's hours (periodAndTimetable's
 * specialDates). Which calendar applies to a card at a door is the user's (CalendarID) or the lock's
 * (UseLockCalendar=1): neither is something this product reads or controls, so it takes the marks of
 * every calendar of the site together. A date marked in any calendar gets its hours under its weekday
 * and under every day type a calendar gives it, so it opens whichever calendar is in force, and a
 * marked day type never carries hours the booking does not cover on each date it marks.
 *
 * Read once per client (a building's pass; a shadow client shares its client's reads), one year calendar per calendar and year a window touches.
 * A server that does not answer calendar reads (an unknown request, a licence without calendars, a
 * reply this project cannot read) has no marks for this product: bookings tick weekdays only, as
 * before calendars were read. Transient failures are thrown (the access level is tried again).
 */
import type { SpecialDayType } from '../access/index.ts';
import { isSaltoError, type SaltoClient } from '../salto/index.ts';

export type SpecialDates = ReadonlyMap<string, readonly SpecialDayType[]>;

const DAY_MS = 86_400_000;
/** Windows longer than this get whole days with timetable 0, which ignores day types. */
const LONGEST_WINDOW_MS = 9 * DAY_MS;

interface ClientCalendars {
  calendars: Promise<number[]> | undefined;
  years: Map<string, Promise<[string, SpecialDayType][]>>;
}

// Keyed by the client's endpoint object: one per client, shared by the shadow client wrapping it.
const cache = new WeakMap<object, ClientCalendars>();

/** A calendar read this product treats as "no calendars": anything permanent. */
function noCalendars(error: unknown): boolean {
  return isSaltoError(error) && error.kind === 'permanent';
}

/** The special dates of the years `windows` touch (±1 day for any time zone), all calendars together. */
export async function specialDatesFor(
  client: SaltoClient,
  windows: readonly { windowStart: Date; windowEnd: Date }[],
  log?: (line: string) => void,
): Promise<SpecialDates> {
  const years = new Set<number>();
  for (const { windowStart, windowEnd } of windows) {
    const start = windowStart.getTime();
    const end = windowEnd.getTime();
    if (!Number.isFinite(start) || !Number.isFinite(end) || end - start > LONGEST_WINDOW_MS) continue;
    for (const at of [start - DAY_MS, end + DAY_MS]) {
      const year = new Date(at).getUTCFullYear();
      if (year >= 1999 && year <= 2100) years.add(year);
    }
  }
  if (years.size === 0) return new Map();
  let state = cache.get(client.endpoint);
  if (!state) {
    state = { calendars: undefined, years: new Map() };
    cache.set(client.endpoint, state);
  }
  const known = state;
  known.calendars ??= client.listCalendars().then(
    (calendars) => calendars.map((c) => c.id),
    (error: unknown) => {
      if (noCalendars(error)) {
        log?.(`SALTO calendars cannot be read (${(error as Error).message}); weekdays only`);
        return [];
      }
      known.calendars = undefined;
      throw error;
    },
  );
  const calendarIds = await known.calendars;
  const reads: Promise<[string, SpecialDayType][]>[] = [];
  for (const calendarId of calendarIds) {
    for (const year of years) {
      const key = `${calendarId}/${year}`;
      let read = known.years.get(key);
      if (!read) {
        read = client.readYearCalendar(calendarId, year).then(
          (calendar) => [...calendar.marks],
          (error: unknown) => {
            if (noCalendars(error)) return [];
            known.years.delete(key);
            throw error;
          },
        );
        known.years.set(key, read);
      }
      reads.push(read);
    }
  }
  const dates = new Map<string, SpecialDayType[]>();
  for (const marks of await Promise.all(reads)) {
    for (const [date, type] of marks) {
      const types = dates.get(date) ?? [];
      if (!types.includes(type)) types.push(type);
      dates.set(date, types);
    }
  }
  return dates;
}

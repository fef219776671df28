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
 * Read once per client (the nightly cleanup's run of a building; a shadow client shares its client's
 * reads), one year calendar per calendar and year a window touches. The sync keeps what it read for
 * the building across its passes (SiteCalendars): a timetable is then computed from calendars read at
 * most CALENDARS_MAX_AGE_MS before the access level's reconciliation began, never older
 * (docs/decisions/0038).
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

/** The years `windows` touch (±1 day for any time zone); none for windows that ignore day types. */
function yearsOf(windows: readonly { windowStart: Date; windowEnd: Date }[]): Set<number> {
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
  return years;
}

/** The special dates of the years `windows` touch (±1 day for any time zone), all calendars together. */
export async function specialDatesFor(
  client: SaltoClient,
  windows: readonly { windowStart: Date; windowEnd: Date }[],
  log?: (line: string) => void,
): Promise<SpecialDates> {
  const years = yearsOf(windows);
  if (years.size === 0) return new Map();
  let state = cache.get(client.endpoint);
  if (!state) {
    state = { calendars: undefined, years: new Map() };
    cache.set(client.endpoint, state);
  }
  return marksOf(state, client, years, log);
}

/**
 * How old the calendars a sync pass computes a timetable from may be (from the moment their list read
 * was sent until the reconciliation of the access level that uses them begins). A holiday marked in
 * SALTO is in every timetable the sync computes from then on at most this much later; timetables
 * written before are brought in line by the next change of their bookings or the nightly cleanup,
 * which reads the calendars afresh (as for a holiday marked after a booking was written).
 */
export const CALENDARS_MAX_AGE_MS = 60_000;

/**
 * The calendars of each building's SALTO site as the sync read them, kept across its passes in one
 * worker (a pass ends at its CPU budget, after a few dozen access levels: reading them once per pass
 * cost two SALTO calls per building per pass), each used for at most `maxAgeMs` after its list read
 * was sent, then read again. Keyed by building and by the server's address, so a building moved to another server reads
 * that one's. A read that failed for a reason of the moment is not kept: the next access level asks
 * again.
 */
export class SiteCalendars {
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #sites = new Map<string, { readAt: number; state: ClientCalendars }>();

  constructor({ maxAgeMs = CALENDARS_MAX_AGE_MS, now = Date.now }: { maxAgeMs?: number; now?: () => number } = {}) {
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  /** specialDatesFor, from this building's calendars as read at most maxAgeMs ago (read now otherwise). */
  async specialDates(
    building: { buildingId: string; endpoint: { transport: string; host: string; port: number; path?: string } },
    client: SaltoClient,
    windows: readonly { windowStart: Date; windowEnd: Date }[],
    log?: (line: string) => void,
  ): Promise<SpecialDates> {
    const years = yearsOf(windows);
    if (years.size === 0) return new Map();
    const { transport, host, port, path = '/' } = building.endpoint;
    const key = `${building.buildingId} ${transport}://${host}:${port}${path}`;
    const now = this.#now();
    let site = this.#sites.get(key);
    if (!site || now - site.readAt >= this.#maxAgeMs) {
      // Sites not asked for since their bound passed are forgotten (a worker serves many buildings).
      for (const [other, entry] of this.#sites) if (now - entry.readAt >= this.#maxAgeMs) this.#sites.delete(other);
      site = { readAt: now, state: { calendars: undefined, years: new Map() } };
      this.#sites.set(key, site);
    }
    return marksOf(site.state, client, years, log);
  }
}

/** The marks of `years` in every calendar, each read once into `state` (a failed read is tried again next time). */
async function marksOf(
  known: ClientCalendars,
  client: SaltoClient,
  years: ReadonlySet<number>,
  log?: (line: string) => void,
): Promise<SpecialDates> {
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

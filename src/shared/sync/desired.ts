/**
 * From the database's answer "which access window should each zone of this access level open" to the
 * SALTO zone permissions to write: period and timetable in the building's time zone, and the
 * timetable each needs from the building's slot pool.
 *
 * Pure: the engine (engine.ts) allocates the slots and talks to SALTO and the database.
 */
import {
  type TimetableInterval as AccessInterval,
  type Timetable as AccessTimetable,
  ALWAYS_TIMETABLE_ID,
  periodAndTimetable,
  timetableKey,
} from '../access/index.ts';
import { allDays, periodForDates, type TimetableInterval, type ZonePermission } from '../salto/index.ts';

/** One desired window of integration.desired_access_levels: the window one zone of an access level should open. */
export interface DesiredZoneWindow {
  zoneId: string;
  facilityId: string;
  windowStart: Date;
  windowEnd: Date;
  bookingIds: string[];
}

/** A zone permission the bookings desire, before its timetable has a slot. */
export interface DesiredPermission {
  zoneId: string;
  facilityId: string;
  bookingIds: string[];
  windowStart: Date;
  windowEnd: Date;
  periodStart: string;
  periodEnd: string;
  /** `always` needs no slot (SALTO's timetable 0); otherwise the slot content. */
  timetableKey: string;
  intervals: TimetableInterval[];
  exact: boolean;
  /** Plain-language notes for managers (rounding, why not exact). */
  notes: string[];
}

export const ALWAYS_KEY = 'always';

const SHIP_DAY: Record<AccessInterval['days'][number], keyof ReturnType<typeof allDays>> = {
  Monday: 'monday',
  Tuesday: 'tuesday',
  Wednesday: 'wednesday',
  Thursday: 'thursday',
  Friday: 'friday',
  Saturday: 'saturday',
  Sunday: 'sunday',
  Holiday: 'holiday',
  Special1: 'special1',
  Special2: 'special2',
};

/** The access domain's timetable as SHIP intervals (day types as SaltoDBTimezone flags). */
export function shipIntervals(timetable: AccessTimetable): TimetableInterval[] {
  if (timetable.kind === 'always') return [];
  return timetable.intervals.map((interval) => {
    const days = allDays(false);
    for (const day of interval.days) days[SHIP_DAY[day]] = true;
    return { start: interval.start, end: interval.end, days };
  });
}

export function desiredPermission(window: DesiredZoneWindow, timeZone: string): DesiredPermission {
  const hours = periodAndTimetable({ start: window.windowStart, end: window.windowEnd }, timeZone);
  return {
    zoneId: window.zoneId,
    facilityId: window.facilityId,
    bookingIds: window.bookingIds,
    windowStart: window.windowStart,
    windowEnd: window.windowEnd,
    periodStart: hours.period.startDate,
    periodEnd: hours.period.endDate,
    timetableKey: timetableKey(hours.timetable),
    intervals: shipIntervals(hours.timetable),
    exact: hours.exact,
    notes: hours.notes,
  };
}

/** The SALTO zone permission for a desired one, once its timetable has a slot (0 for always). */
export function zonePermission(desired: DesiredPermission, timetableId: number): ZonePermission {
  return {
    zoneId: desired.zoneId,
    timetableId: desired.timetableKey === ALWAYS_KEY ? ALWAYS_TIMETABLE_ID : timetableId,
    usePeriod: true,
    period: periodForDates(desired.periodStart, desired.periodEnd),
  };
}

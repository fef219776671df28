/**
 * Does a permission open the door at a given local date-time?
 *
 * Why: this is SALTO's rule (salto-ship.md: date inside the period, and some interval of the
 * timetable covers the time on that date's day type) written down once, so tests, the access status
 * shown to managers and drift checks can all ask what a permission really grants.
 */

import {
  dayNumberOf,
  type LocalDateTime,
  localDateOfDay,
  localDateTimeAt,
  wallMsOf,
  weekdayOfDay,
} from '../time/local-time.ts';
import type { Period } from './period-and-timetable.ts';
import { type DayType, secondsOfLocalTime, type Timetable } from './timetable.ts';

export interface PermissionHours {
  period: Period;
  timetable: Timetable;
}

/**
 * True when `permission` opens the door at the local date-time `at`. `dayType` defaults to the date's
 * weekday; pass 'Holiday' (or a Special) for a date the site's calendar marks.
 */
export function opensAt(permission: PermissionHours, at: LocalDateTime, dayType?: DayType): boolean {
  const wallMs = wallMsOf(at);
  const day = dayNumberOf(wallMs);
  const date = localDateOfDay(day);
  if (date < permission.period.startDate || date > permission.period.endDate) return false;
  const timetable = permission.timetable;
  if (timetable.kind === 'always') return true;
  const seconds = at.hour * 3600 + at.minute * 60 + at.second;
  const type = dayType ?? weekdayOfDay(day);
  return timetable.intervals.some(
    (interval) =>
      interval.days.includes(type) &&
      secondsOfLocalTime(interval.start) <= seconds &&
      seconds < secondsOfLocalTime(interval.end),
  );
}

/** True when `permission` opens the door at `instant` in the building's time zone (weekday day types). */
export function opensAtInstant(permission: PermissionHours, instant: Date, timeZone: string): boolean {
  return opensAt(permission, localDateTimeAt(instant, timeZone));
}

/**
 * Effective access, from the site state alone: may a card of access level G open zone Z at the local
 * wall time T of the SALTO server? Tests use this to prove a booking's exact access window.
 *
 * Rules (docs/salto-ship.md, "Semantics this project assumes"): G holds a permission for Z; the period (when used)
 * contains T's date, date-granular and inclusive; the timetable (0 = always) has an interval on T's day
 * type with start <= time < end, where an end of 24:00:00 is the end of the day. A date the calendar in
 * force marks as a holiday (or Special1 / Special2) uses that day type instead of its weekday. Which
 * calendar is in force is the caller's to say (a card's user's CalendarID, or the lock's calendar for
 * a user with UseLockCalendar=1); calendar 1 when none is named (README).
 */
import type { DayTypes } from '../shared/salto/model.ts';
import {
  formatLocalDate,
  formatLocalDateTime,
  type LocalDateTime,
  localDateTimeAt,
  parseLocalDateTime,
  type Weekday,
  weekdayOf,
} from '../shared/time/local-time.ts';
import { DEFAULT_CALENDAR_ID, type SiteState } from './state.ts';

const DAY_TYPE_OF: Record<Weekday, keyof DayTypes> = {
  Monday: 'monday',
  Tuesday: 'tuesday',
  Wednesday: 'wednesday',
  Thursday: 'thursday',
  Friday: 'friday',
  Saturday: 'saturday',
  Sunday: 'sunday',
};

export interface AccessDecision {
  readonly open: boolean;
  /** Why, in words, for test failure messages and the control API. */
  readonly reason: string;
  /** The local wall time the decision was made for. */
  readonly localTime: string;
}

export interface AccessOptions {
  /** The calendar that gives dates their day type (default: calendar 1). */
  readonly calendarId?: number | undefined;
}

/** The day type of a local date under a calendar: its weekday unless the calendar marks it. */
export function dayTypeOf(site: SiteState, local: LocalDateTime, calendarId = DEFAULT_CALENDAR_ID): keyof DayTypes {
  return site.calendars.get(calendarId)?.marks.get(formatLocalDate(local)) ?? DAY_TYPE_OF[weekdayOf(local)];
}

/** `at`: an instant (converted to the site's zone) or a local wall time `yyyy-MM-ddTHH:mm:ss`. */
export function decideAccess(
  site: SiteState,
  accessLevelId: string,
  zoneId: string,
  at: Date | string | LocalDateTime,
  options: AccessOptions = {},
): AccessDecision {
  const local: LocalDateTime =
    at instanceof Date ? localDateTimeAt(at, site.timeZone) : typeof at === 'string' ? parseLocalDateTime(at) : at;
  const localTime = formatLocalDateTime(local);
  const decide = (open: boolean, reason: string): AccessDecision => ({ open, reason, localTime });

  const level = site.accessLevels.get(accessLevelId);
  if (!level) return decide(false, `access level ${accessLevelId} does not exist`);
  const permission = level.permissions.find((p) => p.zoneId === zoneId);
  if (!permission) return decide(false, `${accessLevelId} has no permission for zone ${zoneId}`);

  return decidePermission(site, permission, local, options, decide);
}

/** The period and timetable of one permission (zone or door) at a local time. */
function decidePermission(
  site: SiteState,
  permission: { usePeriod: boolean; startDate?: string; endDate?: string; timetableId: number },
  local: LocalDateTime,
  options: AccessOptions,
  decide: (open: boolean, reason: string) => AccessDecision,
): AccessDecision {
  const localTime = formatLocalDateTime(local);
  const date = formatLocalDate(local);
  if (permission.usePeriod) {
    const first = permission.startDate!.slice(0, 10);
    const last = permission.endDate!.slice(0, 10);
    if (date < first || date > last) return decide(false, `${date} is outside the period ${first}..${last}`);
  }
  if (permission.timetableId === 0) return decide(true, 'timetable 0 (always)');

  const timetable = site.timetables.get(permission.timetableId);
  if (!timetable) return decide(false, `timetable ${permission.timetableId} does not exist`);
  const dayType = dayTypeOf(site, local, options.calendarId);
  const time = localTime.slice(11);
  const interval = timetable.intervals.find((i) => i.days[dayType] && i.start <= time && time < i.end);
  return interval
    ? decide(true, `timetable ${timetable.id} interval ${interval.start}-${interval.end} on ${dayType}`)
    : decide(false, `no interval of timetable ${timetable.id} covers ${time} on ${dayType}`);
}

/** The door-level question: any zone of the door opens. */
export function decideDoorAccess(
  site: SiteState,
  accessLevelId: string,
  doorId: string,
  at: Date | string,
  options: AccessOptions = {},
): AccessDecision {
  const door = site.doors.get(doorId);
  if (!door) return { open: false, reason: `door ${doorId} does not exist`, localTime: '' };
  // The lock's calendar unless the caller names the card's.
  const calendarId = options.calendarId ?? door.calendarId;
  let last: AccessDecision | undefined;
  // A door permission of the access level opens the door itself.
  const direct = site.accessLevels.get(accessLevelId)?.doorPermissions?.find((p) => p.doorId === doorId);
  if (direct) {
    const local: LocalDateTime = at instanceof Date ? localDateTimeAt(at, site.timeZone) : parseLocalDateTime(at);
    const localTime = formatLocalDateTime(local);
    last = decidePermission(site, direct, local, { calendarId }, (open, reason) => ({
      open,
      reason: `door permission: ${reason}`,
      localTime,
    }));
    if (last.open) return last;
  }
  for (const zoneId of door.zoneIds) {
    last = decideAccess(site, accessLevelId, zoneId, at, { calendarId });
    if (last.open) return last;
  }
  return last ?? { open: false, reason: `door ${doorId} belongs to no zone`, localTime: '' };
}

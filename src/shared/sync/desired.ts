/**
 * From the database's answer "which access window should each zone of this access level open" to the
 * SALTO zone permissions to write: period and timetable in the building's time zone, the timetable
 * each needs from the building's slot pool, and which of them this project may write at all (only
 * permissions it wrote itself are ever changed or removed: ownedZones).
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
import {
  allDays,
  periodForDates,
  samePermission,
  type TimetableInterval,
  type ZonePermission,
} from '../salto/index.ts';
import type { SpecialDates } from './site-calendar.ts';
import type { AlertInput, BookingFailure } from './store.ts';

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

/**
 * The local dates this project writes to SALTO: those of the bookings the database accepts
 * (private.booking_time_problem: from 2000-01-01 to before 2100-01-01 UTC, widened by buffers and
 * shifted to any time zone), all with the four-digit years SHIP writes. A window reaching past them
 * (a booking ending at 'infinity', in year 9999 where the building's local date is already
 * 10000-01-01, stored before the database refused such bookings) fails alone instead of being sent.
 */
export const FIRST_SALTO_DATE = '1999-01-01';
export const LAST_SALTO_DATE = '2100-12-31';

/** Why SALTO cannot express a window, for managers; undefined when it can (as far as we can tell before computing it). */
function unexpressibleWindow(window: DesiredZoneWindow): string | undefined {
  const start = window.windowStart.getTime();
  const end = window.windowEnd.getTime();
  if (!Number.isFinite(start)) return 'it has no start SALTO can hold (it starts at -infinity, or before 271821 BC)';
  if (!Number.isFinite(end)) return 'it has no end SALTO can hold (it ends at infinity, or after the year 275760)';
  if (!(end > start)) {
    return 'its access window, buffers included, is shorter than a millisecond (it ends when it starts)';
  }
  return undefined;
}

function unexpressiblePeriod(startDate: string, endDate: string): string | undefined {
  const salto = (date: string) =>
    /^\d{4}-\d{2}-\d{2}$/.test(date) && date >= FIRST_SALTO_DATE && date <= LAST_SALTO_DATE;
  const range = `SALTO is written dates from ${FIRST_SALTO_DATE} to ${LAST_SALTO_DATE} only`;
  if (!salto(startDate)) return `it starts on ${startDate} (building time), and ${range}`;
  if (!salto(endDate)) return `it ends on ${endDate} (building time), and ${range}`;
  return undefined;
}

/** Thrown by desiredPermission for a window SALTO cannot express; `why` is written for managers. */
export class UnwritableWindowError extends RangeError {
  constructor(readonly why: string) {
    super(`This booking's window cannot be written to SALTO: ${why}. Correct or cancel the booking.`);
  }
}

/**
 * The permission a window desires. Throws UnwritableWindowError for a window SALTO cannot express
 * (desiredPermissions fails it alone).
 */
export function desiredPermission(
  window: DesiredZoneWindow,
  timeZone: string,
  specialDates?: SpecialDates,
): DesiredPermission {
  const unexpressible = unexpressibleWindow(window);
  if (unexpressible !== undefined) throw new UnwritableWindowError(unexpressible);
  let hours: ReturnType<typeof periodAndTimetable>;
  try {
    hours = periodAndTimetable(
      { start: window.windowStart, end: window.windowEnd },
      timeZone,
      specialDates ? { specialDates } : {},
    );
  } catch (error) {
    throw new UnwritableWindowError(
      `its period and timetable cannot be computed in ${timeZone} (${(error as Error).message ?? String(error)})`,
    );
  }
  const outside = unexpressiblePeriod(hours.period.startDate, hours.period.endDate);
  if (outside !== undefined) throw new UnwritableWindowError(outside);
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

/** A window SALTO cannot express, and why (UnwritableWindowError's message). */
export interface UnwritableWindow {
  window: DesiredZoneWindow;
  reason: string;
}

/**
 * The permissions the windows desire, and the windows SALTO cannot express: those fail alone (their
 * bookings, with the reason), and the access level's other windows are still written.
 */
export function desiredPermissions(
  windows: readonly DesiredZoneWindow[],
  timeZone: string,
  /** Dates the site's calendars mark (site-calendar.ts): their hours are ticked under those day types too. */
  specialDates?: SpecialDates,
): { desired: DesiredPermission[]; unwritable: UnwritableWindow[] } {
  const desired: DesiredPermission[] = [];
  const unwritable: UnwritableWindow[] = [];
  for (const window of windows) {
    try {
      const permission = desiredPermission(window, timeZone, specialDates);
      // What the write will need, checked now: a period SHIP refuses fails this window, not the write.
      zonePermission(permission, 0);
      desired.push(permission);
    } catch (error) {
      const reason =
        error instanceof UnwritableWindowError
          ? error.message
          : new UnwritableWindowError(
              `it cannot be turned into a SALTO permission (${(error as Error).message ?? String(error)})`,
            ).message;
      unwritable.push({ window, reason });
    }
  }
  return { desired, unwritable };
}

/** Which zone permissions of an access level are this project's to write, and which are not. */
export interface Ownership {
  /** Zones whose permission this project may add, change or remove (mergeZonePermissions' managed zones). */
  ours: string[];
  /** The desired permissions on those zones. */
  writable: DesiredPermission[];
  /** Desired permissions on a zone SALTO holds with a permission this project did not write: never written. */
  held: DesiredPermission[];
  /** Every permission of the access level this project did not write, as read: written back as it was. */
  notOurs: ZonePermission[];
}

/**
 * The rule "change or remove only what we wrote", for one access level:
 * - a zone this project wrote a permission for (integration.written_permissions, `written`) is ours,
 *   whatever SALTO holds there now (a permission of ours changed or removed by hand is put back);
 * - a zone SALTO holds nothing on becomes ours when a booking needs it (the write makes it so);
 * - a zone SALTO holds a permission on that we did not write is not ours, even when a facility names
 *   it or someone added it by hand after ours was removed: it is kept as read, and the bookings that
 *   would need it are `held` (they fail with a reason, heldZoneFailure). One exception: SALTO holding
 *   exactly the permission we would write (same period, our timetable slot for the same hours) is
 *   ours; it is what a write whose record was lost leaves (the function stopped between the two), and
 *   taking it changes nothing in SALTO.
 * `writtenSlots`: the building's timetable slots SALTO holds, with their contents' keys.
 */
export function ownedZones(
  current: readonly ZonePermission[],
  desired: readonly DesiredPermission[],
  written: readonly string[],
  writtenSlots: readonly { slot: number; key: string }[],
): Ownership {
  const ours = new Set(written);
  const held: DesiredPermission[] = [];
  for (const permission of desired) {
    if (ours.has(permission.zoneId)) continue;
    const found = current.filter((p) => p.zoneId === permission.zoneId);
    if (found.length === 0 || (found.length === 1 && isWhatWeWouldWrite(found[0]!, permission, writtenSlots))) {
      ours.add(permission.zoneId);
    } else {
      held.push(permission);
    }
  }
  return {
    ours: [...ours],
    writable: desired.filter((p) => ours.has(p.zoneId)),
    held,
    notOurs: current.filter((p) => !ours.has(p.zoneId)),
  };
}

function isWhatWeWouldWrite(
  found: ZonePermission,
  desired: DesiredPermission,
  writtenSlots: readonly { slot: number; key: string }[],
): boolean {
  const slots =
    desired.timetableKey === ALWAYS_KEY
      ? [ALWAYS_TIMETABLE_ID]
      : writtenSlots.filter((s) => s.key === desired.timetableKey).map((s) => s.slot);
  return slots.some((slot) => samePermission(found, zonePermission(desired, slot)));
}

/** Why a facility whose zone SALTO holds permanently cannot be booked (the facility's flag says the same). */
export function heldZoneReason(zoneId: string, holders: number): string {
  return `Zone "${zoneId}" is held permanently by ${holders === 1 ? '1 access level' : `${holders} access levels`}; a bookable facility needs a zone of its own. Give the facility its own zone in SALTO and set its Access Control Facility ID (Settings > Facilities; Studio: public.facilities.access_control_facility_id).`;
}

/**
 * The bookings of a held permission fail, and the managers are alerted once per facility and zone:
 * the permission SALTO holds on the zone was not written by this project, so it is never changed.
 * `holders`: how many access levels are known to hold the zone so (at least this one).
 */
export function heldZoneFailure(
  buildingId: string,
  accessLevelId: string,
  permission: DesiredPermission,
  holders: number,
): { failure: BookingFailure & { zoneIds: string[] }; alert: AlertInput } {
  const reason = `${heldZoneReason(permission.zoneId, Math.max(holders, 1))} connecX never changes a permission it did not write; if the zone is right and the apartment's Access Control ID ("${accessLevelId}") names a shared access level, set it to the apartment's own (Building > Apartments).`;
  return {
    failure: { zoneIds: [permission.zoneId], bookingIds: permission.bookingIds, reason },
    alert: {
      kind: 'access_not_in_place',
      dedupeKey: `zone_held_permanently:${buildingId}:${permission.facilityId}:${permission.zoneId}`,
      bookingId: permission.bookingIds[0],
      details: {
        reason: 'zone_held_permanently',
        zone_id: permission.zoneId,
        facility_id: permission.facilityId,
        access_level_id: accessLevelId,
        access_levels: Math.max(holders, 1),
      },
    },
  };
}

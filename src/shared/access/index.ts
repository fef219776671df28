/**
 * Access domain: which SALTO zone permission each apartment should hold, and with which period and
 * timetable. Pure, runtime-neutral TypeScript (Intl and Date only) shared by the Deno edge functions
 * and the Node tests. The flow it serves:
 *   booking -> accessWindow -> decidePermissions (one permission per apartment and facility)
 *   -> periodAndTimetable (building time zone) -> timetableKey -> allocateTimetableSlots.
 */

export {
  type AccessBuffers,
  type AccessWindow,
  accessWindow,
  type BookingForAccess,
  type BookingStatus,
  NO_BUFFERS,
} from './access-window.ts';
export { type LocalDate, type LocalTime, WEEKDAYS, type Weekday } from './local-time.ts';
export {
  type BookingAccessDecision,
  decideOnePermission,
  decidePermissions,
  type OnePermissionDecision,
  type PairPermissionDecision,
  type ServedGroup,
} from './one-permission.ts';
export {
  type LocalDateTime,
  localDateTimeAt,
  opensAt,
  opensAtInstant,
  type PermissionHours,
} from './opens-at.ts';
export {
  MAX_EXACT_DATES,
  type Period,
  type PeriodAndTimetable,
  type PeriodAndTimetableOptions,
  periodAndTimetable,
} from './period-and-timetable.ts';
export {
  ALWAYS,
  ALWAYS_TIMETABLE_ID,
  canonicalTimetable,
  DAY_TYPES,
  type DayType,
  SPECIAL_DAY_TYPES,
  type SpecialDayType,
  type Timetable,
  type TimetableInterval,
  timetableKey,
} from './timetable.ts';
export {
  allocateTimetableSlots,
  type TimetableSlotAllocation,
  type TimetableSlotAllocationInput,
  type TimetableSlotAssignment,
  type TimetableSlotContent,
  type TimetableSlotRange,
  type TimetableSlotWrite,
} from './timetable-slots.ts';

/**
 * Access domain: which SALTO zone permission each apartment should hold, and with which period and
 * timetable. Pure, runtime-neutral TypeScript (Intl and Date only) shared by the Deno edge functions
 * and the Node tests. The flow it serves:
 *   booking -> accessWindow -> decidePermissions (one permission per apartment and facility)
 *   -> periodAndTimetable (building time zone) -> timetableKey -> allocateTimetableSlots.
 */

export {
  accessWindow,
  NO_BUFFERS,
  type AccessBuffers,
  type AccessWindow,
  type BookingForAccess,
  type BookingStatus,
} from './access-window.ts';
export {
  decideOnePermission,
  decidePermissions,
  type BookingAccessDecision,
  type OnePermissionDecision,
  type PairPermissionDecision,
  type ServedGroup,
} from './one-permission.ts';
export {
  periodAndTimetable,
  MAX_EXACT_DATES,
  type Period,
  type PeriodAndTimetable,
  type PeriodAndTimetableOptions,
} from './period-and-timetable.ts';
export {
  ALWAYS,
  ALWAYS_TIMETABLE_ID,
  DAY_TYPES,
  SPECIAL_DAY_TYPES,
  canonicalTimetable,
  timetableKey,
  type DayType,
  type SpecialDayType,
  type Timetable,
  type TimetableInterval,
} from './timetable.ts';
export {
  localDateTimeAt,
  opensAt,
  opensAtInstant,
  type LocalDateTime,
  type PermissionHours,
} from './opens-at.ts';
export {
  allocateTimetableSlots,
  type TimetableSlotAllocation,
  type TimetableSlotAllocationInput,
  type TimetableSlotAssignment,
  type TimetableSlotContent,
  type TimetableSlotRange,
  type TimetableSlotWrite,
} from './timetable-slots.ts';
export { WEEKDAYS, type LocalDate, type LocalTime, type Weekday } from './local-time.ts';

/**
 * Access domain: the SALTO zone permission for an access window the database decided (one permission
 * per apartment and facility, integration.permission_groups): its period and timetable in the
 * building's time zone, and the building's timetable slot it takes. Pure, runtime-neutral TypeScript
 * (Intl and Date only) shared by the Deno edge functions and the Node tests. The flow it serves:
 *   access window -> periodAndTimetable (building time zone) -> timetableKey -> allocateTimetableSlots.
 */

export {
  type LocalDate,
  type LocalDateTime,
  type LocalTime,
  localDateTimeAt,
  WEEKDAYS,
  type Weekday,
} from '../time/local-time.ts';
export {
  type AccessBuffers,
  type AccessWindow,
  accessWindow,
  type BookingForAccess,
  type BookingStatus,
  NO_BUFFERS,
} from './access-window.ts';
export { opensAt, opensAtInstant, type PermissionHours } from './opens-at.ts';
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

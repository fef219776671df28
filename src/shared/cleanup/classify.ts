/**
 * What the nightly cleanup did to one zone permission of an access level, in the words of its report.
 *
 * Three versions of the permission meet: what this project last wrote (integration.written_permissions,
 * with the bookings it was written for), what SALTO actually holds, and what the bookings ask for now.
 * Pure: the engine (engine.ts) gathers the three and records the outcome.
 */
import { periodForDates, samePermission, type ZonePermission } from '../salto/index.ts';

export type ZoneChange = 'cleared' | 'handed_over' | 'repaired' | 'synced';

/** A row of integration.written_permissions. */
export interface WrittenRecord {
  zoneId: string;
  timetableId: number;
  periodStart: string;
  periodEnd: string;
  bookingIds: string[];
}

/** The SALTO permission a written record stands for. */
export function asZonePermission(record: Omit<WrittenRecord, 'bookingIds'>): ZonePermission {
  return {
    zoneId: record.zoneId,
    timetableId: record.timetableId,
    usePeriod: true,
    period: periodForDates(record.periodStart, record.periodEnd),
  };
}

/**
 * Classifies a managed zone whose permission the cleanup added, changed or removed:
 * - cleared: nothing is wanted any more, and the permission was ours (its bookings finished or were
 *   cancelled);
 * - handed_over: SALTO held what we wrote, for bookings that no longer hold the permission, and it
 *   now serves others (the next waiting booking);
 * - repaired: SALTO differed from what we wrote (removed, changed or added by hand);
 * - synced: a booking change the sync had not yet written (say, while SALTO was unreachable).
 */
export function classifyZoneChange(input: {
  written?: WrittenRecord | undefined;
  actual?: ZonePermission | undefined;
  desired?: { permission: ZonePermission; bookingIds: string[] } | undefined;
}): ZoneChange {
  const { written, actual, desired } = input;
  if (!desired) return written ? 'cleared' : 'repaired';
  if (!written) return actual ? 'repaired' : 'synced';
  const wrote = asZonePermission(written);
  const servesOthers =
    written.bookingIds.length > 0 && !written.bookingIds.some((id) => desired.bookingIds.includes(id));
  if (actual && samePermission(actual, wrote)) return servesOthers ? 'handed_over' : 'synced';
  if (!actual && !samePermission(wrote, desired.permission) && servesOthers) return 'handed_over';
  return 'repaired';
}

/**
 * What the nightly cleanup did to one zone permission of an access level, in the words of its report.
 *
 * Three versions of the permission meet: what this project last wrote (integration.written_permissions,
 * with the bookings it was written for), what SALTO actually holds, and what the bookings ask for now.
 * Only zones whose permission this project wrote are ever changed (src/shared/sync/desired.ts,
 * ownedZones): a permission SALTO holds that it did not write, even on a facility's zone, is reported
 * (PermanentPermissions, permanentReport), never "repaired".
 * Pure: the engine (engine.ts) gathers the three and records the outcome.
 */
import { periodForDates, samePermission, type ZonePermission } from '../salto/index.ts';
import { heldZoneReason } from '../sync/desired.ts';

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
 * Classifies a zone of ours whose permission the cleanup added, changed or removed:
 * - cleared: nothing is wanted any more, and the permission was ours (its bookings finished or were
 *   cancelled);
 * - handed_over: SALTO held what we wrote, for bookings that no longer hold the permission, and it
 *   now serves others (the next waiting booking);
 * - repaired: SALTO differed from what we wrote (our permission removed or changed by hand);
 * - synced: a booking change the sync had not yet written (say, while SALTO was unreachable).
 * A zone we wrote nothing on is changed only where SALTO holds nothing on it (synced).
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

/**
 * What a cleanup run found of the permissions this project did not write, per zone: which access
 * levels hold each zone so (integration.record_permanent_permissions_check keeps those on zones a
 * facility names, of apartments' access levels), and which access levels were read at all (a level
 * the run could not read keeps what was recorded of it).
 */
export class PermanentPermissions {
  readonly #holders = new Map<string, string[]>();
  readonly #checked: string[] = [];

  add(accessLevelId: string, notOurs: readonly ZonePermission[]) {
    this.#checked.push(accessLevelId);
    for (const zoneId of new Set(notOurs.map((p) => p.zoneId))) {
      const holders = this.#holders.get(zoneId) ?? [];
      holders.push(accessLevelId);
      this.#holders.set(zoneId, holders);
    }
  }

  /** As integration.record_permanent_permissions_check takes them. */
  toJson(): { held: Record<string, string[]>; checked: string[] } {
    return { held: Object.fromEntries(this.#holders), checked: [...this.#checked] };
  }
}

/** A zone a facility names that apartments' access levels hold permanently, as the check returns it. */
export interface SharedZone {
  zoneId: string;
  facilityIds: string[];
  facilityNames: string[];
  accessLevelIds: string[];
}

/** Access levels named in one report entry at most (the count is always whole; shared_facility_zones lists them all). */
const REPORTED_ACCESS_LEVELS = 20;

/** The report's entry for a shared zone: what was kept and why, instead of a repair. */
export function permanentReport(zone: SharedZone): Record<string, unknown> {
  return {
    zone_id: zone.zoneId,
    facility_ids: zone.facilityIds,
    facility_names: zone.facilityNames,
    access_levels: zone.accessLevelIds.length,
    access_level_ids: zone.accessLevelIds.slice(0, REPORTED_ACCESS_LEVELS),
    reason: heldZoneReason(zone.zoneId, zone.accessLevelIds.length),
  };
}

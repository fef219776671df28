/**
 * The nightly cleanup's access to the database: leasing runs, the building's SALTO lease, what to
 * reconcile, and the report. Desired permissions and recorded outcomes are the sync store's
 * (src/shared/sync/store.ts).
 */
import type { Sql } from 'postgres';
import type { AccessLevelWork } from '../sync/store.ts';
import type { PermanentPermissions, SharedZone, WrittenRecord } from './classify.ts';

/** A cleanup run (integration.cleanup_runs) this invocation leased. */
export interface LeasedRun {
  runId: string;
  buildingId: string;
  /** yyyy-MM-dd, building-local. */
  localDate: string;
  attempt: number;
}

/** paused: a slice of the run is done and the next call goes on after it (the run stays running). */
export type RunStatus = 'completed' | 'paused' | 'failed' | 'unreachable';

export interface CleanupCounts {
  cleared: number;
  handed_over: number;
  repaired: number;
  synced: number;
  failed: number;
  slots_recycled: number;
  unknown_ids: number;
  access_levels_checked: number;
  salto_calls: number;
}

export interface CleanupDetails {
  cleared: Record<string, unknown>[];
  handed_over: Record<string, unknown>[];
  repaired: Record<string, unknown>[];
  synced: Record<string, unknown>[];
  failed: Record<string, unknown>[];
  /** Facilities' zones that apartments' access levels hold with permissions this project did not write: kept, not repaired. */
  permanent: Record<string, unknown>[];
}

export interface UnknownSaltoId {
  kind: 'zone' | 'access_level';
  saltoId: string;
  facilityId: string | null;
  apartmentId: string | null;
}

interface LeasedRow {
  run_id: string;
  building_id: string;
  local_date: string;
  attempts: number;
}

const leasedRun = (r: LeasedRow): LeasedRun => ({
  runId: r.run_id,
  buildingId: r.building_id,
  localDate: r.local_date,
  attempt: r.attempts,
});

export function createCleanupStore(sql: Sql) {
  return {
    /** Due runs (of these buildings, or any), at most `limit`. */
    async leaseRuns(
      invocation: string,
      leaseSeconds: number,
      buildingIds: readonly string[] | undefined,
      limit: number,
    ): Promise<LeasedRun[]> {
      const rows = await sql<LeasedRow[]>`
        select run_id, building_id, local_date::text as local_date, attempts
        from integration.lease_cleanup_runs(${invocation}, make_interval(secs => ${leaseSeconds}),
          ${buildingIds ? sql`${buildingIds as string[]}::uuid[]` : null}, ${limit})`;
      return rows.map(leasedRun);
    },

    /** The run a dispatch (integration.dispatch_cleanups) leased for this call; none when it lost it. */
    async takeDispatchedRun(
      runId: string,
      dispatch: string,
      invocation: string,
      leaseSeconds: number,
    ): Promise<LeasedRun[]> {
      const rows = await sql<LeasedRow[]>`
        select run_id, building_id, local_date::text as local_date, attempts
        from integration.take_cleanup_run(${runId}, ${dispatch}, ${invocation}, make_interval(secs => ${leaseSeconds}))`;
      return rows.map(leasedRun);
    },

    async renewRunLease(runId: string, invocation: string, leaseSeconds: number): Promise<boolean> {
      const [row] = await sql<{ ok: boolean }[]>`
        select integration.renew_cleanup_lease(${runId}, ${invocation}, make_interval(secs => ${leaseSeconds})) as ok`;
      return row?.ok ?? false;
    },

    async takeBuildingLease(buildingId: string, invocation: string, leaseSeconds: number): Promise<boolean> {
      const [row] = await sql<{ ok: boolean }[]>`
        select integration.take_building_lease(${buildingId}, ${invocation}, make_interval(secs => ${leaseSeconds})) as ok`;
      return row?.ok ?? false;
    },

    /**
     * Records the finished pairs of the apartments whose access levels a slice cleans (and of those
     * without one) as booking changes, to be folded before the slice reads what they desire.
     */
    async refreshFinishedPairs(buildingId: string, accessLevelIds: readonly string[]): Promise<number> {
      const [row] = await sql<{ n: number }[]>`
        select integration.refresh_finished_pairs(${buildingId}, ${accessLevelIds as string[]}::text[]) as n`;
      return row?.n ?? 0;
    },

    /** The last access level the run's earlier calls cleaned (null: none yet). */
    async resumeAfter(runId: string): Promise<string | null> {
      const [row] = await sql<{ resume_after: string | null }[]>`
        select resume_after from integration.cleanup_runs where id = ${runId}`;
      return row?.resume_after ?? null;
    },

    /**
     * The next `limit` access levels to reconcile, in the order of their IDs, after `after` (the
     * database orders and compares them, one collation for both); apartmentId null for one no
     * apartment uses any more.
     */
    async accessLevels(
      buildingId: string,
      after: string | null,
      limit: number,
    ): Promise<{ accessLevelId: string; apartmentId: string | null }[]> {
      const rows = await sql<{ access_level_id: string; apartment_id: string | null }[]>`
        select access_level_id, apartment_id from integration.cleanup_access_levels(${buildingId})
        where ${after}::text is null or access_level_id > ${after}::text
        order by access_level_id
        limit ${limit}`;
      return rows.map((r) => ({ accessLevelId: r.access_level_id, apartmentId: r.apartment_id }));
    },

    /** What this project last wrote to these access levels, per access level and zone. */
    async writtenPermissions(
      buildingId: string,
      accessLevelIds: readonly string[],
    ): Promise<Map<string, Map<string, WrittenRecord>>> {
      const rows = await sql<
        {
          access_level_id: string;
          zone_id: string;
          timetable_id: number;
          period_start: string;
          period_end: string;
          booking_ids: string[];
        }[]
      >`
        select access_level_id, zone_id, timetable_id, period_start::text as period_start, period_end::text as period_end, booking_ids
        from integration.written_permissions
        where building_id = ${buildingId} and access_level_id = any (${accessLevelIds as string[]}::text[])`;
      const byLevel = new Map<string, Map<string, WrittenRecord>>();
      for (const r of rows) {
        const zones = byLevel.get(r.access_level_id) ?? new Map<string, WrittenRecord>();
        zones.set(r.zone_id, {
          zoneId: r.zone_id,
          timetableId: r.timetable_id,
          periodStart: r.period_start,
          periodEnd: r.period_end,
          bookingIds: r.booking_ids,
        });
        byLevel.set(r.access_level_id, zones);
      }
      return byLevel;
    },

    /**
     * The building's access level work, read once before its access levels are reconciled: the
     * cleanup's reconciliation completes each work row (unless it is asked for again meanwhile: then
     * its generation is newer than the one read here and it stays queued). An access level without one
     * gets generation 0, which matches no row.
     */
    async accessLevelWork(
      buildingId: string,
      accessLevelIds: readonly string[],
    ): Promise<Map<string, AccessLevelWork>> {
      const rows = await sql<{ access_level_id: string; generation: string; attempts: number }[]>`
        select access_level_id, generation, attempts from integration.access_level_work
        where building_id = ${buildingId} and access_level_id = any (${accessLevelIds as string[]}::text[])`;
      return new Map(
        rows.map((r) => [
          r.access_level_id,
          { accessLevelId: r.access_level_id, generation: Number(r.generation), attempts: r.attempts },
        ]),
      );
    },

    /** An access level SALTO no longer has and no apartment uses: our permissions went with it. */
    async forgetAccessLevel(buildingId: string, accessLevelId: string): Promise<void> {
      await sql`
        delete from integration.written_permissions
        where building_id = ${buildingId} and access_level_id = ${accessLevelId}`;
    },

    async recordSaltoIdsCheck(
      buildingId: string,
      knownZoneIds: string[],
      knownAccessLevelIds: string[],
    ): Promise<UnknownSaltoId[]> {
      const rows = await sql<
        { kind: 'zone' | 'access_level'; salto_id: string; facility_id: string | null; apartment_id: string | null }[]
      >`
        select * from integration.record_salto_ids_check(${buildingId}, ${knownZoneIds}::text[], ${knownAccessLevelIds}::text[])`;
      return rows.map((r) => ({
        kind: r.kind,
        saltoId: r.salto_id,
        facilityId: r.facility_id,
        apartmentId: r.apartment_id,
      }));
    },

    /**
     * Records what the run found of permissions this project did not write (the facilities' zones
     * they flag: public.shared_facility_zones); returns each such zone, for the report.
     */
    async recordPermanentPermissionsCheck(buildingId: string, found: PermanentPermissions): Promise<SharedZone[]> {
      const { held, checked } = found.toJson();
      const rows = await sql<
        { zone_id: string; facility_ids: string[]; facility_names: string[]; access_level_ids: string[] }[]
      >`
        select * from integration.record_permanent_permissions_check(${buildingId}, ${sql.json(held)}, ${checked}::text[])`;
      return rows.map((r) => ({
        zoneId: r.zone_id,
        facilityIds: r.facility_ids,
        facilityNames: r.facility_names,
        accessLevelIds: r.access_level_ids,
      }));
    },

    async recycleTimetableSlots(buildingId: string): Promise<number> {
      const [row] = await sql<{ n: number }[]>`select integration.recycle_timetable_slots(${buildingId}) as n`;
      return row?.n ?? 0;
    },

    /**
     * Ends the attempt, or (paused) a slice of it that cleaned up to `resumeAfter`; counts left out
     * keep the run's figure. False when the run's lease was lost (another invocation took it over).
     */
    async finishRun(
      runId: string,
      invocation: string,
      status: RunStatus,
      counts: Partial<CleanupCounts>,
      details: CleanupDetails,
      error?: string,
      resumeAfter?: string,
    ): Promise<boolean> {
      const [row] = await sql<{ ok: boolean }[]>`
        select integration.finish_cleanup_run(${runId}, ${invocation}, ${status},
          ${sql.json(counts as never)}, ${sql.json(details as never)}, ${error ?? null}, ${resumeAfter ?? null}) as ok`;
      return row?.ok ?? false;
    },
  };
}

export type CleanupStore = ReturnType<typeof createCleanupStore>;

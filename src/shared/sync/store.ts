/**
 * The sync engine's access to the database: the outbox, leases, desired permissions, timetable slots
 * and the outcomes it records. Each method is one statement or one transaction; the SQL functions it
 * calls live in supabase/migrations (integration schema).
 */
import type { Sql, TransactionSql } from 'postgres';
import type { SaltoEndpointInput } from '../salto/index.ts';
import { BuildingTimetables, type SlotUsers } from './building-timetables.ts';
import type { DesiredZoneWindow } from './desired.ts';

export interface WorkItem {
  accessLevelId: string;
  generation: number;
  attempts: number;
}

export interface BuildingContext {
  buildingId: string;
  timeZone: string;
  /** Undefined when no SALTO server is configured for the building. */
  endpoint?: SaltoEndpointInput;
  timetableRange: { first: number; last: number };
}

/** What the bookings ask of one access level, and the zones of it this project manages. */
export interface AccessLevelPlan {
  desired: DesiredZoneWindow[];
  /** Every zone whose permission this project may add, change or remove (others are left alone). */
  managed: string[];
}

/** Who holds a building's lease (an invocation), and for how long each renewal extends it. */
export interface BuildingLease {
  invocation: string;
  seconds: number;
}

/** An outbox row due now, with what the bookings ask of its access level. */
export interface DueAccessLevel {
  work: WorkItem;
  plan: AccessLevelPlan;
}

/** A building a sync round leased, with its first due access levels (oldest first). */
export interface LeasedBuilding {
  building: BuildingContext;
  due: WorkItem[];
}

export interface TimetableSlotRow {
  slot: number;
  key: string;
  written: boolean;
}

export interface WrittenPermission {
  zoneId: string;
  timetableId: number;
  periodStart: string;
  periodEnd: string;
  bookingIds: string[];
  windowStart: Date;
  windowEnd: Date;
  exact: boolean;
  notes: string[];
}

export interface BookingFailure {
  bookingIds: string[];
  reason: string;
}

export interface AlertInput {
  kind: 'double_booking' | 'access_not_in_place' | 'unknown_salto_id' | 'salto_unreachable';
  dedupeKey: string;
  bookingId?: string;
  details: Record<string, unknown>;
}

/** Booking changes folded per transaction (each holds an advisory lock per pair until commit). */
export const FOLD_BATCH = 500;

/** One reconciled access level, as recordReconciledLevels takes it. */
export interface ReconciledLevel {
  work: WorkItem;
  written: WrittenPermission[];
  failures: BookingFailure[];
  alerts: AlertInput[];
}

/** A reconciled access level as integration.record_reconciled(_levels) reads it. */
function reconciledJson({ work, written, failures, alerts }: ReconciledLevel) {
  return {
    access_level_id: work.accessLevelId,
    generation: work.generation,
    written: written.map((w) => ({
      zone_id: w.zoneId,
      timetable_id: w.timetableId,
      period_start: w.periodStart,
      period_end: w.periodEnd,
      booking_ids: w.bookingIds,
      window_start: w.windowStart.toISOString(),
      window_end: w.windowEnd.toISOString(),
      exact: w.exact,
      reason: w.exact && w.notes.length === 0 ? null : w.notes.join(' '),
    })),
    failures: failures.map((f) => ({ booking_ids: f.bookingIds, reason: f.reason })),
    alerts: alerts.map((a) => ({
      kind: a.kind,
      dedupe_key: a.dedupeKey,
      booking_id: a.bookingId ?? null,
      details: a.details,
    })),
  };
}

export function createSyncStore(sql: Sql) {
  return {
    /**
     * Folds one building's pending booking changes into access states and outbox rows, one bounded
     * batch in one transaction; returns how many: FOLD_BATCH means more may be pending.
     */
    async applyBookingChanges(buildingId: string): Promise<number> {
      const [row] = await sql<{ n: number }[]>`
        select integration.apply_booking_changes(${FOLD_BATCH}, ${buildingId}::uuid) as n`;
      return row?.n ?? 0;
    },

    /**
     * One round: folds a batch of booking changes, leases up to `limit` buildings with due work and
     * brings each with its context and first `dueBatch` due access levels, and says whether changes
     * remain and when the next work falls due (0: now, under another's lease).
     */
    async takeWork(
      invocation: string,
      leaseSeconds: number,
      limit: number,
      dueBatch: number,
    ): Promise<{ claimed: LeasedBuilding[]; changesLeft: boolean; secondsUntilDue: number | null }> {
      const [row] = await sql<
        { claimed: LeasedBuildingJson[]; changes_left: boolean; seconds_until_due: number | null }[]
      >`
        select * from integration.take_work(${invocation}, make_interval(secs => ${leaseSeconds}), ${limit}, ${FOLD_BATCH}, ${dueBatch})`;
      return {
        claimed: (row?.claimed ?? []).map((c) => ({
          building: buildingContext(c.building),
          due: c.due.map(workItem),
        })),
        changesLeft: row?.changes_left ?? false,
        secondsUntilDue: row?.seconds_until_due ?? null,
      };
    },

    async renewLease(buildingId: string, invocation: string, leaseSeconds: number): Promise<boolean> {
      const [row] = await sql<{ ok: boolean }[]>`
        select integration.renew_lease(${buildingId}, ${invocation}, make_interval(secs => ${leaseSeconds})) as ok`;
      return row?.ok ?? false;
    },

    async releaseLease(buildingId: string, invocation: string): Promise<void> {
      await sql`select integration.release_lease(${buildingId}, ${invocation})`;
    },

    async building(buildingId: string): Promise<BuildingContext> {
      const [row] = await sql<{ context: BuildingContextJson | null }[]>`
        select integration.building_context(${buildingId}) as context`;
      if (!row?.context) throw new Error(`building ${buildingId} does not exist`);
      return buildingContext(row.context);
    },

    /** The building's due outbox rows (up to `limit`, oldest first), each with its plan. */
    async dueWork(buildingId: string, limit: number): Promise<DueAccessLevel[]> {
      const rows = await sql<DueRow[]>`
        select * from integration.due_work_plans(${buildingId}, ${limit})`;
      return rows.map(dueAccessLevel);
    },

    /**
     * What the bookings ask of each access level (desired zone windows) and which of its zones this
     * project manages, for many access levels of a building in one round trip.
     */
    async plans(buildingId: string, accessLevelIds: readonly string[]): Promise<Map<string, AccessLevelPlan>> {
      const rows = await sql<PlanRow[]>`
        select * from integration.access_level_plans(${buildingId}, ${[...accessLevelIds]}::text[])`;
      return plansByAccessLevel(rows);
    },

    /**
     * plans() and the building's timetable slots in one query: what a sync pass needs to start a
     * building. As two queries side by side they kept two database processes busy at once beside the
     * function and SALTO, on the way from a booking to the door (benchmark 2 on 2 cores, traced: p95
     * 12.5-13.9 ms as two queries, 10.3-12.2 ms as one). Who uses each slot is read when a timetable
     * must take a slot (BuildingTimetables).
     */
    async plansAndTimetables(
      buildingId: string,
      accessLevelIds: readonly string[],
    ): Promise<{ plans: Map<string, AccessLevelPlan>; timetables: BuildingTimetables }> {
      const [row] = await sql<{ slots: TimetableSlotRow[]; plans: PlanRow[] }[]>`
        select integration.building_timetable_slots(${buildingId}) as slots,
          (select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(p)), '[]'::jsonb)
           from integration.access_level_plans(${buildingId}, ${[...accessLevelIds]}::text[]) as p) as plans`;
      const users = async () => {
        const [found] = await sql<{ users: SlotUsersJson }[]>`
          select integration.building_timetable_users(${buildingId}) as users`;
        return slotUsers(found!.users);
      };
      return { plans: plansByAccessLevel(row!.plans), timetables: new BuildingTimetables(row!.slots, users) };
    },

    /** The building's timetable slots and the slots each access level's written permissions use. */
    async timetables(buildingId: string): Promise<BuildingTimetables> {
      const [row] = await sql<{ timetables: BuildingTimetablesJson }[]>`
        select integration.building_timetables(${buildingId}) as timetables`;
      return new BuildingTimetables(row!.timetables.slots, slotUsers(row!.timetables.used));
    },

    /** Records a slot's new content; `written` once SALTO holds it. */
    async saveTimetableSlot(buildingId: string, slot: number, key: string, intervals: unknown, written: boolean) {
      await sql`
        select integration.save_timetable_slot(${buildingId}, ${slot}, ${key}, ${sql.json(intervals as never)}, ${written})`;
    },

    /**
     * After a successful reconciliation: what SALTO now holds for this access level's managed zones,
     * the bookings it serves (active) or cannot serve (failed), and the work item done unless it was
     * asked for again meanwhile. Renews the building's lease in the same call; false when the caller
     * no longer holds it (it must stop writing that building's SALTO).
     */
    async recordReconciled(
      buildingId: string,
      work: WorkItem,
      written: WrittenPermission[],
      failures: BookingFailure[],
      alerts: AlertInput[],
      lease: BuildingLease,
    ): Promise<boolean> {
      const outcome = reconciledJson({ work, written, failures, alerts });
      const [row] = await sql<{ leased: boolean }[]>`
        select integration.record_reconciled(${buildingId}, ${work.accessLevelId}, ${work.generation},
          ${sql.json(outcome.written as never)}, ${sql.json(outcome.failures as never)}, ${sql.json(outcome.alerts as never)},
          ${lease.invocation}, make_interval(secs => ${lease.seconds})) as leased`;
      return row?.leased ?? false;
    },

    /** recordReconciled for several access levels of the building in one round trip. */
    async recordReconciledLevels(
      buildingId: string,
      levels: ReconciledLevel[],
      lease: BuildingLease,
    ): Promise<boolean> {
      const [row] = await sql<{ leased: boolean }[]>`
        select integration.record_reconciled_levels(${buildingId}, ${sql.json(levels.map(reconciledJson) as never)},
          ${lease.invocation}, make_interval(secs => ${lease.seconds})) as leased`;
      return row?.leased ?? false;
    },

    /**
     * A permanent failure for the whole access level (SALTO does not know it, or refuses the write):
     * the bookings it would serve fail with the reason; retrying would not help until something changes.
     */
    async recordAccessLevelFailed(buildingId: string, work: WorkItem, reason: string, alerts: AlertInput[]) {
      await sql.begin(async (tx) => {
        await tx`
          update integration.booking_access set state = 'failed', reason = ${reason}, updated_at = now()
          where building_id = ${buildingId} and access_level_id = ${work.accessLevelId}
            and state in ('scheduled', 'active')`;
        await insertAlerts(tx, buildingId, alerts);
        await finishWork(tx, buildingId, work);
      });
    },

    /** No SALTO server is configured for the building: its work waits, and its bookings say why. */
    async recordNoSaltoServer(buildingId: string, retryAt: Date) {
      // booking_access before the outbox: the lock order of the booking triggers.
      await sql.begin(async (tx) => {
        await tx`
          update integration.booking_access
          set reason = 'No SALTO server is configured for this building yet; access will be written once it is.', updated_at = now()
          where building_id = ${buildingId} and state = 'scheduled'`;
        await tx`
          update integration.access_level_work set not_before = ${retryAt}, last_error = 'no SALTO server configured'
          where building_id = ${buildingId}`;
      });
    },

    /**
     * A transient failure (SALTO unreachable or busy): this access level is retried at `retryAt`, and
     * the building's other due work waits too rather than hammering a server that is down.
     */
    async recordRetry(buildingId: string, work: WorkItem, retryAt: Date, error: string) {
      // Lock order, as the booking triggers take them: booking_access rows, then outbox rows.
      // (The other order deadlocks with a booking being written for the same access level.)
      await sql.begin(async (tx) => {
        await tx`
          update integration.booking_access set reason = ${`SALTO could not be reached (${error}); retrying.`}, updated_at = now()
          where building_id = ${buildingId} and access_level_id = ${work.accessLevelId} and state = 'scheduled'`;
        await tx`
          update integration.access_level_work set attempts = attempts + 1, not_before = ${retryAt}, last_error = ${error}
          where building_id = ${buildingId} and access_level_id = ${work.accessLevelId}`;
        await tx`
          update integration.access_level_work set not_before = ${retryAt}
          where building_id = ${buildingId} and not_before < ${retryAt}`;
      });
    },
  };
}

export type SyncStore = ReturnType<typeof createSyncStore>;

/** A row of integration.access_level_plans (or due_work_plans): windows as JSON, times as text. */
interface PlanRow {
  access_level_id: string;
  desired: { zone_id: string; facility_id: string; window_start: string; window_end: string; booking_ids: string[] }[];
  managed_zones: string[];
}

function accessLevelPlan(row: PlanRow): AccessLevelPlan {
  return {
    desired: row.desired.map((d) => ({
      zoneId: d.zone_id,
      facilityId: d.facility_id,
      windowStart: new Date(d.window_start),
      windowEnd: new Date(d.window_end),
      bookingIds: d.booking_ids,
    })),
    managed: row.managed_zones,
  };
}

function plansByAccessLevel(rows: readonly PlanRow[]): Map<string, AccessLevelPlan> {
  return new Map(rows.map((r) => [r.access_level_id, accessLevelPlan(r)]));
}

/** An outbox row as integration.take_work (JSON) and due_work_plans read it. */
interface WorkRow {
  access_level_id: string;
  generation: string | number;
  attempts: number;
}

function workItem(row: WorkRow): WorkItem {
  return { accessLevelId: row.access_level_id, generation: Number(row.generation), attempts: row.attempts };
}

/** A row of integration.due_work_plans. */
type DueRow = WorkRow & PlanRow;

function dueAccessLevel(row: DueRow): DueAccessLevel {
  return { work: workItem(row), plan: accessLevelPlan(row) };
}

/** integration.building_context's JSON. */
interface BuildingContextJson {
  building_id: string;
  timezone: string;
  timetable_first: number | null;
  timetable_last: number | null;
  salto_server: {
    transport: 'http' | 'https' | 'stp';
    host: string;
    port: number;
    auth_mode: 'none' | 'basic' | 'key';
    basic_user: string | null;
    credential: string | null;
    connect_timeout_ms: number;
    reply_timeout_ms: number;
  } | null;
}

function buildingContext(json: BuildingContextJson): BuildingContext {
  const base = {
    buildingId: json.building_id,
    timeZone: json.timezone,
    timetableRange: { first: json.timetable_first ?? 200, last: json.timetable_last ?? 254 },
  };
  const server = json.salto_server;
  if (!server) return base;
  const auth =
    server.auth_mode === 'none'
      ? { mode: 'none' as const }
      : server.auth_mode === 'basic'
        ? { mode: 'basic' as const, username: server.basic_user ?? '', password: server.credential ?? '' }
        : { mode: 'key' as const, key: server.credential ?? '' };
  return {
    ...base,
    endpoint: {
      transport: server.transport,
      host: server.host,
      port: server.port,
      auth,
      connectTimeoutMs: server.connect_timeout_ms,
      replyTimeoutMs: server.reply_timeout_ms,
    },
  };
}

/** integration.building_timetable_users's JSON. */
type SlotUsersJson = { slot: number; access_level_ids: string[] }[];

/** integration.building_timetables's JSON. */
interface BuildingTimetablesJson {
  slots: TimetableSlotRow[];
  used: SlotUsersJson;
}

function slotUsers(json: SlotUsersJson): SlotUsers {
  return json.flatMap((u) => u.access_level_ids.map((accessLevelId) => ({ accessLevelId, slot: u.slot })));
}

/** integration.take_work's JSON for one leased building. */
interface LeasedBuildingJson {
  building: BuildingContextJson;
  due: WorkRow[];
}

async function insertAlerts(tx: TransactionSql, buildingId: string, alerts: AlertInput[]) {
  for (const alert of alerts) {
    await tx`
      insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
      values (${buildingId}, ${alert.kind}, ${alert.bookingId ?? null}, ${tx.json(alert.details as never)}, ${alert.dedupeKey})
      on conflict (dedupe_key) do nothing`;
  }
}

async function finishWork(tx: TransactionSql, buildingId: string, work: WorkItem) {
  // Done, unless someone asked again while we worked: then it stays, for another pass, without backoff.
  await tx`
    delete from integration.access_level_work
    where building_id = ${buildingId} and access_level_id = ${work.accessLevelId} and generation = ${work.generation}`;
  await tx`
    update integration.access_level_work set attempts = 0, last_error = null
    where building_id = ${buildingId} and access_level_id = ${work.accessLevelId}`;
}

/**
 * The sync engine's access to the database: access level work, leases, desired permissions, timetable
 * slots and the outcomes it records. Each method is one statement or one transaction; the SQL
 * functions it calls are in the integration schema.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { TimetableSlotRange } from '../access/index.ts';
import type { SaltoEndpointInput } from '../salto/index.ts';
import { BuildingTimetables, type SlotUsers } from './building-timetables.ts';
import type { DesiredZoneWindow } from './desired.ts';

/** A row of integration.access_level_work: an access level to bring in line with the bookings. */
export interface AccessLevelWork {
  accessLevelId: string;
  generation: number;
  attempts: number;
}

/** A building whose SALTO server is configured (integration.salto_servers). */
export interface SaltoBuilding {
  buildingId: string;
  timeZone: string;
  endpoint: SaltoEndpointInput;
  /** The SALTO timetables reserved for this project. */
  timetableRange: TimetableSlotRange;
  /** 'shadow': plan and record writes, send none (integration.salto_servers.writes). Absent: live. */
  writes?: 'live' | 'shadow';
}

/** A building as integration.building_context reads it: no endpoint when no SALTO server is configured. */
export type BuildingContext =
  | SaltoBuilding
  | { buildingId: string; timeZone: string; endpoint?: undefined; timetableRange?: undefined };

/** What the bookings ask of one access level, and the zones of it this project manages. */
export interface DesiredAccessLevel {
  windows: DesiredZoneWindow[];
  /**
   * The zones whose permission this project wrote (integration.written_permissions): it may change or
   * remove only these, and add a permission only where SALTO holds none (desired.ts, ownedZones).
   */
  managed: string[];
}

/** Who holds a building's lease (an invocation), and for how long each renewal extends it. */
export interface BuildingLease {
  invocation: string;
  seconds: number;
}

/** A building a sync round leased, with its first due access level work (oldest first). */
export interface LeasedBuilding {
  building: BuildingContext;
  due: AccessLevelWork[];
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

/** One reconciled access level, as recordReconciledLevels takes it. */
export interface ReconciledLevel {
  work: AccessLevelWork;
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
     * Folds one batch of the building's pending booking changes (its size is the SQL function's
     * default) into access states and access level work, in one transaction; returns how many it
     * folded: 0 when none were pending.
     */
    async applyBookingChanges(buildingId: string): Promise<number> {
      const [row] = await sql<{ n: number }[]>`
        select integration.apply_booking_changes(p_building_id => ${buildingId}::uuid) as n`;
      return row?.n ?? 0;
    },

    /**
     * One round: folds a batch of booking changes (the SQL function's default size), leases up to
     * `limit` buildings with due work and brings each with its context and first `dueBatch` due access
     * levels, and says whether changes remain and when the next work falls due (0: now, under
     * another's lease).
     */
    async takeWork(
      invocation: string,
      leaseSeconds: number,
      limit: number,
      dueBatch: number,
    ): Promise<{ leased: LeasedBuilding[]; changesLeft: boolean; secondsUntilDue: number | null }> {
      const [row] = await sql<
        { leased_buildings: LeasedBuildingJson[]; changes_left: boolean; seconds_until_due: number | null }[]
      >`
        select * from integration.take_work(p_invocation => ${invocation}, p_lease => make_interval(secs => ${leaseSeconds}),
          p_limit => ${limit}, p_due_batch => ${dueBatch})`;
      return {
        leased: (row?.leased_buildings ?? []).map((b) => ({
          building: buildingContext(b.building),
          due: b.due.map(accessLevelWork),
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

    /** The building's due access level work (up to `limit`, oldest first), each with what is desired. */
    async dueWork(
      buildingId: string,
      limit: number,
    ): Promise<{ work: AccessLevelWork; desired: DesiredAccessLevel }[]> {
      const rows = await sql<DueAccessLevelWorkRow[]>`
        select * from integration.due_access_level_work(${buildingId}, ${limit})`;
      return rows.map((row) => ({ work: accessLevelWork(row), desired: desiredAccessLevel(row) }));
    },

    /**
     * The building's due access level work (up to `limit`, oldest first), without what is desired:
     * for when reading what the batch desires failed, to read it one access level at a time.
     */
    async dueAccessLevelWork(buildingId: string, limit: number): Promise<AccessLevelWork[]> {
      const rows = await sql<AccessLevelWorkRow[]>`
        select access_level_id, generation, attempts from integration.access_level_work
        where building_id = ${buildingId} and not_before <= integration.now()
        order by requested_at, access_level_id
        limit ${limit}`;
      return rows.map(accessLevelWork);
    },

    /**
     * What the bookings ask of each access level (desired zone windows) and which of its zones this
     * project manages, for many access levels of a building in one round trip.
     */
    async desiredAccessLevels(
      buildingId: string,
      accessLevelIds: readonly string[],
    ): Promise<Map<string, DesiredAccessLevel>> {
      const rows = await sql<DesiredAccessLevelRow[]>`
        select * from integration.desired_access_levels(${buildingId}, ${[...accessLevelIds]}::text[])`;
      return desiredByAccessLevel(rows);
    },

    /**
     * desiredAccessLevels() and the building's timetable slots in one query (one database process
     * busy beside the function and SALTO, not two): what a sync pass needs to start a building. Who
     * uses each slot is read when a timetable must take a slot (BuildingTimetables).
     */
    async desiredAccessLevelsAndTimetables(
      buildingId: string,
      accessLevelIds: readonly string[],
    ): Promise<{ desired: Map<string, DesiredAccessLevel>; timetables: BuildingTimetables }> {
      const [row] = await sql<{ slots: TimetableSlotRow[]; desired: DesiredAccessLevelRow[] }[]>`
        select integration.building_timetable_slots(${buildingId}) as slots,
          (select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(d)), '[]'::jsonb)
           from integration.desired_access_levels(${buildingId}, ${[...accessLevelIds]}::text[]) as d) as desired`;
      const users = async () => {
        const [found] = await sql<{ users: SlotUsersJson }[]>`
          select integration.building_timetable_users(${buildingId}) as users`;
        return slotUsers(found!.users);
      };
      return { desired: desiredByAccessLevel(row!.desired), timetables: new BuildingTimetables(row!.slots, users) };
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
     * Records the zones SALTO holds for an access level with permissions this project did not write
     * (those a facility names flag it); returns, per such zone, how many access levels hold it so.
     */
    async recordPermanentPermissions(
      buildingId: string,
      accessLevelId: string,
      zoneIds: readonly string[],
    ): Promise<Map<string, number>> {
      const rows = await sql<{ zone_id: string; access_levels: number }[]>`
        select zone_id, access_levels
        from integration.record_permanent_permissions(${buildingId}, ${accessLevelId}, ${[...zoneIds]}::text[])`;
      return new Map(rows.map((r) => [r.zone_id, r.access_levels]));
    },

    /**
     * After a successful reconciliation: what SALTO now holds for this access level's managed zones,
     * the bookings it serves (active) or cannot serve (failed), and the work row done unless it was
     * asked for again meanwhile. Renews the building's lease in the same call; false when the caller
     * no longer holds it (it must stop writing that building's SALTO).
     */
    async recordReconciled(
      buildingId: string,
      work: AccessLevelWork,
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
    async recordAccessLevelFailed(buildingId: string, work: AccessLevelWork, reason: string, alerts: AlertInput[]) {
      await sql.begin(async (tx) => {
        await tx`
          update integration.booking_access set state = 'failed', reason = ${reason}, updated_at = now()
          where building_id = ${buildingId} and access_level_id = ${work.accessLevelId}
            and state in ('scheduled', 'active')`;
        await insertAlerts(tx, buildingId, alerts);
        await finishWork(tx, buildingId, work);
      });
    },

    /**
     * An access level that failed for a reason of its own (integration.record_access_level_error): it
     * is tried again at `retryAt`, the building's other work goes on. Renews the building's lease in
     * the same call; false when the caller no longer holds it.
     */
    async recordAccessLevelError(
      buildingId: string,
      work: AccessLevelWork,
      retryAt: Date,
      error: string,
      lease: BuildingLease,
    ): Promise<boolean> {
      const [row] = await sql<{ leased: boolean }[]>`
        select integration.record_access_level_error(${buildingId}, ${work.accessLevelId}, ${error}, ${retryAt},
          ${lease.invocation}, make_interval(secs => ${lease.seconds})) as leased`;
      return row?.leased ?? false;
    },

    /** No SALTO server is configured for the building: its work waits, and its bookings say why. */
    async recordNoSaltoServer(buildingId: string, retryAt: Date) {
      // booking_access before access_level_work: the lock order of the booking triggers.
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
     * Shadow mode: the access level's writes were planned and recorded (`planned`, in the traffic log
     * with sent = false), none sent. Its work waits until the bookings change again (then it is
     * planned again) or a manager switches the building live (public.switch_salto_live makes it due).
     */
    async recordPlanned(
      buildingId: string,
      work: AccessLevelWork,
      planned: readonly TrafficEntry[],
      lease: BuildingLease,
    ): Promise<boolean> {
      const reason =
        'Shadow mode: this booking is planned, not written to SALTO, until a manager switches the building live.';
      return sql.begin(async (tx) => {
        await tx`
          update integration.booking_access set reason = ${reason}, updated_at = now()
          where building_id = ${buildingId} and access_level_id = ${work.accessLevelId} and state = 'scheduled'`;
        await tx`
          update integration.access_level_work
          set not_before = 'infinity', last_error = 'shadow mode: planned, not written'
          where building_id = ${buildingId} and access_level_id = ${work.accessLevelId}
            and generation = ${work.generation}`;
        if (planned.length > 0) await recordTrafficIn(tx, buildingId, planned);
        const [row] = await tx<{ ok: boolean }[]>`
          select integration.renew_lease(${buildingId}, ${lease.invocation}, make_interval(secs => ${lease.seconds})) as ok`;
        return row?.ok ?? false;
      });
    },

    /** Appends SHIP traffic to the building's bounded log (integration.record_salto_traffic). */
    async recordTraffic(buildingId: string, entries: readonly TrafficEntry[]) {
      if (entries.length > 0) await recordTrafficIn(sql, buildingId, entries);
    },

    /**
     * A transient failure (SALTO unreachable or busy): this access level is retried at `retryAt`, and
     * the building's other due work waits too rather than hammering a server that is down.
     */
    async recordRetry(buildingId: string, work: AccessLevelWork, retryAt: Date, error: string) {
      // Lock order, as the booking triggers take them: booking_access rows, then work rows (the other
      // order deadlocks with a booking being written for the same access level).
      await sql.begin(async (tx) => {
        await tx`
          update integration.booking_access set reason = ${`SALTO could not be reached (${error}); retrying.`}, updated_at = now()
          where building_id = ${buildingId} and access_level_id = ${work.accessLevelId} and state = 'scheduled'`;
        await tx`
          update integration.access_level_work
          set attempts = attempts + 1, not_before = ${retryAt}, last_error = ${error}, salto_unreachable = true
          where building_id = ${buildingId} and access_level_id = ${work.accessLevelId}`;
        await tx`
          update integration.access_level_work set not_before = ${retryAt}
          where building_id = ${buildingId} and not_before < ${retryAt}`;
      });
    },
  };
}

export type SyncStore = ReturnType<typeof createSyncStore>;

/** One entry of integration.salto_traffic: a SHIP exchange, or in shadow mode a write not sent. */
export interface TrafficEntry {
  readonly requestName: string;
  readonly request: string;
  readonly reply?: string | undefined;
  readonly error?: string | undefined;
  readonly at: Date;
  readonly durationMs: number;
  readonly sent?: boolean;
}

async function recordTrafficIn(sql: Sql | TransactionSql, buildingId: string, entries: readonly TrafficEntry[]) {
  const json = entries.map((e) => ({
    request_name: e.requestName,
    request: e.request,
    reply: e.reply ?? null,
    error: e.error ?? null,
    sent: e.sent ?? true,
    duration_ms: Math.max(0, Math.round(e.durationMs)),
    at: e.at.toISOString(),
  }));
  await sql`select integration.record_salto_traffic(${buildingId}, ${sql.json(json)})`;
}

/** A row of integration.desired_access_levels (or due_access_level_work): windows as JSON, times as text. */
interface DesiredAccessLevelRow {
  access_level_id: string;
  desired: { zone_id: string; facility_id: string; window_start: string; window_end: string; booking_ids: string[] }[];
  managed_zones: string[];
}

function desiredAccessLevel(row: DesiredAccessLevelRow): DesiredAccessLevel {
  return {
    windows: row.desired.map((d) => ({
      zoneId: d.zone_id,
      facilityId: d.facility_id,
      windowStart: new Date(d.window_start),
      windowEnd: new Date(d.window_end),
      bookingIds: d.booking_ids,
    })),
    managed: row.managed_zones,
  };
}

function desiredByAccessLevel(rows: readonly DesiredAccessLevelRow[]): Map<string, DesiredAccessLevel> {
  return new Map(rows.map((r) => [r.access_level_id, desiredAccessLevel(r)]));
}

/** A work row as integration.take_work (JSON) and due_access_level_work read it. */
interface AccessLevelWorkRow {
  access_level_id: string;
  generation: string | number;
  attempts: number;
}

function accessLevelWork(row: AccessLevelWorkRow): AccessLevelWork {
  return { accessLevelId: row.access_level_id, generation: Number(row.generation), attempts: row.attempts };
}

/** A row of integration.due_access_level_work. */
type DueAccessLevelWorkRow = AccessLevelWorkRow & DesiredAccessLevelRow;

/**
 * integration.building_context's JSON. The timetable range comes from the salto_servers row (its
 * columns are not null): null exactly when salto_server is.
 */
export interface BuildingContextJson {
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
  writes?: 'live' | 'shadow' | null;
}

export function buildingContext(json: BuildingContextJson): BuildingContext {
  const base = { buildingId: json.building_id, timeZone: json.timezone };
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
    timetableRange: { first: json.timetable_first!, last: json.timetable_last! },
    writes: json.writes === 'shadow' ? 'shadow' : 'live',
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
  due: AccessLevelWorkRow[];
}

async function insertAlerts(tx: TransactionSql, buildingId: string, alerts: AlertInput[]) {
  for (const alert of alerts) {
    await tx`
      insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
      values (${buildingId}, ${alert.kind}, ${alert.bookingId ?? null}, ${tx.json(alert.details as never)}, ${alert.dedupeKey})
      on conflict (dedupe_key) do nothing`;
  }
}

async function finishWork(tx: TransactionSql, buildingId: string, work: AccessLevelWork) {
  // Done, unless someone asked again while we worked: then it stays, for another pass, without backoff.
  await tx`
    delete from integration.access_level_work
    where building_id = ${buildingId} and access_level_id = ${work.accessLevelId} and generation = ${work.generation}`;
  await tx`
    update integration.access_level_work set attempts = 0, last_error = null, salto_unreachable = false
    where building_id = ${buildingId} and access_level_id = ${work.accessLevelId}`;
}

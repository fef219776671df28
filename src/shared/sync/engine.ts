/**
 * The sync engine: brings SALTO access levels in line with the bookings.
 *
 * Level-triggered and idempotent. For each access level in integration.access_level_work it computes
 * the desired zone permissions from the database, reads the access level from SALTO, and writes the
 * difference in one SaltoDBGroup.Update that keeps every zone permission this project does not manage.
 * Safe to repeat, safe to crash at any point (the work row stays until the outcome is recorded, and a
 * lease expires).
 *
 * Concurrency: an invocation leases whole buildings, so calls to one building's SALTO server are
 * serialised across all invocations, while different buildings proceed in parallel.
 *
 * Round trips matter more than SALTO on the way from a booking to the door, so each step is one call:
 * a round (integration.take_work) folds the bookings' changes, leases buildings and brings each with
 * its SALTO server and first due access levels; the first is read from SALTO while the database
 * computes what the batch desires; later batches come with what they desire
 * (integration.due_access_level_work); an outcome is recorded, and the lease renewed, in one call
 * (integration.record_reconciled).
 */
import { allocateTimetableSlots } from '../access/index.ts';
import {
  isSaltoError,
  type SaltoClient,
  type SaltoEndpointInput,
  type SaltoError,
  type SetZonePermissionsResult,
  ShipCode,
  setZonePermissions,
  writeZonePermissions,
  type ZonePermission,
} from '../salto/index.ts';
import { MAX_RETRY_MS, nextAttemptDelayMs } from './backoff.ts';
import type { BuildingTimetables } from './building-timetables.ts';
import { ALWAYS_KEY, type DesiredPermission, desiredPermission, zonePermission } from './desired.ts';
import type {
  AccessLevelWork,
  AlertInput,
  BookingFailure,
  BuildingLease,
  DesiredAccessLevel,
  LeasedBuilding,
  SaltoBuilding,
  SyncStore,
  WrittenPermission,
} from './store.ts';

export interface SyncOptions {
  store: SyncStore;
  /** Opens a SALTO client for a building's endpoint. */
  saltoClient: (endpoint: SaltoEndpointInput) => SaltoClient;
  invocationId: string;
  /** Stop leasing new work after this long (the function's wall-clock budget). */
  budgetMs?: number;
  /**
   * Buildings synced at once (each one's calls are serialised by its lease, so a building's SALTO never
   * sees two at a time). SALTO calls dominate and different buildings are independent: as many as the
   * database pool can feed while the others wait on SALTO.
   */
  concurrency?: number;
  leaseSeconds?: number;
  /** Access levels per building per pass. */
  batchSize?: number;
  /**
   * How long a pass with nothing to lease may wait for work in backoff to fall due (so a SALTO server
   * that comes back is written to within seconds, not at the next minute's wake-up). 0: never wait.
   */
  maxIdleWaitMs?: number;
  /**
   * Resolves at the next wake-up that arrives while the pass runs (onePassAtATime). While buildings
   * are being written, a wake-up then starts a round at once, at most one per WOKEN_ROUND_GAP_MS, so
   * another building's new bookings need not wait for their batches to end.
   */
  woken?: () => Promise<void>;
  log?: (line: string) => void;
}

export interface SyncReport {
  buildings: number;
  accessLevels: number;
  writes: number;
  unchanged: number;
  retries: number;
  failures: number;
}

/** Access levels per building per batch (SyncOptions.batchSize). */
const BATCH_SIZE = 50;

/** Least time between two rounds started by wake-ups while buildings are being written. */
const WOKEN_ROUND_GAP_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSync(options: SyncOptions): Promise<SyncReport> {
  const { store, budgetMs = 50_000, concurrency = 32 } = options;
  const deadline = Date.now() + budgetMs;
  const report: SyncReport = { buildings: 0, accessLevels: 0, writes: 0, unchanged: 0, retries: 0, failures: 0 };
  // The buildings this pass is writing, each by one task.
  const writing = new Map<string, Promise<void>>();
  const active = () => [...writing.values()];
  let roundAt = 0;
  // The next wake-up, no sooner than WOKEN_ROUND_GAP_MS after the last round (a burst of bookings
  // wakes the function once per transaction; later than that, at once: Deno warns of a negative
  // timeout); never, when nobody tells.
  const wokenForRound = options.woken
    ? () => options.woken!().then(() => sleep(Math.max(0, roundAt + WOKEN_ROUND_GAP_MS - Date.now())))
    : () => new Promise<void>(() => {});

  try {
    while (Date.now() < deadline) {
      // Lease only what can start now: a leased building waiting for a free slot would hold its lease
      // idle (and could lose it to another invocation while still queued here).
      const free = concurrency - writing.size;
      roundAt = Date.now();
      // Bookings' changes become access states and access level work first, a batch per round.
      const {
        leased: leasedBuildings,
        changesLeft,
        secondsUntilDue,
      } = await store.takeWork(options.invocationId, options.leaseSeconds ?? 60, free, options.batchSize ?? BATCH_SIZE);
      for (const leased of leasedBuildings) {
        const { buildingId } = leased.building;
        // Leased again while its task still writes it (its lease had run out, say): that task goes on
        // and takes the new work in its next batch; two tasks would write one SALTO at once.
        if (writing.has(buildingId)) continue;
        report.buildings++;
        writing.set(
          buildingId,
          syncBuilding(leased, options, report, deadline).finally(() => writing.delete(buildingId)),
        );
      }
      if (writing.size >= concurrency) {
        await Promise.race(active());
        continue;
      }
      // Asked again at once only while changes wait to be folded. A round that leased fewer buildings
      // than it could take leased every one it could: asking again now would cost the database a fold
      // and a lease scan while the buildings just leased are being written.
      if (changesLeft) continue;
      if (writing.size > 0) {
        // Until a building is done, or a wake-up says other work may be waiting.
        await Promise.race([...active(), wokenForRound()]);
        continue;
      }
      // Nothing to lease: wait briefly for work in backoff (see maxIdleWaitMs), else end the pass.
      if (secondsUntilDue === null) break;
      const waitMs = Math.max(secondsUntilDue * 1000, 200);
      if (waitMs > (options.maxIdleWaitMs ?? 10_000) || Date.now() + waitMs >= deadline) break;
      await sleep(waitMs);
    }
    await Promise.all(active());
  } finally {
    // A round or a building that failed (the database gone, say) ends the pass, but not before the
    // buildings still being written are done: left running, they would write under leases that
    // could run out, beside the invocation that takes their buildings next.
    await Promise.allSettled(active());
  }
  return report;
}

async function syncBuilding(leased: LeasedBuilding, options: SyncOptions, report: SyncReport, deadline: number) {
  const { store, invocationId, leaseSeconds = 60, batchSize = BATCH_SIZE } = options;
  const { building, due: firstDue } = leased;
  const { buildingId } = building;
  let client: SaltoClient | undefined;
  try {
    if (building.endpoint === undefined) {
      options.log?.(`building ${buildingId}: no SALTO server configured; work stays queued`);
      await store.recordNoSaltoServer(buildingId, new Date(Date.now() + MAX_RETRY_MS));
      return;
    }
    client = options.saltoClient(building.endpoint);
    const lease = { invocation: invocationId, seconds: leaseSeconds };
    // The first access level is read from SALTO while the database reads what the batch desires (what
    // its bookings ask, the building's timetable slots, in one call): neither needs the other, and on
    // the way from a booking to the door each takes about as long as the other.
    const first = firstDue[0];
    const firstRead = first && readAhead(client, first.accessLevelId);
    const { timetables, desired: firstDesired } = await store.desiredAccessLevelsAndTimetables(
      buildingId,
      firstDue.map((work) => work.accessLevelId),
    );
    const firstBatch = firstDue.map((work) => ({ work, desired: firstDesired.get(work.accessLevelId)! }));
    for (
      let due = firstBatch;
      due.length > 0 && Date.now() < deadline;
      due = await store.dueWork(buildingId, batchSize)
    ) {
      for (const { work, desired } of due) {
        const current = work === first ? firstRead : undefined;
        const { outcome, leased } = await syncAccessLevel(
          building,
          work,
          desired,
          timetables,
          client,
          lease,
          options,
          current,
        );
        report.accessLevels++;
        report[outcome]++;
        if (outcome === 'retries') return; // the server is failing: the rest of the building waits for the backoff
        if (!leased) return; // lease lost (we were too slow): another invocation owns the building now
      }
    }
  } finally {
    await client?.close().catch(() => {});
    await store.releaseLease(buildingId, invocationId);
  }
}

type Outcome = 'writes' | 'unchanged' | 'retries' | 'failures';

/** An access level's zone permissions, read from SALTO before they are needed; a failure surfaces where it is awaited. */
function readAhead(client: SaltoClient, accessLevelId: string): Promise<readonly ZonePermission[]> {
  const read = client.readAccessLevel(accessLevelId).then((level) => level.zonePermissions);
  read.catch(() => {}); // awaited by the access level's reconciliation, or dropped if the pass ends first
  return read;
}

async function syncAccessLevel(
  building: SaltoBuilding,
  work: AccessLevelWork,
  desired: DesiredAccessLevel,
  timetables: BuildingTimetables,
  client: SaltoClient,
  lease: BuildingLease,
  options: SyncOptions,
  /** What SALTO holds for the access level, when it was read ahead (readAhead). */
  current?: Promise<readonly ZonePermission[]>,
): Promise<{ outcome: Outcome; leased: boolean }> {
  const { store } = options;
  const { buildingId } = building;
  const accessLevelId = work.accessLevelId;
  try {
    const { result, written, failures, alerts } = await reconcileAccessLevel(building, accessLevelId, desired, {
      client,
      store,
      timetables,
      current: current && (await current),
    });
    const leased = await store.recordReconciled(buildingId, work, written, failures, alerts, lease);
    timetables.recordWritten(
      accessLevelId,
      written.map((w) => w.timetableId),
    );
    return { outcome: result.written ? 'writes' : failures.length > 0 ? 'failures' : 'unchanged', leased };
  } catch (error) {
    if (isSaltoError(error) && error.kind === 'transient') {
      const retryAt = new Date(Date.now() + nextAttemptDelayMs(work.attempts));
      await store.recordRetry(buildingId, work, retryAt, error.message);
      options.log?.(
        `building ${buildingId}, access level ${accessLevelId}: ${error.message}; retry at ${retryAt.toISOString()}`,
      );
      return { outcome: 'retries', leased: true };
    }
    if (isSaltoError(error)) {
      const { reason, alerts } = accessLevelRefused(buildingId, accessLevelId, error);
      await store.recordAccessLevelFailed(buildingId, work, reason, alerts);
      return { outcome: 'failures', leased: await store.renewLease(buildingId, lease.invocation, lease.seconds) };
    }
    throw error;
  }
}

/** The reason (and alert) when SALTO refuses an access level outright: unknown (code 11) or otherwise. */
export function accessLevelRefused(
  buildingId: string,
  accessLevelId: string,
  error: Pick<SaltoError, 'message'> & { code?: number | undefined; cause?: unknown; requestName?: string | undefined },
): { reason: string; alerts: AlertInput[] } {
  if (error.code === ShipCode.elementNotFound && error.requestName === 'SaltoDBTimezoneTable.Update') {
    // Not the access level: SALTO has no timetable with the slot's number.
    return {
      reason: `SALTO has no timetable with the number this permission was given (${error.message}). The building's reserved timetable range (integration.salto_servers: timetable_first to timetable_last) must name timetables that exist in SALTO ProAccess SPACE.`,
      alerts: [],
    };
  }
  if (error.code === ShipCode.elementNotFound) {
    return {
      reason: `SALTO has no user access level with the EXT ID "${accessLevelId}". Check the apartment's Access Control ID in Building > Apartments: it must match the User Access Level EXT ID in SALTO ProAccess SPACE.`,
      alerts: [
        {
          kind: 'unknown_salto_id',
          dedupeKey: `unknown_salto_id:${buildingId}:access_level:${accessLevelId}`,
          details: { what: 'access_level', access_level_id: accessLevelId },
        },
      ],
    };
  }
  if (error.cause === 'malformed') {
    // Not a refusal: the reply was unreadable (the write may even have been applied). The nightly
    // cleanup, or the next change of these bookings, reads SALTO again and repairs either way.
    return {
      reason: `SALTO's reply could not be read (${error.message}); the permission is checked again at the next change or the nightly cleanup.`,
      alerts: [],
    };
  }
  return { reason: `SALTO refused the permission: ${error.message}`, alerts: [] };
}

export interface ReconcileOptions {
  client: SaltoClient;
  /** Records timetable slots as they are written. */
  store: Pick<SyncStore, 'saveTimetableSlot'>;
  /** The building's slots, kept current here as slots are written (the caller records the permissions). */
  timetables: BuildingTimetables;
  /** The access level's zone permissions as just read from SALTO (say, by listAccessLevels); read here when absent. */
  current?: readonly ZonePermission[];
  /** The Zone IDs SALTO lists: a permission for another zone fails up front instead of failing the write. */
  knownZoneIds?: ReadonlySet<string>;
}

export interface AccessLevelReconciliation {
  /** What SALTO held before, which managed zones were added, updated or removed, and whether a write was sent. */
  result: SetZonePermissionsResult;
  /** The permissions the bookings ask for (including those that failed). */
  desired: DesiredPermission[];
  /** What SALTO now holds for the zones written. */
  written: WrittenPermission[];
  failures: ZoneFailure[];
  alerts: AlertInput[];
}

/**
 * Brings one access level in line with the bookings: what they desire of it (zone windows and managed
 * zones, read by the caller for many access levels at once), timetable slots, one read (unless
 * `current` is given) and at most one write to SALTO, keeping every zone permission this project does
 * not manage. Records nothing but timetable slots: the caller records the outcome (the sync with its
 * work row, the nightly cleanup with its report). Rejects with SaltoError when SALTO fails or refuses
 * the access level as a whole.
 */
export async function reconcileAccessLevel(
  building: SaltoBuilding,
  accessLevelId: string,
  desiredLevel: DesiredAccessLevel,
  options: ReconcileOptions,
): Promise<AccessLevelReconciliation> {
  const { buildingId } = building;
  const { client } = options;
  const managed = desiredLevel.managed;
  const desired = desiredLevel.windows.map((w) => desiredPermission(w, building.timeZone));
  const { slotOf, failures, alerts } = await assignTimetables(building, accessLevelId, desired, options);

  const failedZones = new Set(failures.flatMap((f) => f.zoneIds));
  let writable = desired.filter((p) => !failedZones.has(p.zoneId));
  const failUnknownZones = (known: ReadonlySet<string>) => {
    for (const p of writable.filter((p) => !known.has(p.zoneId))) {
      const unknown = unknownZone(buildingId, p);
      failures.push(unknown.failure);
      alerts.push(unknown.alert);
    }
    writable = writable.filter((p) => known.has(p.zoneId));
  };
  if (options.knownZoneIds) failUnknownZones(options.knownZoneIds);
  let permissions = writable.map((p) => zonePermission(p, slotOf.get(p.timetableKey) ?? 0));
  let result: SetZonePermissionsResult;
  try {
    result = options.current
      ? await writeZonePermissions(client, accessLevelId, options.current, permissions, managed)
      : await setZonePermissions(client, accessLevelId, permissions, managed);
  } catch (error) {
    // Code 11 on the write: a Zone ID SALTO does not know. Find which, fail only its bookings, and
    // write the others.
    if (!(isSaltoError(error) && error.code === ShipCode.elementNotFound && error.requestName?.includes('Update')))
      throw error;
    const known = new Set((await client.listZones()).map((z) => z.id));
    if (writable.every((p) => known.has(p.zoneId))) throw error;
    failUnknownZones(known);
    permissions = writable.map((p) => zonePermission(p, slotOf.get(p.timetableKey) ?? 0));
    result = await setZonePermissions(client, accessLevelId, permissions, managed);
  }

  const written: WrittenPermission[] = writable.map((p, i) => ({
    zoneId: p.zoneId,
    timetableId: (permissions[i] as ZonePermission).timetableId,
    periodStart: p.periodStart,
    periodEnd: p.periodEnd,
    bookingIds: p.bookingIds,
    windowStart: p.windowStart,
    windowEnd: p.windowEnd,
    exact: p.exact,
    notes: p.notes,
  }));
  return { result, desired, written, failures, alerts };
}

function unknownZone(buildingId: string, p: DesiredPermission): { failure: ZoneFailure; alert: AlertInput } {
  return {
    failure: {
      zoneIds: [p.zoneId],
      bookingIds: p.bookingIds,
      reason: `SALTO has no zone with the Zone ID "${p.zoneId}". Check the facility's Access Control Facility ID in Settings > Facilities: it must match the zone's ID in SALTO ProAccess SPACE.`,
    },
    alert: {
      kind: 'unknown_salto_id',
      dedupeKey: `unknown_salto_id:${buildingId}:zone:${p.zoneId}`,
      details: { what: 'zone', zone_id: p.zoneId, facility_id: p.facilityId },
    },
  };
}

/** Bookings that cannot be served, and the zones they would have needed. */
export interface ZoneFailure extends BookingFailure {
  zoneIds: string[];
}

/**
 * Gives every timetable the access level needs a slot of the building's reserved range (reusing
 * identical ones, recycling unused ones) and writes new slot contents to SALTO before any permission
 * refers to them. A timetable that gets no slot fails its bookings, with an alert; it never crashes.
 */
async function assignTimetables(
  building: SaltoBuilding,
  accessLevelId: string,
  desired: DesiredPermission[],
  { client, store, timetables }: ReconcileOptions,
) {
  const slotOf = new Map<string, number>();
  const failures: ZoneFailure[] = [];
  const alerts: AlertInput[] = [];
  const neededHere = desired.map((p) => p.timetableKey).filter((k) => k !== ALWAYS_KEY);
  if (neededHere.length === 0) return { slotOf, failures, alerts };

  const allocate = (needed: string[]) =>
    allocateTimetableSlots({
      range: building.timetableRange,
      // A slot recorded but never confirmed written may hold anything in SALTO: treat it as free.
      inUse: timetables.writtenSlots(),
      needed,
    });
  // When SALTO holds every timetable needed here, each keeps its slot whatever else is needed. Only a
  // timetable that must take a slot needs to know which slots other access levels use (those are
  // never recycled), and finding out reads every written permission of the building.
  let allocation = allocate(neededHere);
  if (allocation.writes.length > 0 || allocation.exhausted.length > 0) {
    allocation = allocate([...neededHere, ...(await timetables.keysUsedByOthers(accessLevelId))]);
  }
  for (const assignment of allocation.assignments) slotOf.set(assignment.key, assignment.slot);

  const intervalsOf = new Map(desired.map((p) => [p.timetableKey, p.intervals]));
  for (const write of allocation.writes) {
    const intervals = intervalsOf.get(write.key);
    if (!intervals) continue; // a key of another access level, already in SALTO
    await store.saveTimetableSlot(building.buildingId, write.slot, write.key, intervals, false);
    timetables.saveSlot(write.slot, write.key, false, building.timetableRange);
    await client.updateTimetable({ id: write.slot, name: `connecX ${write.key}`.slice(0, 64), intervals });
    await store.saveTimetableSlot(building.buildingId, write.slot, write.key, intervals, true);
    timetables.saveSlot(write.slot, write.key, true, building.timetableRange);
  }

  const exhausted = new Set(allocation.exhausted);
  for (const p of desired.filter((p) => exhausted.has(p.timetableKey))) {
    failures.push({
      zoneIds: [p.zoneId],
      bookingIds: p.bookingIds,
      reason: `No free SALTO timetable: all slots ${building.timetableRange.first}-${building.timetableRange.last} reserved for connecX are in use. They free up as bookings finish; a SALTO administrator can also widen the reserved range.`,
    });
    alerts.push({
      kind: 'access_not_in_place',
      dedupeKey: `timetables_exhausted:${building.buildingId}:${p.bookingIds[0]}`,
      bookingId: p.bookingIds[0],
      details: { reason: 'timetable_slots_exhausted', zone_id: p.zoneId, range: building.timetableRange },
    });
  }
  return { slotOf, failures, alerts };
}

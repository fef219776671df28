/**
 * The nightly cleanup: for each building whose local midnight has passed since its last run, once per
 * local date, brings SALTO fully in line with the bookings and reports what it found.
 *
 * It reuses the sync engine rather than repeating it. The desired state already leaves finished
 * bookings out, so "remove finished permissions and hand them over" is: release finished bookings and
 * hand waiting ones the permission (integration.refresh_finished_pairs), then reconcile every managed
 * access level of the building. SALTO is read with one listing of zones and one of access levels, and
 * written only where it differs: at most one write per affected access level.
 *
 * Exactly once per building and local date is the database's job (integration.lease_cleanup_runs);
 * while it talks to a building's SALTO server the cleanup holds the building's lease, shared with the
 * sync, so the two never write one access level at the same time.
 *
 * A call cleans a slice of a building's access levels, in the order of their IDs, within its budget
 * (CLEANUP_ACCESS_LEVELS, CLEANUP_BUDGET_MS): a building with more ends the slice 'paused', the
 * database records the last access level done (integration.cleanup_runs.resume_after) and dispatches
 * the run again at once, and the next call goes on after it. Each slice hands over the finished
 * bookings of its own access levels (work queued for a later slice's would be the sync's between two
 * slices, missing from the report); the first checks the building's IDs; the last recycles the
 * timetable slots.
 *
 * One access level, or one booking, that cannot be brought in line is reported in the run's failed
 * details, and the run goes on with the others; only what concerns the building (its SALTO server
 * unreachable, the lease lost, the database gone) ends its run.
 */
import {
  isSaltoError,
  type SaltoClient,
  type SaltoEndpointInput,
  ShipCode,
  type ZonePermission,
} from '../salto/index.ts';
import type { BuildingTimetables } from '../sync/building-timetables.ts';
import { accessLevelRefused, errorText, isDatabaseUnavailable, reconcileAccessLevel } from '../sync/engine.ts';
import type { AccessLevelWork, DesiredAccessLevel, ReconciledLevel, SaltoBuilding, SyncStore } from '../sync/store.ts';
import {
  asZonePermission,
  classifyZoneChange,
  PermanentPermissions,
  permanentReport,
  type WrittenRecord,
} from './classify.ts';
import type { CleanupCounts, CleanupDetails, CleanupStore, LeasedRun, RunStatus } from './store.ts';

export interface CleanupOptions {
  store: CleanupStore;
  syncStore: SyncStore;
  /** Opens a SALTO client for a building's endpoint; `onCall` must be told of every request sent. */
  saltoClient: (endpoint: SaltoEndpointInput, hooks: { onCall: (requestName: string) => void }) => SaltoClient;
  invocationId: string;
  /** Only these buildings (an operator re-running one building; tests). Default: any due building. */
  buildingIds?: readonly string[];
  /**
   * The one run a dispatch of the database (integration.dispatch_cleanups) leased for this call: the
   * invocation takes it over and cleans that building only.
   */
  dispatched?: { runId: string; dispatch: string };
  /** Runs leased at most (buildingIds or any due building); a dispatched call has its one. Default 1. */
  maxRuns?: number;
  /** Access levels this call cleans at most, over all its runs (see CLEANUP_ACCESS_LEVELS). */
  accessLevelBudget?: number;
  /** No next access level after this long (see CLEANUP_BUDGET_MS). */
  budgetMs?: number;
  /** Buildings cleaned at once: each mostly waits for its own SALTO server, so many can be. */
  concurrency?: number;
  /** How long a leased run stays ours without renewal (a crashed invocation's run is retried after). */
  runLeaseSeconds?: number;
  leaseSeconds?: number;
  /** How long to wait for a sync invocation to release the building before giving up for this call. */
  leaseWaitMs?: number;
  log?: (line: string) => void;
}

export interface CleanupRunReport {
  runId: string;
  buildingId: string;
  localDate: string;
  attempt: number;
  /** paused: the call's budget was spent with access levels left; the database dispatches the rest. */
  status: RunStatus;
  counts: CleanupCounts;
  details: CleanupDetails;
  error?: string;
}

export interface CleanupSummary {
  runs: CleanupRunReport[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How often the run's lease (600 s) and the building's lease (60 s) are renewed while it is cleaned,
 * whatever the run is doing (a long listing included); each batch of recorded access levels renews the
 * lease too.
 */
const RENEW_EVERY_MS = 5_000;

/**
 * A call's budget, well inside the edge runtime's limits on its worker (docs/decisions/0018, 0035):
 * a worker is retired at 1 s of CPU and killed at 2 s, and a retired worker still finishes the call it
 * runs and at most one more, so a call may use at most 0.5 s. The cleanup spends 2 to 4 ms of CPU per
 * access level (benchmark 9: 0.14 to 0.41 s for a building of 100), plus a fixed part per call (the
 * request, SALTO's listings, the reads): 50 access levels keep a call near 0.2 s. The wall clock
 * (150 s, retired at half) likewise leaves room for two calls of 25 s.
 */
export const CLEANUP_ACCESS_LEVELS = 50;
export const CLEANUP_BUDGET_MS = 25_000;
/**
 * Buildings an operator's call may name: each costs its listings and reads whatever its share of the
 * budget (at least one access level each), so a call naming more is refused.
 */
export const CLEANUP_MAX_BUILDINGS = 10;

/**
 * What a call may still spend, shared by its runs: each run reserves its share of the access levels
 * as its slice starts (it hands over exactly those, see cleanBuilding), at least one, so every run
 * moves on.
 */
class CallBudget {
  private left: number;
  private readonly deadline: number;

  constructor(
    accessLevels: number,
    deadline: number,
    private runsLeft: number,
  ) {
    this.left = accessLevels;
    this.deadline = deadline;
  }

  /** The access levels a run's slice may clean: an even share of what is left, at least one. */
  reserve(): number {
    const reserved = Math.max(Math.ceil(this.left / Math.max(this.runsLeft, 1)), 1);
    this.runsLeft--;
    this.left -= reserved;
    return reserved;
  }

  timeIsUp() {
    return Date.now() >= this.deadline;
  }
}

export async function runCleanup(options: CleanupOptions): Promise<CleanupSummary> {
  const {
    store,
    invocationId,
    concurrency = 64,
    runLeaseSeconds = 600,
    maxRuns = 1,
    accessLevelBudget = CLEANUP_ACCESS_LEVELS,
    budgetMs = CLEANUP_BUDGET_MS,
  } = options;
  const deadline = Date.now() + budgetMs;
  const leased = options.dispatched
    ? await store.takeDispatchedRun(
        options.dispatched.runId,
        options.dispatched.dispatch,
        invocationId,
        runLeaseSeconds,
      )
    : await store.leaseRuns(invocationId, runLeaseSeconds, options.buildingIds, maxRuns);
  const budget = new CallBudget(accessLevelBudget, deadline, leased.length);
  const runs: CleanupRunReport[] = [];
  // A pool of workers over the leased runs: a slow or unreachable building never holds up the others.
  const queue = [...leased];
  const worker = async () => {
    for (let run = queue.shift(); run; run = queue.shift()) runs.push(await cleanBuilding(run, budget, options));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  return { runs };
}

function emptyCounts(): CleanupCounts {
  return {
    cleared: 0,
    handed_over: 0,
    repaired: 0,
    synced: 0,
    failed: 0,
    slots_recycled: 0,
    unknown_ids: 0,
    access_levels_checked: 0,
    salto_calls: 0,
  };
}

async function cleanBuilding(run: LeasedRun, budget: CallBudget, options: CleanupOptions): Promise<CleanupRunReport> {
  const { store, syncStore, invocationId, leaseSeconds = 60, runLeaseSeconds = 600 } = options;
  const { buildingId } = run;
  const counts = emptyCounts();
  const details: CleanupDetails = {
    cleared: [],
    handed_over: [],
    repaired: [],
    synced: [],
    failed: [],
    permanent: [],
  };
  let status: RunStatus = 'completed';
  let error: string | undefined;
  // The last access level this call cleaned, and whether this call checked the building's IDs.
  let lastDone: string | undefined;
  let idsChecked = false;
  let leased = false;
  let client: SaltoClient | undefined;
  let lease: HeldLease | undefined;
  let recorder: LevelRecorder | undefined;
  try {
    const leasedAt = await waitForLease(buildingId, options);
    if (leasedAt === undefined) {
      throw new RunFailed('failed', "A sync invocation kept the building's SALTO server busy; the next call retries.");
    }
    leased = true;
    lease = new HeldLease(leaseSeconds, leasedAt, async () => {
      const [buildingStillLeased, runStillLeased] = await Promise.all([
        syncStore.renewLease(buildingId, invocationId, leaseSeconds),
        store.renewRunLease(run.runId, invocationId, runLeaseSeconds),
      ]);
      return buildingStillLeased && runStillLeased;
    });
    const heldLease = lease;
    const levelRecorder = new LevelRecorder(
      (reconciled) =>
        syncStore.recordReconciledLevels(buildingId, reconciled, { invocation: invocationId, seconds: leaseSeconds }),
      heldLease,
    );
    recorder = levelRecorder;
    const building = await syncStore.building(buildingId);
    if (building.endpoint === undefined) {
      throw new RunFailed('failed', 'No SALTO server is configured for this building.');
    }
    if (building.writes === 'shadow') {
      // Nothing is written in shadow mode, so there is nothing of ours in SALTO to clean up.
      throw new RunFailed(
        'failed',
        'Shadow mode: the nightly cleanup writes nothing to SALTO until a manager switches the building live.',
      );
    }

    // SALTO is listed while the database releases finished bookings and hands waiting ones the
    // permission: neither needs the other, and on a busy night each takes a good part of a second.
    const saltoClient = options.saltoClient(building.endpoint, { onCall: () => void counts.salto_calls++ });
    client = saltoClient;
    // Where the run got to: the first slice checks the IDs, later ones go on after it.
    const resumeAfter = await store.resumeAfter(run.runId);
    const firstSlice = resumeAfter === null;
    const listing = (async () => ({
      zones: await saltoClient.listZones(),
      listed: await saltoClient.listAccessLevels(),
    }))();
    // The slice (the access levels after the last one done, one more than the budget allows, to know
    // whether any is left) and, while SALTO is listed, its hand-over: the finished bookings of the
    // access levels this call cleans are released and waiting ones handed the permission, then what
    // they need is read. Only this slice's: work the fold queued for a later slice's access levels
    // would be the sync's between two slices, and its clearing missing from this report.
    const reserved = budget.reserve();
    const slice = (async () => {
      const levels = await store.accessLevels(buildingId, resumeAfter, reserved + 1);
      const ids = levels.map((l) => l.accessLevelId);
      await store.refreshFinishedPairs(buildingId, ids.slice(0, reserved));
      // A batch at a time, until none is pending.
      while ((await syncStore.applyBookingChanges(buildingId)) > 0);
      const [desired, written, work] = await Promise.all([
        desiredOfAll(buildingId, ids, options),
        store.writtenPermissions(buildingId, ids),
        store.accessLevelWork(buildingId, ids),
      ]);
      return { levels, desired, written, work };
    })();
    await Promise.allSettled([slice, listing]);
    const { zones, listed } = await listing;
    const knownZoneIds = new Set(zones.map((z) => z.id));
    const actual = new Map(listed.map((l) => [l.id, l.zonePermissions]));

    // The IDs check and the building's timetables: independent round trips, at once.
    const [unknown, { levels, desired, written, work }, timetables] = await Promise.all([
      firstSlice ? store.recordSaltoIdsCheck(buildingId, [...knownZoneIds], [...actual.keys()]) : undefined,
      slice,
      syncStore.timetables(buildingId),
    ]);
    if (unknown) {
      idsChecked = true;
      counts.unknown_ids = unknown.length;
    }
    const permanent = new PermanentPermissions();
    for (const level of levels) {
      const { accessLevelId } = level;
      // The slice's access levels done, or the call's time spent (at least one access level per
      // run, so every call moves the run on): the rest is the next call's.
      if (lastDone !== undefined && (counts.access_levels_checked >= reserved || budget.timeIsUp())) {
        status = 'paused';
        break;
      }
      counts.access_levels_checked++;
      // Written only while a confirmed renewal of the lease is recent enough, and recorded in
      // batches while the next ones are written.
      levelRecorder.check();
      await heldLease.beforeWrite();
      try {
        const reconciled = await cleanAccessLevel(building, level, {
          current: actual.get(accessLevelId),
          written: written.get(accessLevelId) ?? new Map(),
          work: work.get(accessLevelId) ?? { accessLevelId, generation: 0, attempts: 0 },
          // One per access level asked for; read on its own when the building's could not be read at once.
          desired:
            desired.get(accessLevelId) ??
            (await syncStore.desiredAccessLevels(buildingId, [accessLevelId])).get(accessLevelId)!,
          timetables,
          knownZoneIds,
          client,
          options,
          counts,
          details,
          permanent,
        });
        if (reconciled) levelRecorder.add(reconciled);
      } catch (caught) {
        // What concerns the building (SALTO unreachable, the lease lost, the database gone) ends its
        // run; anything else is this access level's: reported, and the run goes on with the others.
        if (caught instanceof RunFailed || isDatabaseUnavailable(caught)) throw caught;
        if (isSaltoError(caught) && caught.kind === 'transient') throw caught;
        const reason = `This access level could not be brought in line with the bookings (${errorText(caught)}); it is tried again at the next change of its bookings or the next nightly cleanup.`;
        counts.failed++;
        details.failed.push({ access_level_id: accessLevelId, reason });
        options.log?.(`cleanup of building ${buildingId}, access level ${accessLevelId}: ${errorText(caught)}`);
      }
      lastDone = accessLevelId;
    }
    await levelRecorder.drain();
    // Permissions this project did not write, on facilities' zones: reported and flagged, never repaired
    // (the check covers the slice's access levels).
    const shared = await store.recordPermanentPermissionsCheck(buildingId, permanent);
    details.permanent.push(...shared.map(permanentReport));

    if (status !== 'paused') counts.slots_recycled = await store.recycleTimetableSlots(buildingId);
  } catch (caught) {
    if (caught instanceof RunFailed) {
      status = caught.status;
      error = caught.message;
    } else if (isSaltoError(caught)) {
      status = caught.kind === 'transient' ? 'unreachable' : 'failed';
      error = caught.message;
    } else {
      status = 'failed';
      error = (caught as Error).message ?? String(caught);
    }
    options.log?.(`cleanup of building ${buildingId} (${run.localDate}): ${status}: ${error}`);
  } finally {
    await recorder?.drain().catch(() => {}); // a run that failed: what it wrote is recorded before the lease goes
    await lease?.stop();
    await client?.close().catch(() => {});
    if (leased) await syncStore.releaseLease(buildingId, invocationId);
  }
  // A slice after the first did not check the IDs: the run keeps the first slice's figure.
  const { unknown_ids, ...otherCounts } = counts;
  await store.finishRun(
    run.runId,
    invocationId,
    status,
    idsChecked ? counts : otherCounts,
    details,
    error,
    status === 'paused' ? lastDone : undefined,
  );
  return { ...run, status, counts, details, ...(error === undefined ? {} : { error }) };
}

/**
 * What the bookings desire of every access level of the building, in one call. When that call fails
 * (what one access level's bookings hold, say), an empty map: each access level is then read on its
 * own, and only those whose reading fails fail.
 */
async function desiredOfAll(
  buildingId: string,
  accessLevelIds: string[],
  options: CleanupOptions,
): Promise<Map<string, DesiredAccessLevel>> {
  try {
    return await options.syncStore.desiredAccessLevels(buildingId, accessLevelIds);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    options.log?.(
      `cleanup of building ${buildingId}: reading what the bookings desire failed (${errorText(error)}); one access level at a time`,
    );
    return new Map();
  }
}

const LOST_LEASE = 'The cleanup took too long and lost its lease on the building; the next call retries.';

/**
 * The building's lease while a run holds it: renewed in the background (with the run's lease), and
 * known to be ours for sure until half its length after a renewal the database confirmed was sent
 * (the database applied it later, never earlier; the other half covers a write under way).
 */
class HeldLease {
  private safeUntil: number;
  private lost = false;
  private renewal: Promise<void> | undefined;
  private readonly heartbeat: ReturnType<typeof setInterval>;

  constructor(
    private readonly seconds: number,
    takenAt: number,
    private readonly renewOnce: () => Promise<boolean>,
  ) {
    this.safeUntil = takenAt + this.trusted();
    this.heartbeat = setInterval(() => void this.renew().catch(() => {}), Math.min(RENEW_EVERY_MS, this.trusted() / 2));
  }

  private trusted() {
    return (this.seconds * 1000) / 2;
  }

  /** A renewal the database confirmed (by the heartbeat, or by recording an access level). */
  renewed(sentAt: number) {
    this.safeUntil = Math.max(this.safeUntil, sentAt + this.trusted());
  }

  /** Renews now; a renewal already under way is joined. */
  renew(): Promise<void> {
    this.renewal ??= (async () => {
      const sentAt = Date.now();
      try {
        if (await this.renewOnce()) this.renewed(sentAt);
        else this.lost = true;
      } finally {
        this.renewal = undefined;
      }
    })();
    return this.renewal;
  }

  /** Before writing SALTO: resolves while the lease is surely ours, renewing it first if need be. */
  async beforeWrite() {
    if (!this.lost && Date.now() >= this.safeUntil) await this.renew();
    if (this.lost || Date.now() >= this.safeUntil) throw new RunFailed('failed', LOST_LEASE);
  }

  async stop() {
    clearInterval(this.heartbeat);
    await this.renewal?.catch(() => {});
  }
}

/**
 * Access levels recorded in one round trip, at most; and how long a written one waits for its batch
 * (checked as the next ones are written: with a slow SALTO, one write longer).
 */
const RECORD_BATCH = 20;
const RECORD_WAIT_MS = 1_000;

/**
 * The access levels a run has written, recorded in the database in batches while it goes on writing
 * SALTO: a round trip per batch, not per access level, and none on SALTO's path. A batch leaves once
 * the previous one is back and enough are waiting, or the oldest has waited long enough. What a
 * record finds (a database error, the lease lost) stops the run at its next write.
 */
class LevelRecorder {
  private waiting: { level: ReconciledLevel; since: number }[] = [];
  private sending: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly send: (levels: ReconciledLevel[]) => Promise<boolean>,
    private readonly lease: HeldLease,
  ) {}

  add(level: ReconciledLevel) {
    this.waiting.push({ level, since: Date.now() });
    this.sendIfDue(false);
  }

  /** Throws what a record found. */
  check() {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Records everything still waiting. */
  async drain() {
    while (this.failure === undefined && (this.sending || this.waiting.length > 0)) {
      if (this.sending) await this.sending;
      else this.sendIfDue(true);
    }
    this.check();
  }

  private sendIfDue(now: boolean) {
    if (this.sending || this.waiting.length === 0 || this.failure !== undefined) return;
    if (!now && this.waiting.length < RECORD_BATCH && Date.now() - this.waiting[0]!.since < RECORD_WAIT_MS) return;
    const batch = this.waiting.splice(0).map((w) => w.level);
    const sentAt = Date.now();
    this.sending = this.send(batch)
      .then(
        (leased) => {
          if (leased) this.lease.renewed(sentAt);
          else this.failure = new RunFailed('failed', LOST_LEASE);
        },
        (error: unknown) => {
          this.failure = error;
        },
      )
      .finally(() => {
        this.sending = undefined;
        this.sendIfDue(false);
      });
  }
}

class RunFailed extends Error {
  constructor(
    readonly status: RunStatus,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The sync holds a building only for a pass; wait for it rather than fail the night's run. Resolves
 * with when the lease that was taken had been asked for, or undefined when it never was.
 */
async function waitForLease(buildingId: string, options: CleanupOptions): Promise<number | undefined> {
  const { store, invocationId, leaseSeconds = 60, leaseWaitMs = 20_000 } = options;
  const deadline = Date.now() + leaseWaitMs;
  for (;;) {
    const askedAt = Date.now();
    if (await store.takeBuildingLease(buildingId, invocationId, leaseSeconds)) return askedAt;
    if (Date.now() >= deadline) return undefined;
    await sleep(250);
  }
}

interface AccessLevelContext {
  /** The access level's zone permissions as SALTO listed them; undefined when SALTO does not know it. */
  current: readonly ZonePermission[] | undefined;
  written: Map<string, WrittenRecord>;
  /** The access level's work row as read at the start of the building's run (generation 0: none). */
  work: AccessLevelWork;
  /** What the bookings ask of it, read for all the building's access levels at once. */
  desired: DesiredAccessLevel;
  timetables: BuildingTimetables;
  knownZoneIds: ReadonlySet<string>;
  client: SaltoClient;
  options: CleanupOptions;
  counts: CleanupCounts;
  details: CleanupDetails;
  /** Collects the permissions of each access level this project did not write. */
  permanent: PermanentPermissions;
}

/**
 * Brings one access level in line; resolves once SALTO is written, with what is left to record (an
 * access level that needed no write, or failed, is recorded before it resolves).
 */
async function cleanAccessLevel(
  building: SaltoBuilding,
  level: { accessLevelId: string; apartmentId: string | null },
  context: AccessLevelContext,
): Promise<ReconciledLevel | undefined> {
  const { store, syncStore } = context.options;
  const { buildingId } = building;
  const { accessLevelId } = level;
  const { work } = context;

  if (!context.current) {
    // SALTO does not know the access level (the IDs check has marked it and alerted the managers).
    if (level.apartmentId === null) {
      // No apartment uses it any more and SALTO deleted it: our permissions went with it.
      await store.forgetAccessLevel(buildingId, accessLevelId);
      context.timetables.forget(accessLevelId);
      return undefined;
    }
    if (context.desired.windows.length === 0 && context.written.size === 0) return undefined; // nothing to bring in line
    const { reason } = accessLevelRefused(buildingId, accessLevelId, {
      code: ShipCode.elementNotFound,
      message: 'not listed',
    });
    await syncStore.recordAccessLevelFailed(buildingId, work, reason, []);
    context.counts.failed++;
    context.details.failed.push({ access_level_id: accessLevelId, reason });
    return undefined;
  }

  let reconciliation: Awaited<ReturnType<typeof reconcileAccessLevel>>;
  try {
    reconciliation = await reconcileAccessLevel(building, accessLevelId, context.desired, {
      client: context.client,
      store: syncStore,
      timetables: context.timetables,
      current: context.current,
      knownZoneIds: context.knownZoneIds,
    });
  } catch (error) {
    // Unreachable SALTO ends the building's run (retried later); a refusal fails this access level only.
    if (!isSaltoError(error) || error.kind === 'transient') throw error;
    const { reason, alerts } = accessLevelRefused(buildingId, accessLevelId, error);
    await syncStore.recordAccessLevelFailed(buildingId, work, reason, alerts);
    context.counts.failed++;
    context.details.failed.push({ access_level_id: accessLevelId, reason });
    return undefined;
  }

  const { result, written, failures } = reconciliation;
  context.permanent.add(accessLevelId, reconciliation.notOurs);
  const desiredByZone = new Map(written.map((w) => [w.zoneId, w]));
  const actualByZone = new Map(context.current.map((p) => [p.zoneId, p]));
  for (const zoneId of [...result.removed, ...result.added, ...result.updated]) {
    const desired = desiredByZone.get(zoneId);
    const kind = classifyZoneChange({
      written: context.written.get(zoneId),
      actual: actualByZone.get(zoneId),
      desired: desired && { permission: asZonePermission(desired), bookingIds: desired.bookingIds },
    });
    context.counts[kind]++;
    context.details[kind].push({
      access_level_id: accessLevelId,
      zone_id: zoneId,
      ...(kind === 'repaired'
        ? {
            found_in_salto: actualByZone.get(zoneId) ?? null,
            written_before: context.written.has(zoneId) ? asZonePermission(context.written.get(zoneId)!) : null,
            now: desired ? asZonePermission(desired) : null,
          }
        : {}),
      ...(desired
        ? { booking_ids: desired.bookingIds }
        : { booking_ids_before: context.written.get(zoneId)?.bookingIds ?? [] }),
    });
  }
  for (const failure of failures) {
    context.counts.failed++;
    context.details.failed.push({
      access_level_id: accessLevelId,
      zone_ids: failure.zoneIds,
      booking_ids: failure.bookingIds,
      reason: failure.reason,
    });
  }
  // Unknown IDs were alerted by the IDs check already (same dedupe key); other alerts are new facts.
  const alerts = reconciliation.alerts.filter((a) => a.kind !== 'unknown_salto_id');
  context.timetables.recordWritten(
    accessLevelId,
    written.map((w) => w.timetableId),
  );
  return { work, written, failures, alerts };
}

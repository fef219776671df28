/**
 * The sync engine: brings SALTO access levels in line with the bookings.
 *
 * Level-triggered and idempotent. For each access level in integration.access_level_work it computes
 * the desired zone permissions from the database, reads the access level from SALTO, and writes the
 * difference in one SaltoDBGroup.Update that keeps every zone permission this project did not write.
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
 *
 * Failure isolation: what one booking or access level holds never stops the others. A booking window
 * SALTO cannot express fails its bookings alone (with the reason and an alert), and the access level's
 * other zones are written; any other error with one access level (what the database computes for it, a
 * value or a reply the engine cannot use, recording its outcome) fails that access level with the
 * reason and the backoff, and the pass goes on. Only what concerns the whole building (its SALTO
 * server unreachable, its lease lost, the database gone) ends its pass, and one building's failure
 * never ends another's.
 */
import { allocateTimetableSlots } from '../access/index.ts';
import {
  isSaltoError,
  type SaltoClient,
  type SaltoEndpointInput,
  type SaltoError,
  type SetZonePermissionsResult,
  ShipCode,
  type ShipExchange,
  writeZonePermissions,
  type ZonePermission,
} from '../salto/index.ts';
import { MAX_RETRY_MS, nextAttemptDelayMs } from './backoff.ts';
import type { BuildingTimetables } from './building-timetables.ts';
import { CpuBudget } from './cpu-budget.ts';
import {
  ALWAYS_KEY,
  type DesiredPermission,
  desiredPermissions,
  heldZoneFailure,
  ownedZones,
  type UnwritableWindow,
  zonePermission,
} from './desired.ts';
import { type PlannedWrite, shadowClient } from './shadow.ts';
import { SiteCalendars, specialDatesFor } from './site-calendar.ts';
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
  /**
   * Opens a SALTO client for a building's endpoint. `hooks.onExchange` (when the factory passes it to
   * createSaltoClient) feeds the building's traffic log.
   */
  saltoClient: (endpoint: SaltoEndpointInput, hooks?: { onExchange?: (exchange: ShipExchange) => void }) => SaltoClient;
  invocationId: string;
  /** Stop leasing new work after this long (the pass's wall-clock budget; see PASS_BUDGET_MS). */
  budgetMs?: number;
  /**
   * The worker's CPU budget (cpu-budget.ts), shared with whatever runs beside the pass: the pass
   * starts no new building, batch or access level once its grant is spent. The caller grants it when
   * the pass starts; without one, the pass has a budget of its own with one grant (PASS_CPU_MS).
   */
  cpu?: CpuBudget;
  /**
   * Asks for the next invocation (after a pass that stopped at its budget with work left): the pass
   * leaves the rest to it rather than outliving its worker's limits.
   */
  wakeNextInvocation?: () => Promise<void>;
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
  /**
   * How long a pass that has written keeps looking for new work after its last (PASS_LINGER_MS), a
   * round every LINGER_ROUND_MS: a busy building's next bookings are then taken by the running pass
   * rather than waiting for pg_net's next batch to bring their wake-up. 0: the pass ends as soon as
   * nothing is due.
   */
  lingerMs?: number;
  /**
   * The SALTO sites' calendars as read by earlier passes (each kept for at most
   * CALENDARS_MAX_AGE_MS, site-calendar.ts). Default: the worker's own, shared by its passes.
   */
  calendars?: SiteCalendars;
  log?: (line: string) => void;
}

/** The calendars the passes of this worker read (SyncOptions.calendars). */
const workerCalendars = new SiteCalendars();

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

/**
 * A pass's wall-clock budget, well inside the edge runtime's limit on its worker (docs/decisions/
 * 0018): the worker is retired at half its 150 s and killed at 150 s, and a retired worker still
 * finishes the pass it runs and at most one pass asked for before it was retired, so two passes of
 * 25 s fit, with room for their last SALTO calls. Its CPU budget is estimated (SyncOptions.cpu,
 * PASS_CPU_MS in cpu-budget.ts, docs/decisions/0036): a count of access levels says little about
 * the CPU they cost (an access level of ten zones costs several times one of one).
 */
export const PASS_BUDGET_MS = 25_000;

/** Least time between two rounds started by wake-ups while buildings are being written. */
const WOKEN_ROUND_GAP_MS = 100;

/**
 * How long a pass that has written keeps taking rounds after its last work, and how often
 * (docs/decisions/0032). pg_net's worker sends the wake-ups of a busy building's bookings in batches
 * about 1.3 s apart (it waits 1 s after each batch, and a commit wakes it early only when it was
 * idle): a booking committed while no pass runs waits for the next batch. A pass that keeps looking
 * for 1.5 s after its last work bridges that gap, so a building with a booking at least every 1.5 s
 * keeps a pass running while its bookings come; a quiet building's pass ends 1.5 s after its booking,
 * having taken about 15 rounds that found nothing (each a fold of nothing and a lease scan, about 2 ms
 * of the function's CPU). A building's task that runs out of work waits for those rounds too, so a
 * busy building is written by one task, under one lease, for the whole pass.
 */
export const PASS_LINGER_MS = 1_500;
const LINGER_ROUND_MS = 100;
/** A lingering task's lease on its building while it waits for new work (seconds). */
const LINGER_LEASE_SECONDS = 2;

/** Rounds that may fail in a row before the pass ends, and the wait before the next (doubling). */
const FAILED_ROUNDS = 5;
const FAILED_ROUND_DELAY_MS = 250;
const FAILED_ROUND_MAX_DELAY_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSync(options: SyncOptions): Promise<SyncReport> {
  const { store, budgetMs = PASS_BUDGET_MS, concurrency = 32 } = options;
  const cpu = options.cpu ?? new CpuBudget();
  const deadline = Date.now() + budgetMs;
  const report: SyncReport = { buildings: 0, accessLevels: 0, writes: 0, unchanged: 0, retries: 0, failures: 0 };
  // The pass's budget is spent: no new building, no new access level; what is left waits for the next pass.
  const spent = () => Date.now() >= deadline || cpu.exhausted();
  // A building's task takes an access level of the budget before it reads it from SALTO (charged at
  // once, so the tasks beside it see it), so the pass never reads an access level its budget then
  // leaves unwritten (a read the next pass would make again).
  const take = () => {
    if (spent()) return false;
    cpu.accessLevel();
    return true;
  };
  let stoppedAtBudget = false;
  // The buildings this pass is writing, each by one task.
  const writing = new Map<string, Promise<void>>();
  // Buildings whose task failed in this pass (not for SALTO or the lease: those end a building's
  // work normally, with their backoff recorded).
  const failed = new Set<string>();
  const active = () => [...writing.values()];
  let roundAt = 0;
  let failedRounds = 0;
  // When the pass last had work (a building leased, an access level synced; undefined: never, and a
  // pass that found nothing to write does not linger).
  let workedAt: number | undefined;
  const lingerMs = options.lingerMs ?? 0;
  // Building tasks that ran out of due work while the pass lingers wait for the next round (which
  // folds the bookings committed meanwhile) rather than end: their building stays leased, its SALTO
  // client open and its timetables read, for the next booking.
  const roundWaiters: (() => void)[] = [];
  let roundWanted: (() => void) | undefined;
  // The pass takes no more rounds: no task waits for one.
  let ending = false;
  const nextRound = () =>
    new Promise<void>((resolve) => {
      if (ending) return resolve();
      roundWaiters.push(resolve);
      roundWanted?.();
    });
  // A round is over: the tasks waiting for it look again (or end, see Linger).
  const roundOver = () => {
    for (const waiter of roundWaiters.splice(0)) waiter();
  };
  const end = () => {
    ending = true;
    roundOver();
  };
  // Resolves once a task waits for a round, no sooner than LINGER_ROUND_MS after the last one.
  const roundAskedFor = () =>
    (roundWaiters.length > 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          roundWanted = resolve;
        })
    ).then(() => sleep(Math.max(0, roundAt + LINGER_ROUND_MS - Date.now())));
  const worked = () => {
    workedAt = Date.now();
  };
  const lingers = (since: number) => !ending && Date.now() < since + lingerMs && !spent();
  // The pass itself lingers: for lingerMs after its last work.
  const lingering = () => workedAt !== undefined && lingers(workedAt);
  const linger: Linger = {
    worked,
    lingers,
    waitForRound: async (since) => {
      if (!lingers(since)) return false;
      await nextRound();
      return lingers(since);
    },
  };
  // The next wake-up, no sooner than WOKEN_ROUND_GAP_MS after the last round (a burst of bookings
  // wakes the function once per transaction; later than that, at once: Deno warns of a negative
  // timeout); never, when nobody tells.
  const wokenForRound = options.woken
    ? () => options.woken!().then(() => sleep(Math.max(0, roundAt + WOKEN_ROUND_GAP_MS - Date.now())))
    : () => new Promise<void>(() => {});

  try {
    for (;;) {
      if (spent()) {
        stoppedAtBudget = true;
        break;
      }
      // Lease only what can start now: a leased building waiting for a free slot would hold its lease
      // idle (and could lose it to another invocation while still queued here).
      // And no more buildings than access levels the budget can still start: each leased building
      // reads one at once.
      const free = Math.min(concurrency - writing.size, cpu.accessLevelsLeft());
      roundAt = Date.now();
      // Bookings' changes become access states and access level work first, a batch per round.
      let round: Awaited<ReturnType<SyncStore['takeWork']>>;
      cpu.round();
      try {
        round = await store.takeWork(
          options.invocationId,
          options.leaseSeconds ?? 60,
          free,
          options.batchSize ?? BATCH_SIZE,
        );
        failedRounds = 0;
      } catch (error) {
        roundOver();
        // A round concerns every building (it folds all their bookings' changes): one that failed for
        // a reason of the moment (a deadlock, a booking deleted while its change was folded) is tried
        // again shortly rather than leaving every building's work to the next wake-up. The database
        // gone, or a round that keeps failing, ends the pass.
        const delay = Math.min(FAILED_ROUND_MAX_DELAY_MS, FAILED_ROUND_DELAY_MS * 2 ** failedRounds);
        failedRounds++;
        if (isDatabaseUnavailable(error) || failedRounds > FAILED_ROUNDS || Date.now() + delay >= deadline) throw error;
        options.log?.(`sync round failed (${errorText(error)}); trying again in ${delay} ms`);
        await sleep(delay);
        continue;
      }
      roundOver();
      roundWanted = undefined;
      const { leased: leasedBuildings, changesLeft, secondsUntilDue } = round;
      let started = 0;
      for (const leased of leasedBuildings) {
        const { buildingId } = leased.building;
        // Leased again while its task still writes it (its lease had run out, say): that task goes on
        // and takes the new work in its next batch; two tasks would write one SALTO at once.
        if (writing.has(buildingId)) continue;
        if (failed.has(buildingId)) {
          // Failed once in this pass: the next pass tries again (released now, not held idle).
          await store.releaseLease(buildingId, options.invocationId);
          continue;
        }
        report.buildings++;
        started++;
        worked();
        writing.set(
          buildingId,
          syncBuilding(leased, options, cpu, report, { take, spent }, linger)
            .catch((error: unknown) => {
              // One building's failure (its database reads, say) is that building's: the others go on.
              failed.add(buildingId);
              report.failures++;
              options.log?.(`building ${buildingId}: sync pass failed: ${errorText(error)}`);
            })
            .finally(() => writing.delete(buildingId)),
        );
      }
      // Only buildings that failed in this pass were due: they wait for the next one.
      if (started === 0 && writing.size === 0 && leasedBuildings.length > 0 && !changesLeft) break;
      if (writing.size >= concurrency) {
        await Promise.race([...active(), ...(lingerMs > 0 ? [roundAskedFor()] : [])]);
        continue;
      }
      // Asked again at once only while changes wait to be folded. A round that leased fewer buildings
      // than it could take leased every one it could: asking again now would cost the database a fold
      // and a lease scan while the buildings just leased are being written.
      if (changesLeft) continue;
      if (writing.size > 0) {
        // Until a building is done, a wake-up says other work may be waiting, or a building's task
        // waits for new bookings while the pass lingers.
        await Promise.race([...active(), wokenForRound(), ...(lingerMs > 0 ? [roundAskedFor()] : [])]);
        continue;
      }
      // Nothing to lease: wait briefly for work in backoff (see maxIdleWaitMs), or, after the pass's
      // last work, for the next lingering round (see lingerMs); else end the pass. A wake-up ends the
      // wait: a booking committed meanwhile is not held back by another's backoff.
      const backoffMs = secondsUntilDue === null ? undefined : Math.max(secondsUntilDue * 1000, 200);
      let waitMs = backoffMs !== undefined && backoffMs <= (options.maxIdleWaitMs ?? 10_000) ? backoffMs : undefined;
      if (lingering()) {
        waitMs = Math.min(waitMs ?? Number.POSITIVE_INFINITY, Math.max(0, roundAt + LINGER_ROUND_MS - Date.now()));
      }
      if (waitMs === undefined || Date.now() + waitMs >= deadline) break;
      await Promise.race([sleep(waitMs), wokenForRound()]);
    }
    // Tasks waiting for a round end now (the pass took its last one).
    end();
    await Promise.all(active());
  } finally {
    // A round that failed (the database gone, say) ends the pass, but not before the buildings still
    // being written are done: left running, they would write under leases that could run out, beside
    // the invocation that takes their buildings next.
    end();
    await Promise.allSettled(active());
  }
  // Stopped at the budget: there may be work left, and the next wake-up must not wait for the minute
  // job. (A pass that finds nothing due after that costs one round.)
  if ((stoppedAtBudget || spent()) && options.wakeNextInvocation) {
    await options.wakeNextInvocation().catch((error: unknown) => {
      options.log?.(`could not ask for the next sync invocation (the minute job will): ${errorText(error)}`);
    });
  }
  return report;
}

/** A lingering pass (SyncOptions.lingerMs), as a building's task sees it. */
interface Linger {
  /** The task synced an access level: the pass lingers from now. */
  worked: () => void;
  /** Whether a task whose last work was at `since` lingers: for lingerMs after it, within the pass's budget. */
  lingers: (since: number) => boolean;
  /** Waits for the pass's next round; false when the task should end instead (it no longer lingers). */
  waitForRound: (since: number) => Promise<boolean>;
}

async function syncBuilding(
  leased: LeasedBuilding,
  options: SyncOptions,
  cpu: CpuBudget,
  report: SyncReport,
  /** take: takes one access level of the pass's budget (false when it is spent); spent: whether it is. */
  { take, spent }: { take: () => boolean; spent: () => boolean },
  linger: Linger,
) {
  const { store, invocationId, leaseSeconds = 60 } = options;
  const { building, due: firstDue } = leased;
  const { buildingId } = building;
  let client: SaltoClient | undefined;
  // This pass's SHIP exchanges, for the building's traffic log (written once, as the pass ends).
  const traffic: ShipExchange[] = [];
  try {
    if (building.endpoint === undefined) {
      options.log?.(`building ${buildingId}: no SALTO server configured; work stays queued`);
      await store.recordNoSaltoServer(buildingId, new Date(Date.now() + MAX_RETRY_MS));
      return;
    }
    client = options.saltoClient(building.endpoint, {
      onExchange: (exchange) => {
        traffic.push(exchange);
        cpu.exchange(exchange);
      },
    });
    const lease = { invocation: invocationId, seconds: leaseSeconds };
    // The first access level is read from SALTO while the database reads what the batch desires (what
    // its bookings ask, the building's timetable slots, in one call): neither needs the other, and on
    // the way from a booking to the door each takes about as long as the other.
    const first = firstDue[0];
    if (first && !take()) return;
    const firstRead = first && readAhead(client, first.accessLevelId);
    cpu.round();
    const { timetables, firstBatch } = await firstBatchOf(building, firstDue, options);
    let lastWork = Date.now();
    for (let due = firstBatch; due.length > 0; ) {
      for (const level of due) {
        const { work } = level;
        const current = work === first ? firstRead : undefined;
        // The pass's budget spent: the rest of the batch stays queued for the next pass (the first
        // access level was taken when it was read ahead).
        if (current === undefined && !take()) return;
        // Its zones charged before the work, so that the building tasks beside this one see them at
        // once: its zone windows, and the zones this project wrote that no window asks for any more.
        cpu.zones('error' in level ? 0 : zonesOf(level.desired));
        const { outcome, leased } =
          'error' in level
            ? await accessLevelFailed(building, work, level.error, lease, options)
            : await syncAccessLevel(building, work, level.desired, timetables, client, lease, options, current);
        report.accessLevels++;
        report[outcome]++;
        linger.worked();
        lastWork = Date.now();
        if (outcome === 'retries') return; // the server is failing: the rest of the building waits for the backoff
        if (!leased) return; // lease lost (we were too slow): another invocation owns the building now
      }
      if (spent()) return;
      due = await nextBatch(buildingId, options, cpu);
      if (due.length > 0 || !linger.lingers(lastWork)) continue;
      // Nothing due: while the pass lingers, look again after each of its rounds. Meanwhile the lease
      // is short (a worker killed now would hold the building seconds, not a minute), and it is
      // lengthened again before anything is written.
      if (!(await store.renewLease(buildingId, invocationId, LINGER_LEASE_SECONDS))) return;
      while (due.length === 0 && (await linger.waitForRound(lastWork))) due = await nextBatch(buildingId, options, cpu);
      if (due.length === 0) return;
      cpu.round();
      if (!(await store.renewLease(buildingId, invocationId, leaseSeconds))) return;
      // The building's settings (its SALTO server, its timetable range, shadow or live) may have
      // changed while the task waited: it goes on only with what it was leased with, else the pass's
      // next round leases the building afresh.
      if (JSON.stringify(await store.building(buildingId)) !== JSON.stringify(building)) return;
    }
  } finally {
    await client?.close().catch(() => {});
    await store.recordTraffic(buildingId, traffic).catch((error: unknown) => {
      options.log?.(`building ${buildingId}: the SALTO traffic log could not be written: ${errorText(error)}`);
    });
    await store.releaseLease(buildingId, invocationId);
  }
}

/** The zone windows an access level's bookings ask for and the zones written that none asks for any more. */
function zonesOf(desired: DesiredAccessLevel): number {
  const asked = new Set(desired.windows.map((w) => w.zoneId));
  return desired.windows.length + desired.managed.filter((zone) => !asked.has(zone)).length;
}

/** Due access level work with what its bookings desire, or why that could not be read. */
type DueLevel = { work: AccessLevelWork; desired: DesiredAccessLevel } | { work: AccessLevelWork; error: unknown };

/**
 * The building's timetable slots and what the first batch desires, in one call. When that call fails
 * (what one access level's bookings hold, say), each access level is read on its own: only those
 * whose reading fails fail.
 */
async function firstBatchOf(
  building: SaltoBuilding,
  firstDue: readonly AccessLevelWork[],
  options: SyncOptions,
): Promise<{ timetables: BuildingTimetables; firstBatch: DueLevel[] }> {
  const { store } = options;
  const ids = firstDue.map((work) => work.accessLevelId);
  try {
    const { timetables, desired } = await store.desiredAccessLevelsAndTimetables(building.buildingId, ids);
    return { timetables, firstBatch: firstDue.map((work) => ({ work, desired: desired.get(work.accessLevelId)! })) };
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    options.log?.(
      `building ${building.buildingId}: reading what the batch desires failed (${errorText(error)}); one at a time`,
    );
    return {
      timetables: await store.timetables(building.buildingId),
      firstBatch: await oneByOne(building.buildingId, firstDue, options),
    };
  }
}

/** The building's next due batch with what it desires; one access level at a time when the batch cannot be read. */
/** The building's next due batch (a round of the CPU budget). */
async function nextBatch(buildingId: string, options: SyncOptions, cpu: CpuBudget): Promise<DueLevel[]> {
  const { store, batchSize = BATCH_SIZE } = options;
  cpu.round();
  try {
    return await store.dueWork(buildingId, batchSize);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    options.log?.(`building ${buildingId}: reading the due batch failed (${errorText(error)}); one at a time`);
    return oneByOne(buildingId, await store.dueAccessLevelWork(buildingId, batchSize), options);
  }
}

async function oneByOne(
  buildingId: string,
  due: readonly AccessLevelWork[],
  options: SyncOptions,
): Promise<DueLevel[]> {
  const levels: DueLevel[] = [];
  for (const work of due) {
    try {
      const desired = await options.store.desiredAccessLevels(buildingId, [work.accessLevelId]);
      levels.push({ work, desired: desired.get(work.accessLevelId)! });
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      levels.push({ work, error });
    }
  }
  return levels;
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
  if (building.writes === 'shadow') {
    return planAccessLevel(building, work, desired, timetables, client, lease, options, current);
  }
  try {
    const { result, written, failures, alerts } = await reconcileAccessLevel(building, accessLevelId, desired, {
      client,
      store,
      timetables,
      current: current && (await current),
      calendars: options.calendars ?? workerCalendars,
    });
    // SALTO holds it now, recorded or not: the rest of the pass never recycles the slots it uses.
    timetables.recordWritten(
      accessLevelId,
      written.map((w) => w.timetableId),
    );
    const leased = await store.recordReconciled(buildingId, work, written, failures, alerts, lease);
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
    return accessLevelFailed(building, work, error, lease, options);
  }
}

/**
 * Shadow mode: the access level is reconciled exactly as a live pass would, through a client that
 * sends no write (shadow.ts) and a store that saves no timetable slot; the writes it would send are
 * recorded (traffic log, sent = false) and the work waits for a change or the switch to live. What
 * SALTO holds is untouched, and nothing is recorded as written.
 */
async function planAccessLevel(
  building: SaltoBuilding,
  work: AccessLevelWork,
  desired: DesiredAccessLevel,
  timetables: BuildingTimetables,
  client: SaltoClient,
  lease: BuildingLease,
  options: SyncOptions,
  current?: Promise<readonly ZonePermission[]>,
): Promise<{ outcome: Outcome; leased: boolean }> {
  const { store } = options;
  const planned: PlannedWrite[] = [];
  try {
    const { result } = await reconcileAccessLevel(building, work.accessLevelId, desired, {
      client: shadowClient(client, planned),
      store: {
        saveTimetableSlot: async () => {},
        recordPermanentPermissions: (...args) => store.recordPermanentPermissions(...args),
      },
      timetables,
      current: current && (await current),
      calendars: options.calendars ?? workerCalendars,
    });
    const leased = await store.recordPlanned(building.buildingId, work, planned, lease);
    return { outcome: result.written ? 'writes' : 'unchanged', leased };
  } catch (error) {
    if (isSaltoError(error) && error.kind === 'transient') {
      const retryAt = new Date(Date.now() + nextAttemptDelayMs(work.attempts));
      await store.recordRetry(building.buildingId, work, retryAt, error.message);
      return { outcome: 'retries', leased: true };
    }
    return accessLevelFailed(building, work, error, lease, options);
  }
}

/**
 * Anything else that went wrong with one access level (what its bookings hold, a value or a reply the
 * engine cannot use, the recording of its outcome) is that access level's: it is tried again after
 * the backoff, with the reason recorded, and the building's other access levels go on. An error that
 * says the database is unavailable, or one recording this fails with, concerns the building: it ends
 * the building's pass.
 */
async function accessLevelFailed(
  building: SaltoBuilding,
  work: AccessLevelWork,
  error: unknown,
  lease: BuildingLease,
  options: SyncOptions,
): Promise<{ outcome: Outcome; leased: boolean }> {
  if (isDatabaseUnavailable(error)) throw error;
  const { buildingId } = building;
  const retryAt = new Date(Date.now() + nextAttemptDelayMs(work.attempts));
  const message = errorText(error);
  options.log?.(
    `building ${buildingId}, access level ${work.accessLevelId}: ${message}; tried again at ${retryAt.toISOString()}`,
  );
  const leased = await options.store.recordAccessLevelError(buildingId, work, retryAt, message, lease);
  return { outcome: 'failures', leased };
}

/** An error as one line for logs and last_error (bounded: it may quote a whole reply). */
export function errorText(error: unknown): string {
  const text =
    error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 500);
}

/**
 * SQLSTATEs that concern the database as a whole, not one statement: connection exceptions,
 * insufficient resources, a shutdown or restart (57P, not a statement cancelled: 57014), system errors.
 */
const DATABASE_UNAVAILABLE_SQLSTATE = /^(08|53|57P|58)/;
/** The database client's own codes for a connection that is gone (postgres.js), and the socket's. */
const DATABASE_UNAVAILABLE_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);

/** True when an error says the database cannot be used at all (rather than refusing one statement). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    DATABASE_UNAVAILABLE_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && DATABASE_UNAVAILABLE_SQLSTATE.test(code))
  );
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
      reason: `SALTO has no user access level with the EXT ID "${accessLevelId}". Check the apartment's Access Control ID in Building > Apartments (Studio: table public.apartments, column access_control_id): it must match the User Access Level EXT ID in SALTO ProAccess SPACE exactly, case included.`,
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
  /** Records timetable slots as they are written, and permanent permissions met on facilities' zones. */
  store: Pick<SyncStore, 'saveTimetableSlot' | 'recordPermanentPermissions'>;
  /** The building's slots, kept current here as slots are written (the caller records the permissions). */
  timetables: BuildingTimetables;
  /** The access level's zone permissions as just read from SALTO (say, by listAccessLevels); read here when absent. */
  current?: readonly ZonePermission[];
  /** The Zone IDs SALTO lists: a permission for another zone fails up front instead of failing the write. */
  knownZoneIds?: ReadonlySet<string>;
  /**
   * The building's calendars as read within their bound (the sync's passes); without it they are read
   * once per client (the nightly cleanup's run).
   */
  calendars?: SiteCalendars;
}

export interface AccessLevelReconciliation {
  /** What SALTO held before, which managed zones were added, updated or removed, and whether a write was sent. */
  result: SetZonePermissionsResult;
  /**
   * The permissions the bookings ask for (including those that failed for their zone or timetable;
   * not the windows SALTO cannot express, which are among the failures).
   */
  desired: DesiredPermission[];
  /** What SALTO now holds for the zones written. */
  written: WrittenPermission[];
  failures: ZoneFailure[];
  alerts: AlertInput[];
  /** The access level's permissions this project did not write, kept as read (ownedZones). */
  notOurs: readonly ZonePermission[];
}

/**
 * Brings one access level in line with the bookings: what they desire of it (zone windows and managed
 * zones, read by the caller for many access levels at once), timetable slots, one read (unless
 * `current` is given) and at most one write to SALTO, keeping every zone permission this project did
 * not write (bookings that need such a zone fail). Records nothing but timetable slots and permanent
 * permissions met on facilities' zones: the caller records the outcome (the sync with its
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
  // The site's holidays and special days (read once per client, or kept within their bound by the
  // sync) while the access level is read.
  const [specialDates, current] = await Promise.all([
    options.calendars
      ? options.calendars.specialDates(building, client, desiredLevel.windows)
      : specialDatesFor(client, desiredLevel.windows),
    options.current ?? client.readAccessLevel(accessLevelId).then((level) => level.zonePermissions),
  ]);
  const { desired, unwritable } = desiredPermissions(desiredLevel.windows, building.timeZone, specialDates);
  // Only permissions this project wrote are changed or removed (ownedZones): a zone SALTO holds with a
  // permission it did not write is written back as read, and the bookings that need it fail.
  const owned = ownedZones(current, desired, desiredLevel.managed, options.timetables.writtenSlots());
  const managed = owned.ours;
  const { slotOf, failures, alerts } = await assignTimetables(building, accessLevelId, owned.writable, options);
  if (owned.held.length > 0) {
    const notOurs = owned.notOurs.map((p) => p.zoneId);
    const holders = await options.store.recordPermanentPermissions(buildingId, accessLevelId, notOurs);
    for (const p of owned.held) {
      const { failure, alert } = heldZoneFailure(buildingId, accessLevelId, p, holders.get(p.zoneId) ?? 1);
      failures.push(failure);
      alerts.push(alert);
    }
  }
  for (const refused of unwritable) {
    const { failure, alert } = unwritableWindow(buildingId, refused);
    failures.push(failure);
    alerts.push(alert);
  }

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
    result = await writeZonePermissions(client, accessLevelId, current, permissions, managed);
  } catch (error) {
    // Code 11 on the write: a Zone ID SALTO does not know. Find which, fail only its bookings, and
    // write the others.
    if (!(isSaltoError(error) && error.code === ShipCode.elementNotFound && error.requestName?.includes('Update')))
      throw error;
    const known = new Set((await client.listZones()).map((z) => z.id));
    if (writable.every((p) => known.has(p.zoneId))) throw error;
    failUnknownZones(known);
    permissions = writable.map((p) => zonePermission(p, slotOf.get(p.timetableKey) ?? 0));
    // The refused write changed nothing: what was read still holds (the building's lease is ours).
    result = await writeZonePermissions(client, accessLevelId, current, permissions, managed);
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
  return { result, desired, written, failures, alerts, notOurs: owned.notOurs };
}

/**
 * A window SALTO cannot express (no end, past the dates SALTO holds, no length): its bookings fail
 * with the reason, and managers are alerted as for any booking whose access is not in place. The
 * zone is left out of the write, so a permission written for it before is removed.
 */
function unwritableWindow(buildingId: string, refused: UnwritableWindow): { failure: ZoneFailure; alert: AlertInput } {
  const { window, reason } = refused;
  return {
    failure: { zoneIds: [window.zoneId], bookingIds: window.bookingIds, reason },
    alert: {
      kind: 'access_not_in_place',
      dedupeKey: `unwritable_window:${buildingId}:${window.bookingIds[0]}`,
      bookingId: window.bookingIds[0],
      details: {
        reason: 'window_not_writable',
        zone_id: window.zoneId,
        facility_id: window.facilityId,
        booking_ids: window.bookingIds,
        why: reason,
      },
    },
  };
}

function unknownZone(buildingId: string, p: DesiredPermission): { failure: ZoneFailure; alert: AlertInput } {
  return {
    failure: {
      zoneIds: [p.zoneId],
      bookingIds: p.bookingIds,
      reason: `SALTO has no zone with the Zone ID "${p.zoneId}". Check the facility's Access Control Facility ID in Settings > Facilities (Studio: table public.facilities, column access_control_facility_id): it must match the zone's ID in SALTO ProAccess SPACE exactly, case included.`,
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

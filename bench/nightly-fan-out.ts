// Benchmark 9: the nightly cleanup of 1,000 buildings x 100 finished permissions whose local midnight
// is the same instant, fanned out by the database (integration.wake_cleanup -> dispatch_cleanups ->
// one salto-cleanup call per building, each finished run calling the next), against the hosted
// limits of one invocation (150 s wall clock; about 1 s of CPU before the worker is retired, 2 s
// before it is killed) and the connections a small compute allows (about 60).
import type { Sql } from 'postgres';
import { callFunction } from '../local/functions-client.ts';
import { CLEANUP_ACCESS_LEVELS, type CleanupSummary } from '../src/shared/cleanup/engine.ts';
import { assertCleanInSalto, lastNightInSalto, loadLastNight, localDate } from './nightly-cleanup.ts';
import {
  type BenchBuilding,
  type BenchResult,
  cpuSnapshot,
  cpuUsedBetween,
  createBuildings,
  dropBuildings,
  percentile,
  sleep,
  stackEnv,
  untilCleanupRunsComplete,
} from './support.ts';

const BUILDINGS = 1_000;
const APARTMENTS = 100; // one finished permission each: 100,000 in all
/** Buildings cleaned one at a time before the night, each by one invocation alone in the function's workers: its CPU. */
const PROBES = 6;
const LATENCY = 20;
const TIME_ZONE = 'Australia/Sydney';
/** integration.dispatch_cleanups' default: runs under way at once. */
const IN_FLIGHT = 12;
const WALL_LIMIT_S = 150;
const CPU_SOFT_LIMIT_S = 1;
const GOAL_MINUTES = 15;

interface RuntimeWorker {
  id: number;
  functionName: string;
  cpuMs: number;
  requests: number;
  endedBy: string | null;
}

/**
 * The local edge runtime's salto-cleanup workers, live and ended (GET /_runtime/workers): each serves
 * calls until a CPU or wall-clock limit retires it, and counts its CPU time (its main thread's) from
 * when it listens, as the edge runtime does.
 */
async function cleanupWorkers(): Promise<RuntimeWorker[]> {
  const response = await fetch(`${new URL(stackEnv().FUNCTIONS_URL).origin}/_runtime/workers`);
  const { workers } = (await response.json()) as { workers: RuntimeWorker[] };
  return workers.filter((w) => w.functionName === 'salto-cleanup');
}

/**
 * Samples the salto-cleanup workers every 20 ms while `work` runs: the CPU of each call, as the
 * workers' CPU between two requests' arrivals (calls that follow one another, as a building's slices do).
 */
async function cpuPerCall(work: () => Promise<void>): Promise<number[]> {
  const seen = new Map((await cleanupWorkers()).map((w) => [w.id, { cpuMs: w.cpuMs, requests: w.requests }]));
  const perCall: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const w of await cleanupWorkers()) {
        const last = seen.get(w.id) ?? { cpuMs: 0, requests: 0 };
        if (w.requests > last.requests) perCall.push(w.cpuMs - last.cpuMs);
        else if (perCall.length > 0 && w.cpuMs > last.cpuMs) perCall[perCall.length - 1]! += w.cpuMs - last.cpuMs;
        seen.set(w.id, { cpuMs: w.cpuMs, requests: w.requests });
      }
      await sleep(20);
    }
  })();
  try {
    await work();
    await sleep(500);
  } finally {
    sampling = false;
    await sampler;
  }
  return perCall.map((ms) => ms / 1000);
}

/** CPU seconds the salto-cleanup workers have used so far. */
async function cleanupFunctionCpu(): Promise<number> {
  return (await cleanupWorkers()).reduce((sum, w) => sum + w.cpuMs, 0) / 1000;
}

export async function nightlyFanOut(sql: Sql): Promise<BenchResult> {
  const yesterday = localDate(-1);
  const slot = 200;
  const setUpStarted = performance.now();
  const buildings: BenchBuilding[] = [];
  try {
    // In slices, so a failure half-way still drops what was made.
    for (let made = 0; made < BUILDINGS + PROBES; made += 50) {
      const slice = await createBuildings(sql, Math.min(50, BUILDINGS + PROBES - made), APARTMENTS, 1, {
        transport: 'stp',
        timeZone: TIME_ZONE,
        ...lastNightInSalto(yesterday, slot),
      });
      buildings.push(...slice);
      for (const building of slice) {
        // Not due yet: created now. Midnight comes for all of them at once below.
        await loadLastNight(sql, building, { yesterday, slot, timeZone: TIME_ZONE, due: false });
        await building.simulator.setFaults({ latencyMs: LATENCY });
      }
    }
    await sql`analyze public.bookings, integration.booking_access, integration.written_permissions, integration.timetable_slots`;
    const setUpSeconds = (performance.now() - setUpStarted) / 1000;
    const probes = buildings.slice(0, PROBES);
    const night = buildings.slice(PROBES);
    const nightIds = night.map((b) => b.id);

    // The CPU of each invocation cleaning one building, alone in the function's workers: an operator's
    // call cleans its first slice (CLEANUP_ACCESS_LEVELS), the database dispatches the next ones.
    const probeCpu: number[] = [];
    const probeWall: number[] = [];
    const probeCalls: number[] = [];
    for (const probe of probes) {
      await sql`update public.buildings set created_at = now() - interval '2 days' where id = ${probe.id}`;
      const started = performance.now();
      let summary: CleanupSummary | undefined;
      const calls = await cpuPerCall(async () => {
        summary = (await callFunction(stackEnv(), 'salto-cleanup', {
          query: 'wait=true',
          body: { reason: 'benchmark', building_ids: [probe.id] },
        })) as CleanupSummary;
        for (let waited = 0; waited < 120_000; waited += 100) {
          const [row] = await sql<{ status: string }[]>`
            select status from integration.cleanup_runs where building_id = ${probe.id}`;
          if (row && row.status !== 'running') break;
          await sleep(100);
        }
      });
      const wall = (performance.now() - started) / 1000;
      const [run] = await sql<{ status: string }[]>`
        select status from integration.cleanup_runs where building_id = ${probe.id}`;
      // A dispatch (the five-minute job) may have taken it first: then it is no sample.
      if (summary?.runs.length !== 1 || run?.status !== 'completed') continue;
      probeCpu.push(Math.max(...calls));
      probeCalls.push(calls.length);
      probeWall.push(wall);
    }
    if (probeCpu.length === 0) throw new Error('no probe building was cleaned by its own call');

    // Midnight: every building's cleanup becomes due at once, and the five-minute job runs.
    const peak = { total: 0, cleanup: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await sql<{ total: number; cleanup: number }[]>`
          select count(*) filter (where backend_type = 'client backend')::int as total,
            count(*) filter (where application_name = 'salto-cleanup')::int as cleanup
          from pg_stat_activity`;
        peak.total = Math.max(peak.total, row!.total);
        peak.cleanup = Math.max(peak.cleanup, row!.cleanup);
        await sleep(100);
      }
    })();
    const cpuBefore = cpuSnapshot();
    const functionCpuBefore = await cleanupFunctionCpu();
    const workersBefore = (await cleanupWorkers()).length;
    await sql.begin(async (tx) => {
      // The row checks of public.buildings validate the time zone of every updated row (about 0.2 s
      // each here): not part of the night, so not run for this set-up update.
      await tx`alter table public.buildings disable trigger check_row`;
      await tx`update public.buildings set created_at = now() - interval '2 days' where id = any (${nightIds}::uuid[])`;
      await tx`alter table public.buildings enable trigger check_row`;
    });
    // Midnight: from here every building is due; the five-minute job's call comes at once.
    const [{ midnight }] = await sql<{ midnight: Date }[]>`select clock_timestamp() as midnight`;
    await sql`select integration.wake_cleanup()`;
    await untilCleanupRunsComplete(sql, nightIds, { pollMs: 500, timeoutMs: 25 * 60_000 });
    sampling = false;
    await sampler;
    const functionCpu = (await cleanupFunctionCpu()) - functionCpuBefore;
    const nightWorkers = (await cleanupWorkers()).slice(workersBefore);
    const endedBy = new Map<string, number>();
    for (const w of nightWorkers)
      endedBy.set(w.endedBy ?? 'still serving', (endedBy.get(w.endedBy ?? 'still serving') ?? 0) + 1);
    const cpu = cpuUsedBetween(cpuBefore, cpuSnapshot());

    const runs = await sql<{ seconds: number; attempts: number; cleared: number; finished_s: number }[]>`
      select extract(epoch from finished_at - last_attempt_at)::float8 as seconds, attempts, cleared,
        extract(epoch from finished_at - ${midnight}::timestamptz)::float8 as finished_s
      from integration.cleanup_runs where building_id = any (${nightIds}::uuid[])`;
    const [left] = await sql<{ n: number }[]>`
      select count(*)::int as n from integration.written_permissions where building_id = any (${nightIds}::uuid[])`;
    if (left!.n !== 0) throw new Error(`${left!.n} finished permissions still recorded after the cleanup`);
    assertCleanInSalto(night, yesterday);
    const lastReport = Math.max(...runs.map((r) => r.finished_s));
    const walls = runs.map((r) => r.seconds);
    const maxWall = Math.max(...walls);
    const maxProbeCpu = Math.max(...probeCpu);
    const retried = runs.filter((r) => r.attempts > 1).length;
    const cleared = runs.reduce((n, r) => n + r.cleared, 0);
    const met =
      lastReport <= GOAL_MINUTES * 60 &&
      maxWall < WALL_LIMIT_S &&
      maxProbeCpu < CPU_SOFT_LIMIT_S &&
      peak.cleanup <= 2 * IN_FLIGHT;
    return {
      name: '9. Nightly cleanup fanned out',
      figure:
        `last of ${night.length.toLocaleString('en')} reports ${(lastReport / 60).toFixed(1)} min after midnight; ` +
        `largest invocation ${maxWall.toFixed(1)} s wall, ${maxProbeCpu.toFixed(2)} s CPU; ` +
        `${peak.cleanup} cleanup connections at peak (${peak.total} in all)`,
      goal:
        `every report within ${GOAL_MINUTES} min; each invocation under ${WALL_LIMIT_S} s wall and ${CPU_SOFT_LIMIT_S} s CPU; ` +
        `at most 2 connections per invocation under way (${2 * IN_FLIGHT})`,
      met,
      method:
        `${night.length.toLocaleString('en')} buildings x ${APARTMENTS} access levels, each holding yesterday's 10:00-11:00 booking ` +
        `(${(night.length * APARTMENTS).toLocaleString('en')} finished permissions), every building in ${TIME_ZONE}, so one local midnight ` +
        `for all; each building its own in-process SALTO simulator over STP adding ${LATENCY} ms per call. Midnight: one ` +
        `transaction makes every building due, then the five-minute job's integration.wake_cleanup() runs: the database ` +
        `calls salto-cleanup once per building, at most ${IN_FLIGHT} runs under way, and each finished run calls the next. ` +
        `Time to the last report: the latest finished_at of the night's runs after that transaction's commit. Wall time of an invocation: ` +
        `from its dispatch (the run's lease by the database, before pg_net sends the call) to its report, for every run. CPU of an ` +
        `invocation: ${probeCpu.length} further buildings of the same shape cleaned one at a time before midnight, each by an operator's ` +
        `call and the slices the database dispatches after it (at most ${CLEANUP_ACCESS_LEVELS} access levels a call), alone in the local ` +
        `edge runtime's salto-cleanup workers (a worker serves overlapping calls, so CPU cannot be told apart while calls overlap), the ` +
        `workers' CPU time between the calls' arrivals, sampled every 20 ms (GET /_runtime/workers); the night's own CPU in them is given per building ` +
        `too. Connections: pg_stat_activity sampled every 100 ms, the salto-cleanup function's (application_name) and all client ` +
        `backends (the benchmark's own included). Locally a worker serves overlapping calls, sharing its 2 connections; hosted, ` +
        `each invocation under way may be its own instance: at most 2 x ${IN_FLIGHT}.`,
      details: [
        `${cleared.toLocaleString('en')} of ${(night.length * APARTMENTS).toLocaleString('en')} finished permissions reported cleared; SALTO (the simulators) holds none of them; ${retried} runs needed more than one attempt`,
        `invocation wall time (dispatch to report): median ${percentile(walls, 50).toFixed(1)} s, p99 ${percentile(walls, 99).toFixed(1)} s, largest ${maxWall.toFixed(1)} s (limit ${WALL_LIMIT_S} s)`,
        `invocation CPU, one building alone (its largest call of ${probeCalls.join(', ')} calls): ${probeCpu.map((c) => c.toFixed(2)).join(', ')} s (largest ${maxProbeCpu.toFixed(2)} s; retired after about ${CPU_SOFT_LIMIT_S} s, killed at 2 s), wall of the building ${probeWall.map((w) => w.toFixed(1)).join(', ')} s`,
        `the night's CPU in the salto-cleanup workers: ${functionCpu.toFixed(1)} s, ${((functionCpu / night.length) * 1000).toFixed(0)} ms per building`,
        `the night's salto-cleanup workers (each serves overlapping calls until a limit retires it): ${nightWorkers.length}, ended by ${[...endedBy].map(([why, n]) => `${why} ${n}`).join(', ')}`,
        `CPU used meanwhile by the stack: ${cpu}`,
        `set-up (not measured): ${Math.round(setUpSeconds)} s`,
      ],
    };
  } finally {
    await dropBuildings(sql, buildings);
  }
}

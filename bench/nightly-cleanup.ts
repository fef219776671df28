// Benchmark 5: the nightly cleanup of 10,000 finished permissions over 50 buildings, SALTO taking 20 ms
// per call, by the salto-cleanup function of the local stack (Deno), fanned out by the database as at
// night.
import { readFileSync } from 'node:fs';
import type { Sql } from 'postgres';
import { callFunction } from '../local/functions-client.ts';
import type { CleanupSummary } from '../src/shared/cleanup/engine.ts';
import {
  type BenchBuilding,
  type BenchResult,
  cpuSnapshot,
  cpuUsedBetween,
  createBuildings,
  dropBuildings,
  percentile,
  ratio,
  sleep,
  stackEnv,
  untilCleanupRunsComplete,
} from './support.ts';

const BUILDINGS = 50;
const APARTMENTS = 200; // one finished permission each: 10,000 in all
const LATENCY = 20;
const TIME_ZONE = 'Australia/Sydney';

/**
 * Last night's state of one building, as the sync left it: every apartment booked the facility
 * yesterday 10:00-11:00, active, written to SALTO and recorded, in the timetable slot `slot`. `due`:
 * the building existed before last midnight (its cleanup is due now); otherwise it was created now
 * and is made due later (`update public.buildings set created_at = ...`).
 */
export async function loadLastNight(
  sql: Sql,
  building: BenchBuilding,
  { yesterday, slot, timeZone, due }: { yesterday: string; slot: number; timeZone: string; due: boolean },
) {
  await sql.begin(async (tx) => {
    // Yesterday's bookings, loaded in bulk with the per-row sync triggers off inside this transaction.
    await tx`alter table public.bookings disable trigger sync_salto_access`;
    await tx`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      select f.id, a.id, (${yesterday}::date + time '10:00') at time zone ${timeZone}, (${yesterday}::date + time '11:00') at time zone ${timeZone}
      from public.apartments as a join public.facilities as f on f.building_id = a.building_id
      where a.building_id = ${building.id}`;
    await tx`alter table public.bookings enable trigger sync_salto_access`;
    await tx`
      insert into integration.booking_access (booking_id, building_id, apartment_id, facility_id, state, access_level_id, zone_id, window_start, window_end, period_start, period_end, timetable_id, exact, written_at)
      select b.id, b.building_id, b.apartment_id, b.facility_id, 'active', a.access_control_id, f.access_control_facility_id, b.starts_at, b.ends_at,
        ${yesterday}::date, ${yesterday}::date, ${slot}, true, now() - interval '1 day'
      from public.bookings as b join public.apartments as a on a.id = b.apartment_id join public.facilities as f on f.id = b.facility_id
      where b.building_id = ${building.id}`;
    await tx`
      insert into integration.written_permissions (building_id, access_level_id, zone_id, timetable_id, period_start, period_end, booking_ids, written_at)
      select ba.building_id, ba.access_level_id, ba.zone_id, ${slot}, ${yesterday}::date, ${yesterday}::date, array[ba.booking_id], now() - interval '1 day'
      from integration.booking_access as ba where ba.building_id = ${building.id}`;
    await tx`
      insert into integration.timetable_slots (building_id, timetable_id, content_key, intervals, written_at)
      values (${building.id}, ${slot}, 'bench 10:00-11:00', '[]'::jsonb, now() - interval '1 day')`;
    if (due) await tx`update public.buildings set created_at = now() - interval '2 days' where id = ${building.id}`;
  });
}

/** SALTO's side of last night: each access level holds yesterday's booking in timetable `slot`. */
export function lastNightInSalto(yesterday: string, slot: number) {
  return {
    extraPermissions: (zoneIds: string[]) => [
      {
        zoneId: zoneIds[0]!,
        timetableId: slot,
        usePeriod: true,
        period: { startDate: `${yesterday}T00:00:00`, endDate: `${yesterday}T23:59:59` },
      },
    ],
    timetables: [
      {
        id: slot,
        name: 'connecX bench',
        intervals: [
          {
            start: '10:00:00',
            end: '11:00:00',
            days: {
              monday: true,
              tuesday: true,
              wednesday: true,
              thursday: true,
              friday: true,
              saturday: true,
              sunday: true,
              holiday: false,
              special1: false,
              special2: false,
            },
          },
        ],
      },
    ],
  };
}

/**
 * SALTO's side after the night, read from the buildings' simulators (their live state, not the
 * database's record of what was written): permissions on a facility's zone whose period ended by
 * `yesterday` (finished, the cleanup's to remove), and access levels that lost their permanent zone
 * (not written by this project, never to be touched).
 */
export function leftInSalto(buildings: BenchBuilding[], yesterday: string) {
  let finished = 0;
  let permanentLost = 0;
  for (const building of buildings) {
    const facilityZones = new Set(building.facilities.map((f) => f.zoneId));
    for (const level of building.simulator.site.accessLevels.values()) {
      for (const p of level.permissions) {
        if (facilityZones.has(p.zoneId) && p.usePeriod && (p.endDate ?? '').slice(0, 10) <= yesterday) finished++;
      }
      for (const zoneId of building.permanentZones) {
        if (!level.permissions.some((p) => p.zoneId === zoneId && p.timetableId === 0 && !p.usePeriod)) permanentLost++;
      }
    }
  }
  return { finished, permanentLost };
}

/** Throws unless SALTO itself holds no finished permission of these buildings and kept every permanent one. */
export function assertCleanInSalto(buildings: BenchBuilding[], yesterday: string) {
  const { finished, permanentLost } = leftInSalto(buildings, yesterday);
  if (finished !== 0)
    throw new Error(`${finished} finished permissions still in SALTO (the simulators) after the cleanup`);
  if (permanentLost !== 0) throw new Error(`${permanentLost} access levels lost their permanent zone in SALTO`);
}

export function localDate(offsetDays: number) {
  const today = new Intl.DateTimeFormat('sv-SE', {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
  return new Date(Date.parse(`${today}T00:00:00Z`) + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** How the salto-cleanup of a round is reached: fanned out by the database, or one operator's call. */
interface CleanupCaller {
  label: string;
  /** Buildings cleaned at once at most (the database's fan-out keeps a dozen under way). */
  inFlight: number;
  call: (buildingIds: string[]) => Promise<CleanupSummary>;
}

/**
 * The night's way (decision 0035): the five-minute job's integration.wake_cleanup() makes the database
 * call salto-cleanup once per due building, at most a dozen under way, each call cleaning a slice of
 * its building's access levels and the database calling again for the rest. The call resolves when
 * every named building's run is completed (or throws when none completes for two minutes), with the
 * runs' reports read from integration.cleanup_runs.
 */
function fannedOutCaller(sql: Sql): CleanupCaller {
  return {
    label: 'fanned out by the database to the local edge runtime, 2 connections per instance',
    // integration.dispatch_cleanups' default (decision 0024).
    inFlight: 12,
    call: async (buildingIds) => {
      await sql`select integration.wake_cleanup()`;
      await untilCleanupRunsComplete(sql, buildingIds, { pollMs: 100, stallMs: 120_000 });
      const runs = await sql<{ id: string; building_id: string; status: string; cleared: number; repaired: number }[]>`
        select id, building_id, status, cleared, repaired from integration.cleanup_runs
        where building_id = any (${buildingIds}::uuid[])`;
      return {
        runs: runs.map((r) => ({
          runId: r.id,
          buildingId: r.building_id,
          status: r.status,
          counts: { cleared: r.cleared, repaired: r.repaired },
        })),
      } as unknown as CleanupSummary;
    },
  };
}

const stackCaller: CleanupCaller = {
  label: 'one operator call naming every building, the local edge runtime, 2 connections',
  inFlight: Number.POSITIVE_INFINITY,
  call: (buildingIds) =>
    callFunction(stackEnv(), 'salto-cleanup', {
      query: 'wait=true',
      body: { reason: 'benchmark', building_ids: buildingIds },
    }) as Promise<CleanupSummary>,
};

interface Round {
  label: string;
  load: string;
  elapsed: number;
  bound: number;
  busiest: number;
  totalCalls: number;
  cleared: number;
  cpu: string;
  /** Means over the buildings, ms after the call: first SALTO request, listing answered, first write. */
  firstRequest: number;
  listed: number;
  firstWrite: number;
  writeGap: number;
  answer: number;
  turn: number;
  /** Share of 50 ms samples with n of the cleanup's connections running a query. */
  busyConnections: string;
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function cleanupRound(sql: Sql, caller: CleanupCaller): Promise<Round> {
  const yesterday = localDate(-1);
  const slot = 200;
  // Last night's state, as the sync left it: every access level holds yesterday's gym booking (10:00-11:00).
  const buildings = await createBuildings(sql, BUILDINGS, APARTMENTS, 1, {
    // The lighter of SHIP's two transports: the 50 simulated SALTO servers share the machine's two
    // cores with everything measured (over HTTP they took more CPU than the cleanup itself).
    transport: 'stp',
    timeZone: TIME_ZONE,
    ...lastNightInSalto(yesterday, slot),
  });
  try {
    for (const building of buildings) {
      // Not due yet: made due together just before the call (benchmark 9 measures the night's fan-out).
      await loadLastNight(sql, building, { yesterday, slot, timeZone: TIME_ZONE, due: false });
      await building.simulator.setFaults({ latencyMs: LATENCY });
    }
    // Last night's state is hours old at midnight: analyzed, as autovacuum would have.
    await sql`analyze public.bookings, integration.booking_access, integration.written_permissions, integration.timetable_slots`;

    // Created before last midnight: tonight's cleanup is due. Not at a five-minute boundary, when the
    // job would dispatch these buildings one per call before this call leases them.
    while (Date.now() % 300_000 > 297_000 || Date.now() % 300_000 < 3_000) await sleep(500);
    await sql`update public.buildings set created_at = now() - interval '2 days' where id = any (${buildings.map((b) => b.id)}::uuid[])`;
    const load = loadAverage();
    const busy = new Map<number, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where application_name = 'salto-cleanup' and state <> 'idle'`;
        busy.set(row!.n, (busy.get(row!.n) ?? 0) + 1);
        await sleep(50);
      }
    })();
    const cpuBefore = cpuSnapshot();
    const started = performance.now();
    let summary: CleanupSummary;
    try {
      summary = await caller.call(buildings.map((b) => b.id));
    } finally {
      sampling = false;
      await sampler;
    }
    const elapsed = performance.now() - started;
    const cpu = cpuUsedBetween(cpuBefore, cpuSnapshot());

    const failed = summary.runs.filter((r) => r.status !== 'completed');
    if (summary.runs.length !== BUILDINGS || failed.length > 0) {
      throw new Error(
        `${summary.runs.length} runs, ${failed.length} not completed: ${failed
          .map((r) => r.error)
          .slice(0, 3)
          .join('; ')}`,
      );
    }
    const cleared = summary.runs.reduce((n, r) => n + r.counts.cleared + r.counts.repaired, 0);
    const [left] = await sql<
      { n: number }[]
    >`select count(*)::int as n from integration.written_permissions where building_id = any (${buildings.map((b) => b.id)}::uuid[])`;
    if (left!.n !== 0) throw new Error(`${left!.n} finished permissions still recorded after the cleanup`);
    assertCleanInSalto(buildings, yesterday);
    // Where the time went, from the simulators' request logs: until each building's first SALTO
    // request (leasing the building, reading it, connecting to SALTO), until its listing is answered
    // (zones and access levels, while the database folds), until its first write (the database reads
    // of the building's access levels, written permissions, work and timetables); then between writes.
    // Each gap between two writes: SALTO's answer (the added latency and the simulator's own work on
    // the shared cores), then the function's turn until the next write arrives.
    const origin = performance.timeOrigin + started;
    const timings = buildings.map((b) => {
      // This call's requests only (the building's SALTO ID check, when it was created, came before).
      const all = b.simulator.requests().filter((r) => r.receivedAtMs >= origin);
      const writes = all.filter((r) => r.requestName === 'SaltoDBGroup.Update');
      const beforeWrites = writes.length ? all.filter((r) => r.receivedAtMs < writes[0]!.receivedAtMs) : all;
      return {
        firstRequest: all.length ? all[0]!.receivedAtMs - origin : NaN,
        listed: beforeWrites.length ? Math.max(...beforeWrites.map((r) => r.atMs)) - origin : NaN,
        firstWrite: writes.length ? writes[0]!.receivedAtMs - origin : NaN,
        gaps: writes.slice(1).map((w, i) => w.receivedAtMs - writes[i]!.receivedAtMs),
        answers: writes.map((w) => w.atMs - w.receivedAtMs),
        turns: writes.slice(1).map((w, i) => w.receivedAtMs - writes[i]!.atMs),
      };
    });
    const perBuilding = buildings.map((b) => b.simulator.requests().length);
    const totalCalls = perBuilding.reduce((a, b) => a + b, 0);
    const busiest = Math.max(...perBuilding);
    const samples = [...busy.values()].reduce((a, b) => a + b, 0);
    return {
      label: caller.label,
      load,
      elapsed,
      // The busiest building's calls one at a time, or every call spread over the buildings under way.
      bound: Math.max(busiest, totalCalls / Math.min(caller.inFlight, buildings.length)) * LATENCY,
      busiest,
      totalCalls,
      cleared,
      cpu,
      firstRequest: mean(timings.map((t) => t.firstRequest)),
      listed: mean(timings.map((t) => t.listed)),
      firstWrite: mean(timings.map((t) => t.firstWrite)),
      writeGap: percentile(
        timings.flatMap((t) => t.gaps),
        50,
      ),
      answer: percentile(
        timings.flatMap((t) => t.answers),
        50,
      ),
      turn: percentile(
        timings.flatMap((t) => t.turns),
        50,
      ),
      busyConnections: [...busy]
        .sort((a, b) => a[0] - b[0])
        .map(([n, count]) => `${n}: ${Math.round((100 * count) / samples)}%`)
        .join(', '),
    };
  } finally {
    await dropBuildings(sql, buildings);
  }
}

function describe(r: Round) {
  return (
    `${r.label} (load average ${r.load}): ${(r.elapsed / 1000).toFixed(1)} s = ${ratio(r.elapsed / r.bound)} the lower bound (${(r.bound / 1000).toFixed(1)} s); ` +
    `a building's first SALTO request after ${Math.round(r.firstRequest)} ms, its listing answered after ${Math.round(r.listed)} ms, ` +
    `its first write after ${Math.round(r.firstWrite)} ms (means), then a write every ${r.writeGap.toFixed(1)} ms: SALTO answers ${r.answer.toFixed(1)} ms ` +
    `after a write arrives, the next arrives ${r.turn.toFixed(1)} ms after the answer (medians); the cleanup's connections running a query ` +
    `(share of 50 ms samples) ${r.busyConnections}; CPU ${r.cpu}`
  );
}

export async function nightlyCleanup(sql: Sql): Promise<BenchResult> {
  // The night's shape is the figure: one call per building, fanned out by the database.
  const night = await cleanupRound(sql, fannedOutCaller(sql));
  // One operator call naming the 50 buildings: refused since decision 0035 (at most 10 per call), kept
  // as the record of the earlier shape.
  let runtime: string;
  try {
    runtime = describe(await cleanupRound(sql, stackCaller));
  } catch (error) {
    const killed = (await fetch(`${new URL(stackEnv().FUNCTIONS_URL).origin}/_runtime/workers`)
      .then((r) => r.json() as Promise<{ workers: { functionName: string; cpuMs: number; endedBy: string | null }[] }>)
      .then(({ workers }) =>
        workers.filter((w) => w.functionName === 'salto-cleanup' && w.endedBy === 'cpu time').at(-1),
      )
      .catch(() => undefined)) as { cpuMs: number } | undefined;
    runtime =
      `${stackCaller.label}: ${(error as Error).message}` +
      (killed ? ` (the worker was killed at the CPU time hard limit, ${killed.cpuMs} ms)` : '');
  }
  const factor = night.elapsed / night.bound;
  const callsPerLevel = night.totalCalls / (BUILDINGS * APARTMENTS);
  return {
    name: '5. Nightly cleanup',
    figure: `${(night.elapsed / 1000).toFixed(1)} s = ${ratio(factor)} the lower bound (${(night.bound / 1000).toFixed(1)} s), fanned out by the database; ${callsPerLevel.toFixed(2)} calls per affected access level (load average ${night.load})`,
    goal: 'at most 1.50x the lower bound, at most 2 calls per affected access level',
    met: factor <= 1.5 && callsPerLevel <= 2,
    method:
      `${(BUILDINGS * APARTMENTS).toLocaleString('en')} permissions finished yesterday (${BUILDINGS} buildings x ${APARTMENTS} access levels, ` +
      `each holding yesterday's 10:00-11:00 booking in SALTO, in integration.written_permissions and as an active booking), every simulator ` +
      `adding ${LATENCY} ms per call and reached over STP (SHIP over TCP, the lighter of its two transports: the 50 simulators run in the ` +
      "benchmark's process on the same two cores). The buildings are made due together and the five-minute job's integration.wake_cleanup() " +
      'runs: the database calls salto-cleanup once per building, at most a dozen under way, each call cleaning a slice of at most ' +
      'CLEANUP_ACCESS_LEVELS access levels and the database calling again for the rest (decisions 0024, 0035); timed from the wake-up ' +
      `until every run is completed. Lower bound = the busiest building's SALTO calls (${night.busiest}, one at a time under the building ` +
      `lease) x ${LATENCY} ms. ${night.cleared.toLocaleString('en')} permissions cleared, ${night.totalCalls.toLocaleString('en')} SALTO calls. ` +
      "Then, on 50 fresh buildings, one operator call naming all 50 to the stack's salto-cleanup, as measured before decision 0035: " +
      'now refused (at most 10 buildings per call). Earlier runs compared 2 and 4 connections per instance on that one call: see BENCHMARKS.md.',
    details: [describe(night), runtime],
  };
}

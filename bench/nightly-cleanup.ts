// Benchmark 5: the nightly cleanup of 10,000 finished permissions over 50 buildings, SALTO taking 20 ms
// per call, by the salto-cleanup function of the local stack (Deno), as pg_cron would call it.
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

export function localDate(offsetDays: number) {
  const today = new Intl.DateTimeFormat('sv-SE', {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
  return new Date(Date.parse(`${today}T00:00:00Z`) + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

export async function nightlyCleanup(sql: Sql): Promise<BenchResult> {
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
    const cpuBefore = cpuSnapshot();
    const started = performance.now();
    const summary = (await callFunction(stackEnv(), 'salto-cleanup', {
      query: 'wait=true',
      body: { reason: 'benchmark', building_ids: buildings.map((b) => b.id) },
    })) as CleanupSummary;
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
    // Where the time went, from the simulators' request logs: until each building's first write
    // (leasing, folding, listing SALTO, reading what is desired, all buildings at once), then between writes.
    // Each gap between two writes: SALTO's answer (the added latency and the simulator's own work on
    // the shared cores), then the function's turn until the next write arrives.
    const timings = buildings.map((b) => {
      const writes = b.simulator.requests({ requestName: 'SaltoDBGroup.Update' });
      return {
        firstWrite: writes.length ? writes[0]!.receivedAtMs - (performance.timeOrigin + started) : NaN,
        gaps: writes.slice(1).map((w, i) => w.receivedAtMs - writes[i]!.receivedAtMs),
        answers: writes.map((w) => w.atMs - w.receivedAtMs),
        turns: writes.slice(1).map((w, i) => w.receivedAtMs - writes[i]!.atMs),
      };
    });
    const firstWrite = timings.reduce((sum, t) => sum + t.firstWrite, 0) / timings.length;
    const writeGap = percentile(
      timings.flatMap((t) => t.gaps),
      50,
    );
    const answer = percentile(
      timings.flatMap((t) => t.answers),
      50,
    );
    const turn = percentile(
      timings.flatMap((t) => t.turns),
      50,
    );
    const perBuilding = buildings.map((b) => b.simulator.requests().length);
    const totalCalls = perBuilding.reduce((a, b) => a + b, 0);
    const busiest = Math.max(...perBuilding);
    const bound = busiest * LATENCY;
    const factor = elapsed / bound;
    const callsPerLevel = totalCalls / (BUILDINGS * APARTMENTS);
    return {
      name: '5. Nightly cleanup',
      figure: `${(elapsed / 1000).toFixed(1)} s = ${ratio(factor)} the lower bound (${(bound / 1000).toFixed(1)} s); ${callsPerLevel.toFixed(2)} calls per affected access level`,
      goal: 'at most 1.50x the lower bound, at most 2 calls per affected access level',
      met: factor <= 1.5 && callsPerLevel <= 2,
      method:
        `${(BUILDINGS * APARTMENTS).toLocaleString('en')} permissions finished yesterday (${BUILDINGS} buildings x ${APARTMENTS} access levels, ` +
        `each holding yesterday's 10:00-11:00 booking in SALTO, in integration.written_permissions and as an active booking), every simulator ` +
        `adding ${LATENCY} ms per call and reached over STP (SHIP over TCP, the lighter of its two transports: the 50 simulators run in the ` +
        `benchmark's process on the same two cores); the salto-cleanup edge function called for those buildings (?wait=true), timed from the ` +
        `call to its report. ` +
        `Lower bound = the busiest building's SALTO calls (${busiest}, one at a time under the building lease) x ${LATENCY} ms. ` +
        `${cleared.toLocaleString('en')} permissions cleared, ${totalCalls.toLocaleString('en')} SALTO calls.`,
      details: [
        `CPU used meanwhile by the stack: ${cpu}`,
        `first write of a building after ${Math.round(firstWrite)} ms on average, then a write every ${writeGap.toFixed(1)} ms (median; SALTO takes ${LATENCY}): ` +
          `the simulator answers ${answer.toFixed(1)} ms after a write arrives, the next arrives ${turn.toFixed(1)} ms after the answer (medians)`,
      ],
    };
  } finally {
    await dropBuildings(sql, buildings);
  }
}

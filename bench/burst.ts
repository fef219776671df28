// Benchmarks 3 and 4: a burst of 2,000 bookings over 20 buildings x 100 apartments x 3 facilities.
// The burst is committed with the wake-ups going nowhere, then the sync engine the function runs
// (runSync, same code) is driven from here, so the SALTO calls of one batch can be counted and timed.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Sql } from 'postgres';
import { createSaltoClient } from '../src/shared/salto/index.ts';
import { CpuBudget, PASS_CPU_MS } from '../src/shared/sync/cpu-budget.ts';
import { runSync } from '../src/shared/sync/engine.ts';
import { createSyncStore } from '../src/shared/sync/store.ts';
import { MAX_CONNECTIONS_PER_INSTANCE } from '../supabase/functions/_shared/database-settings.ts';
import {
  type BenchBuilding,
  type BenchResult,
  bookAsApp,
  burstPlan,
  connect,
  createBuildings,
  dropBuildings,
  pool,
  ratio,
  withoutWakeUps,
} from './support.ts';

const BUILDINGS = 20;
const BOOKINGS = 2_000;

async function commitBurst(sql: Sql, buildings: BenchBuilding[]) {
  const plan = burstPlan(buildings, BOOKINGS);
  await withoutWakeUps(sql, () => pool(plan, 4, (b) => bookAsApp(sql, 'public.bookings', b)));
  return plan;
}

/**
 * How the engine is run: as the function runs it (its connections, a pass's estimated CPU budget:
 * decisions 0025 and 0036), or as it was before those limits (8 connections, one pass
 * for all the work), the old figures' yardstick.
 */
type EngineShape = 'function' | 'one pass' | 'unbounded';

/**
 * Runs sync passes (as the function would on its wake-ups) until the buildings have no work left;
 * resolves with the number of passes. The database's wake-ups go nowhere meanwhile: pg_cron's
 * every-minute integration.tick() would otherwise wake the stack's salto-sync, which would sync the
 * same buildings beside this engine.
 */
async function syncUntilDone(sql: Sql, buildings: BenchBuilding[], shape: EngineShape = 'function') {
  const engineSql = connect(shape === 'unbounded' ? 8 : MAX_CONNECTIONS_PER_INSTANCE);
  try {
    return await withoutWakeUps(sql, async () => {
      const store = createSyncStore(engineSql);
      const ids = buildings.map((b) => b.id);
      for (let passes = 1; ; passes++) {
        await runSync({
          store,
          saltoClient: (endpoint) => createSaltoClient(endpoint),
          invocationId: randomUUID(),
          maxIdleWaitMs: 0,
          ...(shape === 'function' ? {} : { cpu: CpuBudget.unlimited() }),
        });
        const [left] = await sql<
          { n: number }[]
        >`select count(*)::int as n from integration.access_level_work where building_id = any (${ids}::uuid[])`;
        if (left!.n === 0) return passes;
      }
    });
  } finally {
    await engineSql.end();
  }
}

async function expectAllActive(sql: Sql, buildings: BenchBuilding[]) {
  const [row] = await sql<{ n: number; active: number }[]>`
    select count(*)::int as n, count(*) filter (where state = 'active')::int as active
    from integration.booking_access where building_id = any (${buildings.map((b) => b.id)}::uuid[])`;
  if (row!.n !== BOOKINGS || row!.active !== BOOKINGS)
    throw new Error(`${row!.active} of ${row!.n} bookings active after the sync`);
}

const calls = (b: BenchBuilding) => b.simulator.requests();
const levelOf = (request: string) =>
  /<(?:StartingFrom)?ExtGroupID>([^<]+)<\/(?:StartingFrom)?ExtGroupID>/.exec(request)?.[1];

/** SALTO reads and writes of each access level, from the simulators' request logs. */
function readsAndWrites(buildings: BenchBuilding[]) {
  const perLevel = new Map<string, { reads: number; writes: number }>();
  for (const call of buildings.flatMap(calls)) {
    const level = levelOf(call.request);
    if (!level) continue;
    const entry = perLevel.get(level) ?? { reads: 0, writes: 0 };
    if (call.requestName === 'SaltoDBGroupList.Read') entry.reads++;
    if (call.requestName === 'SaltoDBGroup.Update') entry.writes++;
    perLevel.set(level, entry);
  }
  return perLevel;
}

/** "n read more than once, m written more than once" */
function repeated(buildings: BenchBuilding[]) {
  const levels = [...readsAndWrites(buildings).values()];
  return `${levels.filter((e) => e.reads > 1).length} access levels read more than once, ${levels.filter((e) => e.writes > 1).length} written more than once`;
}

export async function callsPerBooking(sql: Sql): Promise<BenchResult> {
  const buildings = await createBuildings(sql, BUILDINGS, 100, 3);
  try {
    const plan = await commitBurst(sql, buildings);
    const passes = await syncUntilDone(sql, buildings);
    await expectAllActive(sql, buildings);
    const all = buildings.flatMap(calls);
    const perLevel = readsAndWrites(buildings);
    const maxReads = Math.max(...[...perLevel.values()].map((e) => e.reads));
    const maxWrites = Math.max(...[...perLevel.values()].map((e) => e.writes));
    const levels = new Set(plan.map((p) => p.accessLevelId)).size;
    const byName = new Map<string, number>();
    for (const call of all) byName.set(call.requestName ?? '?', (byName.get(call.requestName ?? '?') ?? 0) + 1);
    const perBooking = all.length / BOOKINGS;
    return {
      name: '3. SALTO calls per booking (burst)',
      figure: `${perBooking.toFixed(2)} calls per booking = ${ratio(all.length / (2 * BOOKINGS))} the naive 2; at most ${maxReads} read and ${maxWrites} write per access level`,
      goal: 'at most 1 read and 1 write per access level per batch',
      met: maxReads <= 1 && maxWrites <= 1,
      method:
        `${BOOKINGS.toLocaleString('en')} bookings over ${BUILDINGS} buildings x 100 apartments x 3 facilities (100 per building on apartment-facility pairs drawn at random without repetition, ` +
        `${levels.toLocaleString('en')} access levels), committed as the app writes them while wake-ups go nowhere; then the sync engine (runSync, the code ` +
        `salto-sync runs, with its ${MAX_CONNECTIONS_PER_INSTANCE} connections and a pass's estimated ${PASS_CPU_MS} ms of CPU) pass after pass until no work is left, ` +
        `wake-ups still going nowhere, each building with its own in-process simulator; calls counted from the simulators' request logs.`,
      details: [
        `calls: ${[...byName].map(([name, n]) => `${name} ${n}`).join(', ')}; total ${all.length} for ${BOOKINGS} bookings (naive ${2 * BOOKINGS}); ${passes} passes`,
        `access levels read more than once: ${[...perLevel.values()].filter((e) => e.reads > 1).length}, written more than once: ${[...perLevel.values()].filter((e) => e.writes > 1).length}`,
      ],
    };
  } finally {
    await dropBuildings(sql, buildings);
  }
}

async function burstRound(sql: Sql, shape: EngineShape) {
  const LATENCY = 50;
  const buildings = await createBuildings(sql, BUILDINGS, 100, 3);
  try {
    await commitBurst(sql, buildings);
    for (const b of buildings) await b.simulator.setFaults({ latencyMs: LATENCY });
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const started = performance.now();
    const passes = await syncUntilDone(sql, buildings, shape);
    const elapsed = performance.now() - started;
    await expectAllActive(sql, buildings);
    const busiest = Math.max(...buildings.map((b) => calls(b).length));
    return { LATENCY, elapsed, busiest, bound: busiest * LATENCY, passes, load, repeated: repeated(buildings) };
  } finally {
    await dropBuildings(sql, buildings);
  }
}

export async function burstThroughput(sql: Sql): Promise<BenchResult> {
  const r = await burstRound(sql, 'function');
  const old = await burstRound(sql, 'unbounded');
  const onePass = await burstRound(sql, 'one pass');
  const factor = r.elapsed / r.bound;
  return {
    name: '4. Burst throughput, slow SALTO',
    figure: `${(r.elapsed / 1000).toFixed(1)} s = ${ratio(factor)} the lower bound (${(r.bound / 1000).toFixed(1)} s) (load average ${r.load})`,
    goal: 'at most 1.50x the lower bound',
    met: factor <= 1.5,
    method:
      `The burst of benchmark 3 on fresh buildings, every simulator adding ${r.LATENCY} ms to every call; time from the start of the sync ` +
      `(bookings already committed) until every access level is written and every booking active, the engine run as the function runs it ` +
      `(${MAX_CONNECTIONS_PER_INSTANCE} connections, a pass's estimated ${PASS_CPU_MS} ms of CPU, pass after pass). Lower bound = the busiest ` +
      `building's SALTO calls (${r.busiest}, made one at a time as the building lease requires) x ${r.LATENCY} ms. Then the same on fresh ` +
      'buildings with the engine as it ran before those limits (8 connections, one pass for all the work): the yardstick of the old figures; ' +
      "and with the function's connections but one pass for all the work, which tells the two limits apart.",
    details: [
      `as the function runs it: ${r.passes} passes; ${r.repeated}`,
      `as before the limits (load average ${old.load}): ${(old.elapsed / 1000).toFixed(1)} s = ${ratio(old.elapsed / old.bound)} the lower bound (${(old.bound / 1000).toFixed(1)} s), ${old.passes} passes; ${old.repeated}`,
      `the function's ${MAX_CONNECTIONS_PER_INSTANCE} connections, one pass for all the work (load average ${onePass.load}): ${(onePass.elapsed / 1000).toFixed(1)} s = ${ratio(onePass.elapsed / onePass.bound)} the lower bound (${(onePass.bound / 1000).toFixed(1)} s), ${onePass.passes} passes; ${onePass.repeated}`,
    ],
  };
}

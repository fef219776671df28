// Benchmarks 3 and 4: a burst of 2,000 bookings over 20 buildings x 100 apartments x 3 facilities.
// The burst is committed with the wake-ups going nowhere, then the sync engine the function runs
// (runSync, same code) is driven from here, so the SALTO calls of one batch can be counted and timed.
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import { createSaltoClient } from '../src/shared/salto/index.ts';
import { runSync } from '../src/shared/sync/engine.ts';
import { createSyncStore } from '../src/shared/sync/store.ts';
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

/** Runs sync passes (as the function would on its wake-ups) until the buildings have no work left. */
async function syncUntilDone(sql: Sql, buildings: BenchBuilding[]) {
  const engineSql = connect(8); // the function's pool size
  try {
    const store = createSyncStore(engineSql);
    const ids = buildings.map((b) => b.id);
    for (;;) {
      await runSync({
        store,
        saltoClient: (endpoint) => createSaltoClient(endpoint),
        invocationId: randomUUID(),
        maxIdleWaitMs: 0,
      });
      const [left] = await sql<
        { n: number }[]
      >`select count(*)::int as n from integration.access_level_work where building_id = any (${ids}::uuid[])`;
      if (left!.n === 0) return;
    }
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

export async function callsPerBooking(sql: Sql): Promise<BenchResult> {
  const buildings = await createBuildings(sql, BUILDINGS, 100, 3);
  try {
    const plan = await commitBurst(sql, buildings);
    await syncUntilDone(sql, buildings);
    await expectAllActive(sql, buildings);
    const all = buildings.flatMap(calls);
    const perLevel = new Map<string, { reads: number; writes: number }>();
    for (const call of all) {
      const level = levelOf(call.request);
      if (!level) continue;
      const entry = perLevel.get(level) ?? { reads: 0, writes: 0 };
      if (call.requestName === 'SaltoDBGroupList.Read') entry.reads++;
      if (call.requestName === 'SaltoDBGroup.Update') entry.writes++;
      perLevel.set(level, entry);
    }
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
        `salto-sync runs) in one batch, each building with its own in-process simulator; calls counted from the simulators' request logs.`,
      details: [
        `calls: ${[...byName].map(([name, n]) => `${name} ${n}`).join(', ')}; total ${all.length} for ${BOOKINGS} bookings (naive ${2 * BOOKINGS})`,
      ],
    };
  } finally {
    await dropBuildings(sql, buildings);
  }
}

export async function burstThroughput(sql: Sql): Promise<BenchResult> {
  const LATENCY = 50;
  const buildings = await createBuildings(sql, BUILDINGS, 100, 3);
  try {
    await commitBurst(sql, buildings);
    for (const b of buildings) await b.simulator.setFaults({ latencyMs: LATENCY });
    const started = performance.now();
    await syncUntilDone(sql, buildings);
    const elapsed = performance.now() - started;
    await expectAllActive(sql, buildings);
    const busiest = Math.max(...buildings.map((b) => calls(b).length));
    const bound = busiest * LATENCY;
    const factor = elapsed / bound;
    return {
      name: '4. Burst throughput, slow SALTO',
      figure: `${(elapsed / 1000).toFixed(1)} s = ${ratio(factor)} the lower bound (${(bound / 1000).toFixed(1)} s)`,
      goal: 'at most 1.50x the lower bound',
      met: factor <= 1.5,
      method:
        `The burst of benchmark 3 on fresh buildings, every simulator adding ${LATENCY} ms to every call; time from the start of the sync ` +
        `(bookings already committed) until every access level is written and every booking active. Lower bound = the busiest ` +
        `building's SALTO calls (${busiest}, made one at a time as the building lease requires) x ${LATENCY} ms.`,
    };
  } finally {
    await dropBuildings(sql, buildings);
  }
}

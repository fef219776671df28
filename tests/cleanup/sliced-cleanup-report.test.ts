// A building cleaned over several calls (decision 0035) while the sync runs between them, as the
// minute job wakes it at night: the report counts every finished permission the night removed, SALTO
// holds none of them afterwards (read from the simulator, not from the database's record), and what
// this project did not write stays as it was. Each slice hands over its own access levels' finished
// bookings: work queued for a later slice's access levels would be taken by the sync while the
// building's lease is free between two slices, removed from SALTO but missing from the report.
// Run in this process (runCleanup over the real database and a simulator, the database's own calls
// sent nowhere) so that a sync pass can be run between two slices, every time.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastNightInSalto, leftInSalto, loadLastNight, localDate } from '../../bench/nightly-cleanup.ts';
import { type BenchBuilding, createBuildings, dropBuildings, withoutWakeUps } from '../../bench/support.ts';
import { CLEANUP_ACCESS_LEVELS, runCleanup } from '../../src/shared/cleanup/engine.ts';
import { createCleanupStore } from '../../src/shared/cleanup/store.ts';
import { createSaltoClient } from '../../src/shared/salto/index.ts';
import { runSync } from '../../src/shared/sync/engine.ts';
import { createSyncStore } from '../../src/shared/sync/store.ts';
import { connect, eventually } from '../support/stack.ts';
import { dueAndDispatched, type RunReport, runsOf } from './support.ts';

const sql = connect(4);

const APARTMENTS = CLEANUP_ACCESS_LEVELS * 2 + 20;
const WRITE = 'SaltoDBGroup.Update';

let buildings: BenchBuilding[] = [];
let building: BenchBuilding;
let gym: string;
/** The building's access levels in the order the cleanup takes them. */
let ordered: string[];
/** A zone no facility names, given by hand in SALTO to one access level of each slice. */
let pool: string;
let byHand: string[];
/** Each access level's permissions on zones other than the gym before the night. */
let before: Map<string, unknown[]>;
/** The writes to this building's SALTO by a sync pass run between two slices. */
const syncWrites: number[] = [];
let run: RunReport;
let yesterday: string;
/** Benchmarks 5 and 9's check of SALTO's side (leftInSalto), before the night. */
let leftBefore: ReturnType<typeof leftInSalto>;

const notGym = (id: string) =>
  building.simulator
    .snapshot()
    .accessLevels.find((l) => l.id === id)!
    .zonePermissions.filter((p) => p.zoneId !== gym);

afterAll(async () => {
  await dropBuildings(sql, buildings);
  await sql.end();
});

describe(`a building of ${APARTMENTS} finished permissions cleaned in slices, the sync running between them`, () => {
  beforeAll(async () => {
    yesterday = localDate(-1);
    const slot = 200;
    // Last night's state: every access level holds yesterday's gym booking, written and recorded,
    // beside the building's permanent MAIN zone (not written by this project).
    buildings = await createBuildings(sql, 1, APARTMENTS, 1, { ...lastNightInSalto(yesterday, slot) });
    building = buildings[0]!;
    await loadLastNight(sql, building, { yesterday, slot, timeZone: 'Australia/Sydney', due: false });
    await eventually(
      async () => {
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from integration.salto_id_checks
          where building_id = ${building.id} and status = 'pending'`;
        return row!.n === 0 ? true : undefined;
      },
      60_000,
      'the IDs checked',
    );
    gym = building.facilities[0]!.zoneId;
    ordered = (
      await sql<{ access_level_id: string }[]>`
        select access_level_id from integration.cleanup_access_levels(${building.id}) order by access_level_id`
    ).map((r) => r.access_level_id);
    pool = `POOL-${gym}`;
    building.simulator.site.zones.set(pool, { id: pool, name: pool, description: '' });
    byHand = [ordered[0]!, ordered[CLEANUP_ACCESS_LEVELS + 5]!, ordered[APARTMENTS - 1]!];
    for (const id of byHand) {
      building.simulator.site.accessLevels
        .get(id)!
        .permissions.push({ zoneId: pool, timetableId: 0, usePeriod: false, extra: [] });
    }
    before = new Map(ordered.map((id) => [id, notGym(id)]));
    leftBefore = leftInSalto([building], yesterday);
    building.simulator.clearRequests();

    const syncStore = createSyncStore(sql);
    await withoutWakeUps(sql, async () => {
      // Due now, and its run leased as a dispatch does; each paused slice's own dispatch leases it
      // again (its call goes nowhere) and this process takes it over.
      let dispatched: { runId: string; dispatch: string } = await dueAndDispatched(
        sql,
        building.id,
        (tx) => tx`update public.buildings set created_at = now() - interval '2 days' where id = ${building.id}`,
      );
      for (let call = 0; call < 10; call++) {
        const { runs } = await runCleanup({
          store: createCleanupStore(sql),
          syncStore,
          saltoClient: (endpoint, { onCall }) => createSaltoClient(endpoint, { onCall }),
          invocationId: randomUUID(),
          dispatched,
        });
        if (runs[0]?.status !== 'paused') break;
        // Between two slices the building's lease is free: the minute job wakes the sync, which takes
        // whatever work of the building is due.
        await sql`select integration.tick()`;
        const writesBefore = building.simulator.requests({ requestName: WRITE }).length;
        await runSync({
          store: syncStore,
          saltoClient: (endpoint) => createSaltoClient(endpoint),
          invocationId: randomUUID(),
          maxIdleWaitMs: 0,
          lingerMs: 0,
          budgetMs: 30_000,
        });
        syncWrites.push(building.simulator.requests({ requestName: WRITE }).length - writesBefore);
        const [paused] = await sql<{ leased_by: string }[]>`
          select leased_by from integration.cleanup_runs where id = ${dispatched.runId} and leased_by is not null`;
        if (!paused) throw new Error('the paused run was not dispatched again');
        dispatched = { runId: dispatched.runId, dispatch: paused.leased_by };
      }
    });
    [run] = (await runsOf(sql, building.id)) as [RunReport];
  }, 180_000);

  it('is one completed run of several calls, every access level checked once', () => {
    expect(run).toMatchObject({ status: 'completed', attempts: 1, access_levels_checked: APARTMENTS });
    expect(syncWrites.length).toBe(Math.ceil(APARTMENTS / CLEANUP_ACCESS_LEVELS) - 1);
  });

  it('reports every finished permission cleared, each once, and nothing under another name', () => {
    expect(run).toMatchObject({ cleared: APARTMENTS, handed_over: 0, repaired: 0, synced: 0, failed: 0 });
    expect(new Set(run.details.cleared!.map((d) => d.access_level_id)).size).toBe(APARTMENTS);
  });

  it('leaves none of them in SALTO (the simulator), nor in the record of what was written', async () => {
    const holding = building.simulator
      .snapshot()
      .accessLevels.filter((l) => l.zonePermissions.some((p) => p.zoneId === gym));
    expect(holding.map((l) => l.id)).toEqual([]);
    // The benchmarks' check of the simulators sees them before the night and none after.
    expect(leftBefore).toEqual({ finished: APARTMENTS, permanentLost: 0 });
    expect(leftInSalto([building], yesterday)).toEqual({ finished: 0, permanentLost: 0 });
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from integration.written_permissions where building_id = ${building.id}`;
    expect(row!.n).toBe(0);
  });

  it('keeps what this project did not write: the permanent zone, and a zone given by hand in each slice', () => {
    for (const id of ordered) expect(notGym(id)).toEqual(before.get(id));
    for (const id of byHand) expect(notGym(id).some((p) => p.zoneId === pool)).toBe(true);
  });

  it('left the sync nothing of the night to write between the slices: the cleanup wrote each access level once', () => {
    expect(syncWrites).toEqual(syncWrites.map(() => 0));
    expect(building.simulator.requests({ requestName: WRITE })).toHaveLength(APARTMENTS);
  });
});

describe("an operator's call naming two buildings", () => {
  it('gives each an even share of its budget, and hands over only the access levels each run cleans', async () => {
    const LEVELS = 30;
    const yesterday = localDate(-1);
    const slot = 200;
    const pair = await createBuildings(sql, 2, LEVELS, 1, { ...lastNightInSalto(yesterday, slot) });
    try {
      for (const b of pair) await loadLastNight(sql, b, { yesterday, slot, timeZone: 'Australia/Sydney', due: false });
      const ids = pair.map((b) => b.id);
      const { runs } = await withoutWakeUps(sql, async () => {
        // Due now, away from the five-minute job's dispatch, which would lease them first.
        while (Date.now() % 300_000 > 295_000 || Date.now() % 300_000 < 5_000)
          await new Promise((r) => setTimeout(r, 500));
        await sql`update public.buildings set created_at = now() - interval '2 days' where id = any (${ids}::uuid[])`;
        return runCleanup({
          store: createCleanupStore(sql),
          syncStore: createSyncStore(sql),
          saltoClient: (endpoint, { onCall }) => createSaltoClient(endpoint, { onCall }),
          invocationId: randomUUID(),
          buildingIds: ids,
          maxRuns: ids.length,
        });
      });
      const share = CLEANUP_ACCESS_LEVELS / 2;
      expect(runs.map((r) => [r.status, r.counts.access_levels_checked, r.counts.cleared])).toEqual([
        ['paused', share, share],
        ['paused', share, share],
      ]);
      for (const b of pair) {
        const gym = b.facilities[0]!.zoneId;
        const holding = b.simulator
          .snapshot()
          .accessLevels.filter((l) => l.zonePermissions.some((p) => p.zoneId === gym));
        expect(holding).toHaveLength(LEVELS - share);
      }
      // The access levels left to the next slices have no work for the sync to take meanwhile.
      const [work] = await sql<{ n: number }[]>`
        select count(*)::int as n from integration.access_level_work
        where building_id = any (${ids}::uuid[]) and not_before <= integration.now()`;
      expect(work!.n).toBe(0);
    } finally {
      await dropBuildings(sql, pair);
    }
  }, 120_000);
});

// A sync pass stops at its budget (decision 0036; here a budget that only access levels spend),
// charged as access levels are taken, not as they end (several buildings at once used to take one
// each past it), and never reads from SALTO an access level it then leaves for the next pass: a backlog over more buildings than the budget is
// written pass after pass with each access level read once and written once. The engine run here
// (runSync, the code salto-sync runs) with wake-ups going nowhere and the buildings held from the
// stack's own salto-sync while the bookings commit, so every SALTO call counted is one of its passes.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createSaltoClient } from '../../src/shared/salto/index.ts';
import { CpuBudget, type CpuCosts } from '../../src/shared/sync/cpu-budget.ts';
import { runSync } from '../../src/shared/sync/engine.ts';
import { createSyncStore } from '../../src/shared/sync/store.ts';
import { buildings, burst, closeAll } from '../faults/support.ts';
import type { TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const sql = connect(4);
afterAll(() => sql.end());

const BUDGET = 2;
const NOTHING_COSTS: CpuCosts = {
  round: 0,
  accessLevel: 0,
  zone: 0,
  exchange: 0,
  perThousandChars: 0,
  idCheck: 0,
  idComparison: 0,
};

/** SALTO reads and writes of each access level (a read names it as where to start). */
function readsAndWrites(targets: TestBuilding[]) {
  const perLevel = new Map<string, { reads: number; writes: number }>();
  for (const call of targets.flatMap((b) => b.simulator.requests())) {
    const level = /<(?:StartingFrom)?ExtGroupID>([^<]+)<\/(?:StartingFrom)?ExtGroupID>/.exec(call.request)?.[1];
    if (!level) continue;
    const entry = perLevel.get(level) ?? { reads: 0, writes: 0 };
    if (call.requestName === 'SaltoDBGroupList.Read') entry.reads++;
    if (call.requestName === 'SaltoDBGroup.Update') entry.writes++;
    perLevel.set(level, entry);
  }
  return perLevel;
}

describe('a sync pass at its budget', { timeout: 120_000 }, () => {
  it('reads no access level it leaves for the next pass', async () => {
    // More buildings than the budget: every one leased by the pass's first round.
    const targets = await buildings(sql, 4, 3, 1);
    const ids = targets.map((b) => b.id);
    const holder = randomUUID();
    const [original] = await sql<
      { url: string }[]
    >`select decrypted_secret as url from vault.decrypted_secrets where name = 'project_url'`;
    try {
      for (const id of ids) {
        const [row] = await sql<{ taken: boolean }[]>`
          select integration.take_building_lease(${id}, ${holder}, interval '2 minutes') as taken`;
        expect(row!.taken).toBe(true);
      }
      await sql`update vault.secrets set secret = 'http://127.0.0.1:9' where name = 'project_url'`;
      await burst(sql, targets);
      for (const id of ids) await sql`select integration.release_lease(${id}, ${holder})`;
      for (const b of targets) b.simulator.clearRequests();

      const store = createSyncStore(sql);
      const synced: number[] = [];
      for (;;) {
        const report = await runSync({
          store,
          saltoClient: (endpoint) => createSaltoClient(endpoint),
          invocationId: randomUUID(),
          maxIdleWaitMs: 0,
          // A budget of BUDGET access levels: only access levels cost anything.
          cpu: new CpuBudget(BUDGET, { ...NOTHING_COSTS, accessLevel: 1 }),
        });
        synced.push(report.accessLevels);
        const [left] = await sql<{ n: number }[]>`
          select count(*)::int as n from integration.access_level_work where building_id = any (${ids}::uuid[])`;
        if (left!.n === 0 || synced.length === 20) break;
      }
      const levels = [...readsAndWrites(targets)];
      // 4 buildings x 3 apartments, one access level each, written across passes of BUDGET.
      expect(levels).toHaveLength(12);
      // At most BUDGET access levels a pass, each read only once taken: never more, never read twice.
      // (Every count is of access levels: one the stack's own salto-sync wrote meanwhile counts once too.)
      expect(synced.filter((n) => n > BUDGET)).toEqual([]);
      expect(synced.length).toBeGreaterThan(1);
      expect(levels.filter(([, e]) => e.reads !== 1 || e.writes !== 1)).toEqual([]);
    } finally {
      await sql`update vault.secrets set secret = ${original!.url} where name = 'project_url'`;
      for (const id of ids) await sql`select integration.release_lease(${id}, ${holder})`;
      await closeAll(targets);
    }
  });
});

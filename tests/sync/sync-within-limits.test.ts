// Every sync invocation fits the edge runtime's limits (docs/decisions/0018, 0036): a backlog far
// larger than one pass's budget is written across several invocations, each pass asking for the next
// itself (no test nudges it, and the minute job would take minutes), nothing lost, and no salto-sync
// worker of the local edge runtime (hosted free plan limits) reached a hard limit or came near it.
import type { Sql } from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { buildings, burst, closeAll, expectSaltoExactlyAsDesired, labels, settle } from '../faults/support.ts';
import { createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';

const sql = connect(4);
afterAll(() => sql.end());

interface WorkerInfo {
  id: number;
  functionName: string;
  cpuMs: number;
  requests: number;
  endedBy: string | null;
  startedAt: string;
}

async function runtime() {
  const url = new URL('/_runtime/workers', stackEnv().functionsUrl);
  return (await (await fetch(url)).json()) as {
    limits: { cpuSoftMs: number; cpuHardMs: number };
    workers: WorkerInfo[];
  };
}

/**
 * The salto-sync workers started from now on, with the most CPU each was seen with: the runtime's
 * list is read every 50 ms until stop() (a worker's last reading stays in the list once it ended).
 */
async function watchSyncWorkers() {
  const before = Math.max(0, ...(await runtime()).workers.map((w) => w.id));
  const peakCpu = new Map<number, number>();
  let watching = true;
  const read = async () => {
    const { workers } = await runtime();
    const mine = workers.filter((w) => w.functionName === 'salto-sync' && w.id > before);
    for (const w of mine) peakCpu.set(w.id, Math.max(peakCpu.get(w.id) ?? 0, w.cpuMs));
    return mine;
  };
  const loop = (async () => {
    while (watching) {
      await read();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      watching = false;
      await loop;
      const mine = await read();
      return { limits: (await runtime()).limits, workers: mine.map((w) => ({ ...w, peakCpuMs: peakCpu.get(w.id)! })) };
    },
  };
}

/** Wake-ups as a steady neighbour's bookings send them (integration.wake_sync, through pg_net), every `gapMs`. */
function wakeSteadily(db: Sql, gapMs: number) {
  let waking = true;
  const loop = (async () => {
    while (waking) {
      await db`select integration.wake_sync()`;
      await new Promise((r) => setTimeout(r, gapMs));
    }
  })();
  return async () => {
    waking = false;
    await loop;
  };
}

describe('the sync under the edge runtime limits', { timeout: 600_000 }, () => {
  it('writes a backlog of many passes across invocations it wakes itself, within every limit', async () => {
    const APARTMENTS = 160;
    const [building] = await buildings(sql, 1, APARTMENTS, 1);
    const targets = [building!];
    try {
      const watch = await watchSyncWorkers();
      const requestsBefore = (await runtime()).workers
        .filter((w) => w.functionName === 'salto-sync')
        .reduce((n, w) => n + w.requests, 0);
      // Each booking's transaction wakes the sync; the passes after the first are asked for by the
      // passes themselves.
      const made = await burst(sql, targets);
      await settle(sql, targets, made, { nudge: false, timeoutMs: 120_000 });
      await expectSaltoExactlyAsDesired(sql, building!);

      const { limits, workers: mine } = await watch.stop();
      const requests =
        (await runtime()).workers.filter((w) => w.functionName === 'salto-sync').reduce((n, w) => n + w.requests, 0) -
        requestsBefore;
      expect(requests, 'invocations of salto-sync').toBeGreaterThanOrEqual(4);
      // The workers this test's invocations ran on (other tests kill workers on purpose: those end
      // "crashed"): none reached a limit, and none came within a fifth of the hard one (the soft limit
      // retires a worker; the passes it still runs then must end well before the hard one).
      for (const worker of mine) {
        expect(['cpu time', 'wall clock', 'memory']).not.toContain(worker.endedBy);
        expect(worker.peakCpuMs).toBeLessThan(limits.cpuHardMs * 0.8);
      }
      console.log(
        `salto-sync: ${requests} invocations, workers ${JSON.stringify(mine.map((w) => ({ id: w.id, cpuMs: w.peakCpuMs, requests: w.requests, endedBy: w.endedBy })))}`,
      );
    } finally {
      await closeAll(targets);
    }
  });

  it('keeps every worker under the hard limit through a flood of many-zone access levels and ID checks', async () => {
    // A large building: every apartment books all ten facilities (an access level of twelve zones
    // with the two permanent ones), in one statement, while every saved ID waits for its check (as
    // when a building's apartments are imported), and a neighbour's bookings wake the sync every
    // 200 ms, so that passes are asked for while others run (the most a retired worker may still
    // be given).
    const APARTMENTS = 1_000;
    const FACILITIES = 10;
    const watch = await watchSyncWorkers();
    const stopWaking = wakeSteadily(sql, 200);
    const targets: TestBuilding[] = [];
    let failure: unknown;
    try {
      // Creating the building checks its 1,010 saved IDs already (and waits for them).
      const building = await createTestBuilding(sql, {
        facilities: Array.from({ length: FACILITIES }, (_, i) => ({ name: `Room ${i + 1}` })),
        apartments: labels(APARTMENTS),
      });
      targets.push(building);
      const base = Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 86_400_000;
      const bookingIds = await sql.begin(async (tx) => {
        await tx`
          update integration.salto_id_checks set status = 'pending', requested_at = now(), checked_at = null,
            message = null, suggestions = '{}'
          where building_id = ${building.id}`;
        await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true)`;
        // Whole hours of the next four days: 40 weekly timetables at most, as burst() books them.
        const rows = await tx<{ id: string }[]>`
          insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
          select f.id, a.id,
            ${new Date(base)}::timestamptz + ((a.n + f.n) % 4) * interval '1 day' + ((a.n * 3 + f.n) % 10) * interval '1 hour',
            ${new Date(base)}::timestamptz + ((a.n + f.n) % 4) * interval '1 day' + ((a.n * 3 + f.n) % 10) * interval '1 hour' + interval '1 hour'
          from (select id, row_number() over (order by id) as n from public.apartments where building_id = ${building.id}) as a
          cross join (select id, row_number() over (order by id) as n from public.facilities where building_id = ${building.id}) as f
          returning id`;
        return rows.map((r) => r.id);
      });
      expect(bookingIds.length).toBe(APARTMENTS * FACILITIES);
      await settle(sql, targets, { bookingIds, doubleBookingIds: [] }, { nudge: false, timeoutMs: 360_000 });
      await eventually(
        async () => {
          const [row] = await sql<{ n: number }[]>`
            select count(*)::int as n from integration.salto_id_checks where building_id = ${building.id} and status <> 'known'`;
          return row!.n === 0 ? true : undefined;
        },
        60_000,
        'every saved ID checked again and known',
      );
      await expectSaltoExactlyAsDesired(sql, building);
    } catch (error) {
      failure = error;
    } finally {
      await stopWaking();
    }
    try {
      const { limits, workers: mine } = await watch.stop();
      console.log(
        `salto-sync under the flood: workers ${JSON.stringify(mine.map((w) => ({ id: w.id, cpuMs: w.peakCpuMs, requests: w.requests, endedBy: w.endedBy })))}`,
      );
      // Workers were retired, and every one that ended was retired (none killed at a limit, none
      // crashed), none ever at the hard limit. (Checked before the work's own failure, if any: a
      // worker killed mid-work holds its building's lease for a minute, and the work then waits.)
      expect(mine.filter((w) => w.endedBy !== null).length, 'workers retired').toBeGreaterThanOrEqual(1);
      for (const worker of mine) {
        if (worker.endedBy !== null) expect(worker.endedBy, `worker ${worker.id}`).toBe('retired');
        expect(worker.peakCpuMs, `worker ${worker.id}'s CPU`).toBeLessThan(limits.cpuHardMs);
      }
      if (failure) throw failure;
    } finally {
      await closeAll(targets);
    }
  });
});

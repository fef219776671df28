// Every sync invocation fits the edge runtime's limits: a backlog far larger than one pass's budget
// (PASS_ACCESS_LEVELS) is written across several invocations, each pass asking for the next itself
// (no test nudges it, and the minute job would take minutes), nothing lost, and no salto-sync worker
// of the local edge runtime (hosted free plan limits) reached a hard limit or came near it.
import { afterAll, describe, expect, it } from 'vitest';
import { PASS_ACCESS_LEVELS } from '../../src/shared/sync/engine.ts';
import { buildings, burst, closeAll, expectSaltoExactlyAsDesired, settle } from '../faults/support.ts';
import { connect, stackEnv } from '../support/stack.ts';

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

describe('the sync under the edge runtime limits', { timeout: 150_000 }, () => {
  it('writes a backlog of many passes across invocations it wakes itself, within every limit', async () => {
    const APARTMENTS = PASS_ACCESS_LEVELS * 4;
    const [building] = await buildings(sql, 1, APARTMENTS, 1);
    const targets = [building!];
    try {
      const before = Math.max(0, ...(await runtime()).workers.map((w) => w.id));
      const requestsBefore = (await runtime()).workers
        .filter((w) => w.functionName === 'salto-sync')
        .reduce((n, w) => n + w.requests, 0);
      // Each booking's transaction wakes the sync; the passes after the first are asked for by the
      // passes themselves.
      const made = await burst(sql, targets);
      await settle(sql, targets, made, { nudge: false, timeoutMs: 120_000 });
      await expectSaltoExactlyAsDesired(sql, building!);

      const { limits, workers } = await runtime();
      const sync = workers.filter((w) => w.functionName === 'salto-sync');
      const requests = sync.reduce((n, w) => n + w.requests, 0) - requestsBefore;
      expect(requests, 'invocations of salto-sync').toBeGreaterThanOrEqual(4);
      const mine = sync.filter((w) => w.id > before);
      // The workers this test's invocations ran on (other tests kill workers on purpose: those end
      // "crashed"): none reached a limit.
      for (const worker of mine) {
        expect(['cpu time', 'wall clock', 'memory']).not.toContain(worker.endedBy);
      }
      // No worker came within a pass's budget of the hard limit (the soft limit retires a worker; the
      // pass it runs then must end well before the hard one).
      for (const worker of [...mine, ...sync.filter((w) => w.endedBy === null)]) {
        expect(worker.cpuMs).toBeLessThan(limits.cpuHardMs * 0.8);
      }
      console.log(
        `salto-sync: ${requests} invocations, workers ${JSON.stringify(sync.map((w) => ({ id: w.id, cpuMs: w.cpuMs, requests: w.requests, endedBy: w.endedBy })))}`,
      );
    } finally {
      await closeAll(targets);
    }
  });
});

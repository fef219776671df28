// A pass with nothing to lease waits a little for work in backoff to fall due (maxIdleWaitMs). A
// wake-up (a booking committed meanwhile) ends that wait at once: otherwise the new booking waited
// behind another access level's backoff, up to 10 s (seen as two 8.7 s outliers of benchmark 7's quiet
// building).
import { describe, expect, it } from 'vitest';
import { runSync } from '../../src/shared/sync/engine.ts';
import type { SyncStore } from '../../src/shared/sync/store.ts';

describe('a wake-up during the idle wait for work in backoff', () => {
  it('starts the next round at once', async () => {
    const rounds: number[] = [];
    const started = Date.now();
    // Round 1: nothing to lease, work in backoff due in 30 s. Round 2 (after the wake-up): nothing left.
    const store = {
      takeWork: async () => {
        rounds.push(Date.now() - started);
        return rounds.length === 1
          ? { leased: [], changesLeft: false, secondsUntilDue: 30 }
          : { leased: [], changesLeft: false, secondsUntilDue: null };
      },
    } as unknown as SyncStore;
    let wake: () => void = () => {};
    const woken = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
      });
    const pass = runSync({
      store,
      saltoClient: () => {
        throw new Error('no building is leased');
      },
      invocationId: '00000000-0000-4000-8000-000000000001',
      maxIdleWaitMs: 60_000,
      budgetMs: 120_000,
      woken,
    });
    await new Promise((r) => setTimeout(r, 200));
    wake();
    await pass;
    expect(rounds).toHaveLength(2);
    // Woken after 200 ms, not after the 30 s backoff (the margin is for a busy machine).
    expect(rounds[1]!).toBeLessThan(10_000);
  });
});

// A background pass that has written keeps taking rounds for a moment after its last work
// (lingerMs, docs/decisions/0032): pg_net sends a busy building's wake-ups in batches about 1.3 s
// apart, and a booking committed just after the pass's work must be taken by that pass, without
// waiting for its own wake-up. The pass still ends: lingerMs after its last work, and at once when it
// found nothing to write.
import { describe, expect, it } from 'vitest';
import { CpuBudget, SYNC_CPU_COSTS } from '../../src/shared/sync/cpu-budget.ts';
import { runSync } from '../../src/shared/sync/engine.ts';
import type { LeasedBuilding, SyncStore } from '../../src/shared/sync/store.ts';

/** A building leased with work and no SALTO server: its task records that and ends, touching no SALTO. */
function leased(buildingId: string): LeasedBuilding {
  return { building: { buildingId }, due: [] } as unknown as LeasedBuilding;
}

/**
 * A store whose rounds lease building A at once and building B from `bAfterMs` on (its booking
 * committed then), each once; every round's time is kept.
 */
function storeWithSecondBookingAfter(bAfterMs: number) {
  const started = Date.now();
  const rounds: number[] = [];
  const written = new Map<string, number>();
  let aTaken = false;
  let bTaken = false;
  const store = {
    takeWork: async () => {
      const at = Date.now() - started;
      rounds.push(at);
      const leasedNow: LeasedBuilding[] = [];
      if (!aTaken) {
        aTaken = true;
        leasedNow.push(leased('a'));
      } else if (!bTaken && at >= bAfterMs) {
        bTaken = true;
        leasedNow.push(leased('b'));
      }
      return { leased: leasedNow, changesLeft: false, secondsUntilDue: null };
    },
    recordNoSaltoServer: async (buildingId: string) => {
      written.set(buildingId, Date.now() - started);
    },
    recordTraffic: async () => {},
    releaseLease: async () => true,
  } as unknown as SyncStore;
  return { store, rounds, written, started };
}

const pass = (store: SyncStore, lingerMs: number) =>
  runSync({
    store,
    saltoClient: () => {
      throw new Error('no building here has a SALTO server');
    },
    invocationId: '00000000-0000-4000-8000-000000000032',
    maxIdleWaitMs: 10_000,
    budgetMs: 30_000,
    lingerMs,
  });

describe('a pass that has written lingers', () => {
  it('takes a booking committed just after its work, without a wake-up, then ends', async () => {
    const { store, rounds, written, started } = storeWithSecondBookingAfter(500);
    const report = await pass(store, 1_500);
    const endedAt = Date.now() - started;
    expect(report.buildings).toBe(2);
    expect(written.get('a')).toBeDefined();
    // B was taken by this pass, by a round of its own (no wake-up is ever given to it), soon after its
    // booking (a round every 100 ms; the margin is for a busy machine).
    expect(written.get('b')!).toBeGreaterThanOrEqual(500);
    expect(written.get('b')!).toBeLessThan(1_500);
    // It ended 1.5 s after its last work, having looked about every 100 ms meanwhile.
    expect(endedAt).toBeGreaterThanOrEqual(written.get('b')! + 1_400);
    expect(endedAt).toBeLessThan(written.get('b')! + 5_000);
    const lingering = rounds.filter((at) => at > written.get('b')!);
    expect(lingering.length).toBeGreaterThanOrEqual(5);
    expect(lingering.length).toBeLessThanOrEqual(16);
  });

  it('does not linger when told not to: the booking after its work waits for the next pass', async () => {
    const { store, rounds, written } = storeWithSecondBookingAfter(500);
    const report = await pass(store, 0);
    expect(report.buildings).toBe(1);
    expect(written.has('b')).toBe(false);
    expect(rounds.length).toBeLessThanOrEqual(2);
  });

  it('does not linger when it found nothing to write', async () => {
    let rounds = 0;
    const store = {
      takeWork: async () => {
        rounds++;
        return { leased: [], changesLeft: false, secondsUntilDue: null };
      },
    } as unknown as SyncStore;
    const started = Date.now();
    await pass(store, 1_500);
    expect(rounds).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('a building task waiting for the lingering pass', () => {
  it('ends when the pass stops at its budget meanwhile', { timeout: 20_000 }, async () => {
    // Building A: one access level, then its task waits for new work. Building B, leased by the
    // pass's next round: two access levels, of which the first spends the pass's budget (a CPU budget
    // of two access levels, rounds costing nothing). Every
    // access level fails to be computed (so no SALTO is needed): each counts as synced, with its
    // backoff recorded.
    const work = (id: string) => ({ accessLevelId: id, generation: 1, attempts: 0 });
    const building = (buildingId: string, ids: string[]) =>
      ({
        building: { buildingId, endpoint: { url: 'http://127.0.0.1:9' } },
        due: ids.map(work),
      }) as unknown as LeasedBuilding;
    let rounds = 0;
    const recorded: string[] = [];
    const renewals: number[] = [];
    const store = {
      takeWork: async () => {
        rounds++;
        const leasedNow = rounds === 1 ? [building('a', ['a1'])] : rounds === 2 ? [building('b', ['b1', 'b2'])] : [];
        return { leased: leasedNow, changesLeft: false, secondsUntilDue: null };
      },
      desiredAccessLevelsAndTimetables: async () => {
        throw new Error('what the batch desires cannot be read');
      },
      timetables: async () => ({}),
      desiredAccessLevels: async () => {
        throw new Error('what this access level desires cannot be computed');
      },
      recordAccessLevelError: async (_buildingId: string, w: { accessLevelId: string }) => {
        recorded.push(w.accessLevelId);
        return true;
      },
      dueWork: async () => [],
      renewLease: async (_buildingId: string, _invocation: string, seconds: number) => {
        renewals.push(seconds);
        return true;
      },
      recordTraffic: async () => {},
      releaseLease: async () => true,
    } as unknown as SyncStore;
    const started = Date.now();
    const report = await runSync({
      store,
      saltoClient: () =>
        ({
          readAccessLevel: () => Promise.reject(new Error('not read')),
          close: async () => {},
        }) as unknown as ReturnType<Parameters<typeof runSync>[0]['saltoClient']>,
      invocationId: '00000000-0000-4000-8000-000000000033',
      budgetMs: 30_000,
      cpu: new CpuBudget(2, { ...SYNC_CPU_COSTS, round: 0, accessLevel: 1 }),
      maxIdleWaitMs: 0,
      lingerMs: 10_000,
    });
    expect(recorded).toEqual(['a1', 'b1']);
    // A waiting for new work held its building on a short lease (a worker killed meanwhile would hold
    // it seconds, not the minute of a lease taken to write).
    expect(renewals).toContain(2);
    expect(report.accessLevels).toBe(2);
    // Ended at the budget, not after A's 10 s of lingering (the margin is for a busy machine).
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

// The estimated CPU budget a salto-sync worker shares between its pass and the ID checks beside it
// (src/shared/sync/cpu-budget.ts, docs/decisions/0036).
import { describe, expect, it } from 'vitest';
import { CpuBudget, SYNC_CPU_COSTS } from '../../src/shared/sync/cpu-budget.ts';
import { type IdCheckStore, runSaltoIdChecks } from '../../src/shared/sync/id-checks.ts';

describe('the CPU budget', () => {
  it('gives each pass a grant of its own: what one left unspent is not carried over', () => {
    const cpu = new CpuBudget(100);
    cpu.charge(40);
    expect(cpu.exhausted()).toBe(false);
    cpu.grant();
    cpu.charge(99);
    expect(cpu.exhausted()).toBe(false);
    cpu.charge(1);
    expect(cpu.exhausted()).toBe(true);
    expect(cpu.spentMs).toBe(140);
    cpu.grant();
    expect(cpu.exhausted()).toBe(false);
    expect(cpu.grantSpentMs).toBe(0);
  });

  it('charges an access level by its zones and a SALTO exchange by its size', () => {
    const cpu = new CpuBudget(1_000);
    cpu.accessLevel();
    cpu.zones(12);
    expect(cpu.spentMs).toBeCloseTo(SYNC_CPU_COSTS.accessLevel + 12 * SYNC_CPU_COSTS.zone);
    const before = cpu.spentMs;
    cpu.exchange({ request: 'x'.repeat(1_000), reply: 'y'.repeat(9_000) });
    expect(cpu.spentMs - before).toBeCloseTo(SYNC_CPU_COSTS.exchange + 10 * SYNC_CPU_COSTS.perThousandChars);
  });
});

describe('SALTO ID checks under the budget', () => {
  it('stop once the grant is spent, leave the rest due and ask for the next invocation', async () => {
    const building = (id: string) => ({ buildingId: id, endpoint: { url: 'http://127.0.0.1:9' } });
    const taken: number[] = [];
    const recorded: string[] = [];
    let woken = 0;
    let due = 3;
    const store = {
      take: async () => {
        if (due === 0) return [];
        taken.push(due);
        return [{ building: building(`b${due}`), checks: [{ id: `c${due}`, kind: 'zone', saltoId: 'POOL' }] }];
      },
      record: async (buildingId: string) => {
        recorded.push(buildingId);
        due--;
        return 1;
      },
      releaseLease: async () => {},
      anyDue: async () => due > 0,
    } as unknown as IdCheckStore;
    // Each building's check lists the zones: a reply of 20,000 characters, which spends the grant.
    const reply = 'z'.repeat(20_000);
    const cpu = new CpuBudget(SYNC_CPU_COSTS.exchange + 20 * SYNC_CPU_COSTS.perThousandChars);
    const checked = await runSaltoIdChecks({
      store,
      cpu,
      limit: 1,
      invocationId: '00000000-0000-4000-8000-000000000036',
      saltoClient: (_endpoint, hooks) =>
        ({
          listZones: async () => {
            hooks?.onExchange?.({
              requestName: 'SaltoDBZoneList.Read',
              request: '',
              reply,
              at: new Date(),
              durationMs: 0,
            });
            return [{ id: 'POOL' }];
          },
          close: async () => {},
        }) as never,
      wakeNextInvocation: async () => {
        woken++;
      },
    });
    expect(checked).toBe(1);
    expect(recorded).toEqual(['b3']);
    expect(due).toBe(2);
    expect(woken).toBe(1);
    // The next passes' grants let them go on.
    for (let pass = 0; pass < 5 && due > 0; pass++) {
      cpu.grant();
      await runSaltoIdChecks({
        store,
        cpu,
        limit: 1,
        invocationId: '00000000-0000-4000-8000-000000000036',
        saltoClient: () => ({ listZones: async () => [{ id: 'POOL' }], close: async () => {} }) as never,
      });
    }
    expect(due).toBe(0);
  });
});

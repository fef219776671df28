import { nonceStore } from '../../../src/shared/functions/nonce-store.ts';
import { createSaltoClient, type ShipExchange } from '../../../src/shared/salto/index.ts';
import { CpuBudget } from '../../../src/shared/sync/cpu-budget.ts';
import { PASS_LINGER_MS, runSync } from '../../../src/shared/sync/engine.ts';
import { createIdCheckStore, runSaltoIdChecks } from '../../../src/shared/sync/id-checks.ts';
import { createSyncStore } from '../../../src/shared/sync/store.ts';
import { connectDatabase } from '../_shared/database.ts';
import { readFunctionEnv } from '../_shared/env.ts';
import { waitUntil } from '../_shared/runtime.ts';
import { denoStpConnector } from '../_shared/salto-tcp.ts';
import { createSyncApp } from './app.ts';

const env = readFunctionEnv();
const sql = connectDatabase(env, { functionName: 'salto-sync', asynchronousCommit: true });
const store = createSyncStore(sql);
const idChecks = createIdCheckStore(sql);
const saltoClient = (
  endpoint: Parameters<typeof createSaltoClient>[0],
  hooks?: { onExchange?: (exchange: ShipExchange) => void },
) =>
  createSaltoClient(endpoint, {
    connector: denoStpConnector,
    ...(hooks?.onExchange ? { onExchange: hooks.onExchange } : {}),
  });

// This worker's CPU, as estimated (the function cannot read its own): each pass is granted its share
// when it starts, and the ID checks beside it spend from the same grant, so that a worker retired at
// the edge runtime's soft limit ends well before the hard one (docs/decisions/0036).
const cpu = new CpuBudget();
const logCpu = (log: (line: string) => void, what: string) =>
  log(
    `${what}; estimated CPU ${Math.round(cpu.grantSpentMs)} ms of the pass's ${cpu.grantMs}, ${Math.round(cpu.spentMs)} ms in this worker (${JSON.stringify(cpu.tally)})`,
  );

// The next invocation, through pg_net as the database's own wake-ups come: asked for by a pass, or
// by the ID checks, that stopped at the budget with work left.
const wakeNextInvocation = async () => {
  await sql`select integration.wake_sync()`;
};

// Saved Zone IDs and Access Control IDs are checked beside the sync passes, one checker at a time per
// instance, each building under a lease of its own invocation id (a pass must not take it for its
// own). A booking's way to the door never waits for them, nor does a pass's report. One building a
// round: a building's checks are one step of the CPU budget (a listing of its access levels, say).
let checking: Promise<unknown> | undefined;
function checkSavedIds(log: (line: string) => void) {
  if (checking) return;
  checking = runSaltoIdChecks({
    store: idChecks,
    saltoClient,
    invocationId: crypto.randomUUID(),
    limit: 1,
    cpu,
    wakeNextInvocation,
    log,
  })
    .then((checked) => {
      if (checked > 0) logCpu(log, `SALTO ID checks: ${checked} recorded`);
    })
    .catch((error: unknown) => log(`SALTO ID checks failed: ${error instanceof Error ? error.message : String(error)}`))
    .finally(() => {
      checking = undefined;
    });
  waitUntil(checking);
}

const app = createSyncApp({
  secret: env.FUNCTIONS_SECRET,
  claimNonce: nonceStore(sql),
  waitUntil,
  sync: async ({ waitForBackoff, woken }) => {
    const log = (line: string) => console.log(line);
    cpu.grant();
    checkSavedIds(log);
    const report = await runSync({
      maxIdleWaitMs: waitForBackoff ? 10_000 : 0,
      // A background pass keeps looking for new bookings for a moment after its last work (a caller
      // waiting for the report gets it as soon as nothing is due).
      lingerMs: waitForBackoff ? PASS_LINGER_MS : 0,
      woken,
      store,
      saltoClient,
      invocationId: crypto.randomUUID(),
      // A pass stops at its budget (its grant of estimated CPU, PASS_BUDGET_MS of wall clock) and
      // asks for the next invocation.
      cpu,
      wakeNextInvocation,
      log,
    });
    if (report.accessLevels > 0) logCpu(log, `sync pass: ${report.accessLevels} access levels`);
    return report;
  },
});

Deno.serve(app.fetch);

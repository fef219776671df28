import { nonceStore } from '../../../src/shared/functions/nonce-store.ts';
import { createSaltoClient } from '../../../src/shared/salto/index.ts';
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
const saltoClient = (endpoint: Parameters<typeof createSaltoClient>[0]) =>
  createSaltoClient(endpoint, { connector: denoStpConnector });

// Saved Zone IDs and Access Control IDs are checked beside the sync passes, one checker at a time per
// instance, each building under a lease of its own invocation id (a pass must not take it for its
// own). A booking's way to the door never waits for them, nor does a pass's report.
let checking: Promise<unknown> | undefined;
function checkSavedIds(log: (line: string) => void) {
  if (checking) return;
  checking = runSaltoIdChecks({ store: idChecks, saltoClient, invocationId: crypto.randomUUID(), log })
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
  sync: ({ waitForBackoff, woken }) => {
    const log = (line: string) => console.log(line);
    checkSavedIds(log);
    return runSync({
      maxIdleWaitMs: waitForBackoff ? 10_000 : 0,
      // A background pass keeps looking for new bookings for a moment after its last work (a caller
      // waiting for the report gets it as soon as nothing is due).
      lingerMs: waitForBackoff ? PASS_LINGER_MS : 0,
      woken,
      store,
      saltoClient: (endpoint, hooks) =>
        createSaltoClient(endpoint, {
          connector: denoStpConnector,
          ...(hooks?.onExchange ? { onExchange: hooks.onExchange } : {}),
        }),
      invocationId: crypto.randomUUID(),
      // A pass stops at its budget (PASS_ACCESS_LEVELS, PASS_BUDGET_MS) and asks for the next
      // invocation, through pg_net as the database's own wake-ups come.
      wakeNextInvocation: async () => {
        await sql`select integration.wake_sync()`;
      },
      log,
    });
  },
});

Deno.serve(app.fetch);

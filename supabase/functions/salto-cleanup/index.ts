import { runCleanup } from '../../../src/shared/cleanup/engine.ts';
import { createCleanupStore } from '../../../src/shared/cleanup/store.ts';
import { nonceStore } from '../../../src/shared/functions/nonce-store.ts';
import { createSaltoClient } from '../../../src/shared/salto/index.ts';
import { createSyncStore } from '../../../src/shared/sync/store.ts';
import { connectDatabase } from '../_shared/database.ts';
import { readFunctionEnv } from '../_shared/env.ts';
import { waitUntil } from '../_shared/runtime.ts';
import { denoStpConnector } from '../_shared/salto-tcp.ts';
import { createCleanupApp } from './app.ts';

const env = readFunctionEnv();
// Two connections (the most any instance holds) serve the one building an invocation cleans: a run
// waits on SALTO, and records its access levels in batches.
const sql = connectDatabase(env, { functionName: 'salto-cleanup', asynchronousCommit: true });
const store = createCleanupStore(sql);
const syncStore = createSyncStore(sql);

const app = createCleanupApp({
  secret: env.FUNCTIONS_SECRET,
  claimNonce: nonceStore(sql),
  waitUntil,
  cleanup: (call) =>
    runCleanup({
      store,
      syncStore,
      saltoClient: (endpoint, { onCall }) => createSaltoClient(endpoint, { connector: denoStpConnector, onCall }),
      invocationId: crypto.randomUUID(),
      // One building per call unless an operator names several.
      ...('dispatched' in call
        ? { dispatched: call.dispatched }
        : call.buildingIds
          ? { buildingIds: call.buildingIds, maxRuns: call.buildingIds.length }
          : { maxRuns: 1 }),
      log: (line) => console.log(line),
    }),
});

Deno.serve(app.fetch);

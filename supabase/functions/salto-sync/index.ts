import { nonceStore } from '../../../src/shared/functions/nonce-store.ts';
import { createSaltoClient } from '../../../src/shared/salto/index.ts';
import { runSync } from '../../../src/shared/sync/engine.ts';
import { createSyncStore } from '../../../src/shared/sync/store.ts';
import { connectDatabase } from '../_shared/database.ts';
import { readFunctionEnv } from '../_shared/env.ts';
import { waitUntil } from '../_shared/runtime.ts';
import { denoStpConnector } from '../_shared/salto-tcp.ts';
import { createSyncApp } from './app.ts';

const env = readFunctionEnv();
const sql = connectDatabase(env.SUPABASE_DB_URL, 8, { asynchronousCommit: true });
const store = createSyncStore(sql);

const app = createSyncApp({
  secret: env.FUNCTIONS_SECRET,
  claimNonce: nonceStore(sql),
  waitUntil,
  sync: ({ waitForBackoff, woken }) =>
    runSync({
      maxIdleWaitMs: waitForBackoff ? 10_000 : 0,
      woken,
      store,
      saltoClient: (endpoint, hooks) =>
        createSaltoClient(endpoint, {
          connector: denoStpConnector,
          ...(hooks?.onExchange ? { onExchange: hooks.onExchange } : {}),
        }),
      invocationId: crypto.randomUUID(),
      log: (line) => console.log(line),
    }),
});

Deno.serve(app.fetch);

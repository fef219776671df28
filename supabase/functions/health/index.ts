import { nonceStore } from '../../../src/shared/functions/nonce-store.ts';
import { connectDatabase } from '../_shared/database.ts';
import { readFunctionEnv } from '../_shared/env.ts';
import { createHealthApp } from './app.ts';

const env = readFunctionEnv();
const sql = connectDatabase(env, { functionName: 'health' });

const app = createHealthApp({
  secret: env.FUNCTIONS_SECRET,
  claimNonce: nonceStore(sql),
  database: async () => {
    const [row] = await sql`select current_setting('server_version') as server_version, now()::text as now`;
    return { serverVersion: row.server_version, now: row.now };
  },
});

Deno.serve(app.fetch);

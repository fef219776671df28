import { Hono } from 'hono';
import { missingFunctionSecrets } from '../../../src/shared/functions/function-secrets.ts';
import { nonceStore } from '../../../src/shared/functions/nonce-store.ts';
import { connectDatabase } from '../_shared/database.ts';
import { readFunctionEnv } from '../_shared/env.ts';
import { createHealthApp } from './app.ts';

const missing = missingFunctionSecrets(Deno.env.toObject());

if (missing.health!.length > 0) {
  // Without FUNCTIONS_SECRET no caller can be checked: every request learns what is missing (names
  // only), so `connecx-salto doctor --deploy` can say it, instead of a function that fails to boot.
  const message = `health is not configured: set the function secret(s) ${missing.health!.join(', ')} (supabase secrets set NAME=value).`;
  console.error(message);
  const app = new Hono();
  app.all('*', (c) => c.json({ error: message, missing: missing.health, missingSecrets: missing }, 503));
  Deno.serve(app.fetch);
} else {
  const env = readFunctionEnv();
  const sql = connectDatabase(env, { functionName: 'health' });
  const app = createHealthApp({
    secret: env.FUNCTIONS_SECRET,
    claimNonce: nonceStore(sql),
    missingSecrets: missing,
    database: async () => {
      const [row] = await sql`select current_setting('server_version') as server_version, now()::text as now`;
      return { serverVersion: row.server_version, now: row.now };
    },
  });
  Deno.serve(app.fetch);
}

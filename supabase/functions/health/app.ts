// The health function proves the function server, routing and the database connection end to end,
// and names the function secrets this project lacks (names only, never values), for
// `connecx-salto doctor --deploy`.
import { Hono } from 'hono';
import { type ClaimNonce, requireFunctionToken } from '../../../src/shared/functions/auth.ts';
import { limitRequestBody } from '../../../src/shared/functions/request-body-limit.ts';

export interface HealthDeps {
  secret: string;
  /** Accepts a request token's nonce once (integration.used_request_nonces): replayed tokens are refused. */
  claimNonce: ClaimNonce;
  /** Answers one round trip to the database. */
  database: () => Promise<{ serverVersion: string; now: string }>;
  /** Per function, the names of required secrets this project lacks (function secrets are project-wide). */
  missingSecrets: Record<string, string[]>;
}

export function createHealthApp({ secret, claimNonce, database, missingSecrets }: HealthDeps) {
  const app = new Hono().basePath('/health');
  app.use('*', limitRequestBody());
  app.use('*', requireFunctionToken(secret, 'health', { claimNonce }));
  // POST too, so pg_net and pg_cron (which only post) can probe it.
  app.on(['GET', 'POST'], '/', async (c) => {
    try {
      return c.json({ status: 'ok', database: await database(), missingSecrets });
    } catch (error) {
      return c.json({ status: 'degraded', database: { error: (error as Error).message }, missingSecrets }, 503);
    }
  });
  return app;
}

// The salto-sync function's HTTP surface. Woken by the database (pg_net after a booking commits, and
// pg_cron every minute); answers at once and works in the background, or with ?wait=true (operators,
// tests) answers with the report when the pass is over.
import { Hono } from 'hono';
import { type ClaimNonce, requireFunctionToken } from '../../../src/shared/functions/auth.ts';
import { logPassFailure, onePassAtATime } from '../../../src/shared/functions/one-pass-at-a-time.ts';
import { limitRequestBody } from '../../../src/shared/functions/request-body-limit.ts';
import type { SyncReport } from '../../../src/shared/sync/engine.ts';

export interface SyncAppDeps {
  secret: string;
  /** Accepts a request token's nonce once (integration.used_request_nonces): replayed tokens are refused. */
  claimNonce: ClaimNonce;
  /**
   * One sync pass; `waitForBackoff` false ends it as soon as nothing is due; `woken` resolves at the
   * next wake-up that arrives while it runs.
   */
  sync: (options: { waitForBackoff: boolean; woken: () => Promise<void> }) => Promise<SyncReport>;
  /** Keeps the instance alive for background work (EdgeRuntime.waitUntil when hosted). */
  waitUntil: (work: Promise<unknown>) => void;
}

export function createSyncApp({ secret, claimNonce, sync, waitUntil }: SyncAppDeps) {
  const pass = onePassAtATime((waitForBackoff: boolean, woken) => sync({ waitForBackoff, woken }));
  const passFailed = logPassFailure('sync pass failed');

  const app = new Hono().basePath('/salto-sync');
  app.use('*', limitRequestBody());
  app.use('*', requireFunctionToken(secret, 'salto-sync', { claimNonce }));
  app.post('/', async (c) => {
    // A caller waiting for the report gets it once nothing is due; background passes also wait a
    // little for work in backoff.
    if (c.req.query('wait') === 'true') return c.json(await pass(false));
    waitUntil(pass(true).catch(passFailed));
    return c.json({ accepted: true }, 202);
  });
  return app;
}

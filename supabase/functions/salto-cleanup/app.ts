// The salto-cleanup function's HTTP surface. Called by the database once per building whose nightly
// cleanup is due, with the run it leased for the call (pg_cron or a finished run ->
// integration.dispatch_cleanups() -> pg_net), and by operators for given buildings (or one due
// building). Answers 202 at once and cleans in the background, or with ?wait=true (operators, tests)
// answers with the report of every run this call made. Overlapping calls are safe: each run is leased
// in the database, so a second call finds nothing left to do. A call cleans within its budget
// (CLEANUP_ACCESS_LEVELS): a run with more to do answers 'paused' and the database dispatches its
// next slice; an operator names at most CLEANUP_MAX_BUILDINGS buildings per call.
import { Hono } from 'hono';
import { z } from 'zod';
import { CLEANUP_MAX_BUILDINGS, type CleanupSummary } from '../../../src/shared/cleanup/engine.ts';
import { type ClaimNonce, requireFunctionToken } from '../../../src/shared/functions/auth.ts';
import { limitRequestBody } from '../../../src/shared/functions/request-body-limit.ts';

export interface CleanupAppDeps {
  secret: string;
  /** Accepts a request token's nonce once (integration.used_request_nonces): replayed tokens are refused. */
  claimNonce: ClaimNonce;
  cleanup: (options: CleanupCall) => Promise<CleanupSummary>;
  /** Keeps the instance alive for background work (EdgeRuntime.waitUntil when hosted). */
  waitUntil: (work: Promise<unknown>) => void;
}

/** What one call cleans: the run a dispatch leased for it, these buildings, or else one due building. */
export type CleanupCall = { dispatched: { runId: string; dispatch: string } } | { buildingIds?: string[] };

const CleanupRequest = z
  .object({
    /** Only these buildings (still only when due: a completed night is never redone). */
    building_ids: z
      .array(z.uuid())
      .min(1)
      .max(CLEANUP_MAX_BUILDINGS, {
        message: `At most ${CLEANUP_MAX_BUILDINGS} buildings per call (a call must end within the edge runtime's CPU limit): name the others in further calls of at most ${CLEANUP_MAX_BUILDINGS}, or leave them to the nightly job, which cleans each due building in calls of its own.`,
      })
      .optional(),
    /** The run integration.dispatch_cleanups leased for this call, and the dispatch that holds it. */
    run_id: z.uuid().optional(),
    dispatch: z.uuid().optional(),
    /** Why the call was made (the schedule says "schedule"); informational. */
    reason: z.string().optional(),
  })
  .refine((r) => (r.run_id === undefined) === (r.dispatch === undefined), {
    message: 'run_id and dispatch come together',
  })
  .refine((r) => r.run_id === undefined || r.building_ids === undefined, {
    message: 'Either run_id (a dispatched run) or building_ids, not both',
  });

export function createCleanupApp({ secret, claimNonce, cleanup, waitUntil }: CleanupAppDeps) {
  const app = new Hono().basePath('/salto-cleanup');
  app.use('*', limitRequestBody());
  app.use('*', requireFunctionToken(secret, 'salto-cleanup', { claimNonce }));
  app.post('/', async (c) => {
    const text = await c.req.text();
    let body: unknown = {};
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return c.json({ error: 'The body must be JSON' }, 400);
    }
    const parsed = CleanupRequest.safeParse(body);
    if (!parsed.success) return c.json({ error: z.prettifyError(parsed.error) }, 400);
    const { run_id: runId, dispatch, building_ids: buildingIds } = parsed.data;
    const options: CleanupCall =
      runId && dispatch ? { dispatched: { runId, dispatch } } : buildingIds ? { buildingIds } : {};
    if (c.req.query('wait') === 'true') return c.json(await cleanup(options));
    waitUntil(cleanup(options).catch((error) => console.error('cleanup failed:', (error as Error).message)));
    return c.json({ accepted: true }, 202);
  });
  return app;
}

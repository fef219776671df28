// The send-alerts function's HTTP surface.
// - POST /send-alerts: woken by the database (pg_net when an alert is raised, pg_cron every minute)
//   with a request token signed with the function secret; sends due alert emails in the background, or with ?wait=true
//   (operators, tests) answers with the report when the pass is over.
// - POST /send-alerts/act/preview {"token"}: what the action page (action-page/) asks when a manager
//   opens a double-booking email's action link: whether the link can act, and the consequence to
//   confirm. Changes nothing.
// - POST /send-alerts/act {"token"}: the confirmed action.
// The /act routes take no function request token (managers reach them from their inbox, through the
// page): the signed action token is the only credential. They answer JSON, never HTML (hosted
// Supabase serves a function's text/html as text/plain), and allow the page's origin (ALERT_PAGE_URL)
// by CORS. Every body is refused with 413 beyond 8 KB, unread (src/shared/functions/request-body-limit.ts).
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import {
  type ActionReply,
  confirmReply,
  grantedReply,
  type Refusal,
  refusalReply,
} from '../../../src/shared/alerts/action-replies.ts';
import { verifyActionToken } from '../../../src/shared/alerts/action-tokens.ts';
import type { SendReport } from '../../../src/shared/alerts/sender.ts';
import type { AlertStore } from '../../../src/shared/alerts/store.ts';
import { type ClaimNonce, requireFunctionToken } from '../../../src/shared/functions/auth.ts';
import { logPassFailure, onePassAtATime } from '../../../src/shared/functions/one-pass-at-a-time.ts';
import { limitRequestBody } from '../../../src/shared/functions/request-body-limit.ts';

export interface SendAlertsAppDeps {
  secret: string;
  /** Accepts a request token's nonce once (integration.used_request_nonces): replayed tokens are refused. */
  claimNonce: ClaimNonce;
  linkSecret: string;
  /** The action page's address (ALERT_PAGE_URL): its origin may call the /act routes from a browser. */
  pageUrl: string;
  /** One pass over the outbox; `waitForRetries` false ends it as soon as nothing is due. */
  send: (options: { waitForRetries: boolean }) => Promise<SendReport>;
  store: Pick<AlertStore, 'actionPreview' | 'act' | 'linkUse'>;
  waitUntil: (work: Promise<unknown>) => void;
}

const noStore = { 'Cache-Control': 'no-store' };

export function createSendAlertsApp({
  secret,
  claimNonce,
  linkSecret,
  pageUrl,
  send,
  store,
  waitUntil,
}: SendAlertsAppDeps) {
  const pass = onePassAtATime(
    (waitForRetries: boolean) => send({ waitForRetries }),
    (a, b): SendReport => ({
      sent: a.sent + b.sent,
      retried: a.retried + b.retried,
      failed: a.failed + b.failed,
      skipped: a.skipped + b.skipped,
    }),
  );
  const passFailed = logPassFailure('send pass failed');

  const app = new Hono().basePath('/send-alerts');
  app.use('*', limitRequestBody());
  // '/act/*' covers /act itself too.
  app.use(
    '/act/*',
    cors({ origin: new URL(pageUrl).origin, allowMethods: ['POST'], allowHeaders: ['Content-Type'], maxAge: 600 }),
  );

  app.post('/', requireFunctionToken(secret, 'send-alerts', { claimNonce }), async (c) => {
    if (c.req.query('wait') === 'true') return c.json(await pass(true));
    waitUntil(pass(true).catch(passFailed));
    return c.json({ accepted: true }, 202);
  });

  /** The token of the request body, verified: its claims, or why it cannot act. */
  const check = async (body: unknown) => {
    const token = (body as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || !token) return { refusal: 'malformed' as Refusal };
    const verified = await verifyActionToken(token, linkSecret);
    return verified.ok ? { claims: verified.claims } : { refusal: verified.reason as Refusal };
  };

  const refuse = async (reason: Refusal, alertId?: string) => {
    const use = reason === 'already_used' && alertId ? await store.linkUse(alertId) : undefined;
    return refusalReply(reason, use);
  };

  const answer = (reply: ActionReply, status = 200) =>
    new Response(JSON.stringify(reply), {
      status,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...noStore },
    });

  app.post('/act/preview', async (c) => {
    const checked = await check(await c.req.json().catch(() => null));
    if (!checked.claims) {
      const r = await refuse(checked.refusal);
      return answer(r.reply, r.status);
    }
    const { alertId, buildingId, bookingId } = checked.claims;
    const preview = await store.actionPreview(alertId, buildingId, bookingId);
    if (preview.status !== 'ok') {
      const r = await refuse(preview.status, alertId);
      return answer(r.reply, r.status);
    }
    return answer(confirmReply(preview));
  });

  app.post('/act', async (c) => {
    const checked = await check(await c.req.json().catch(() => null));
    if (!checked.claims) {
      const r = await refuse(checked.refusal);
      return answer(r.reply, r.status);
    }
    const { alertId, buildingId, bookingId } = checked.claims;
    const outcome = await store.act(alertId, buildingId, bookingId);
    if (outcome === 'granted') return answer(grantedReply());
    const r = await refuse(outcome, alertId);
    return answer(r.reply, r.status);
  });

  return app;
}

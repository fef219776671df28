// The send-alerts function's HTTP surface.
// - POST /send-alerts: woken by the database (pg_net when an alert is raised, pg_cron every minute)
//   with a request token signed with the function secret; sends due alert emails in the background, or with ?wait=true
//   (operators, tests) answers with the report when the pass is over.
// - GET /send-alerts/act?token=...: the confirmation page of a double-booking email's action link.
//   Reachable without a function request token (managers click it from their inbox): the signed token is
//   the only credential, and a GET never changes anything.
// - POST /send-alerts/act (form field token): the confirmed action.
// Every body is refused with 413 beyond 8 KB, unread (src/shared/functions/request-body-limit.ts): the
// action page is public, and a form holds one token.
import { type Context, Hono } from 'hono';
import { confirmationPage, grantedPage, type Refusal, refusalPage } from '../../../src/shared/alerts/action-pages.ts';
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
  /** One pass over the outbox; `waitForRetries` false ends it as soon as nothing is due. */
  send: (options: { waitForRetries: boolean }) => Promise<SendReport>;
  store: Pick<AlertStore, 'actionPreview' | 'act'>;
  waitUntil: (work: Promise<unknown>) => void;
}

// The token travels in the URL: keep it out of Referer headers, caches and frames.
const pageHeaders = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

function html(c: Context, body: string, status = 200) {
  return c.html(body, status as 200, pageHeaders);
}

export function createSendAlertsApp({ secret, claimNonce, linkSecret, send, store, waitUntil }: SendAlertsAppDeps) {
  const pass = onePassAtATime(
    (waitForRetries: boolean) => send({ waitForRetries }),
    (a, b): SendReport => ({ sent: a.sent + b.sent, retried: a.retried + b.retried, failed: a.failed + b.failed }),
  );
  const passFailed = logPassFailure('send pass failed');

  const app = new Hono().basePath('/send-alerts');
  app.use('*', limitRequestBody());

  app.post('/', requireFunctionToken(secret, 'send-alerts', { claimNonce }), async (c) => {
    if (c.req.query('wait') === 'true') return c.json(await pass(true));
    waitUntil(pass(true).catch(passFailed));
    return c.json({ accepted: true }, 202);
  });

  const check = async (token: string | undefined) => {
    if (!token) return { refusal: 'malformed' as Refusal };
    const verified = await verifyActionToken(token, linkSecret);
    return verified.ok ? { claims: verified.claims } : { refusal: verified.reason as Refusal };
  };

  app.get('/act', async (c) => {
    const token = c.req.query('token');
    const checked = await check(token);
    if (!checked.claims) {
      const r = refusalPage(checked.refusal);
      return html(c, r.html, r.status);
    }
    const { alertId, buildingId, bookingId } = checked.claims;
    const preview = await store.actionPreview(alertId, buildingId, bookingId);
    if (preview.status !== 'ok') {
      const r = refusalPage(preview.status);
      return html(c, r.html, r.status);
    }
    return html(c, confirmationPage(preview, token!, 'act'));
  });

  app.post('/act', async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form.token === 'string' ? form.token : undefined;
    const checked = await check(token);
    if (!checked.claims) {
      const r = refusalPage(checked.refusal);
      return html(c, r.html, r.status);
    }
    const { alertId, buildingId, bookingId } = checked.claims;
    const outcome = await store.act(alertId, buildingId, bookingId);
    if (outcome === 'granted') return html(c, grantedPage());
    const r = refusalPage(outcome);
    return html(c, r.html, r.status);
  });

  return app;
}

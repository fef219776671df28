import { Hono } from 'hono';
import { Resend } from 'resend';
import { z } from 'zod';
import { renderAlertEmail } from '../../../emails/render.tsx';
import { buildActionLink } from '../../../src/shared/alerts/action-tokens.ts';
import { SendPacer } from '../../../src/shared/alerts/delivery.ts';
import { buildOutboxEmail } from '../../../src/shared/alerts/digest.ts';
import { runSendPass } from '../../../src/shared/alerts/sender.ts';
import { createAlertStore } from '../../../src/shared/alerts/store.ts';
import { nonceStore } from '../../../src/shared/functions/nonce-store.ts';
import { connectDatabase } from '../_shared/database.ts';
import { readFunctionEnv } from '../_shared/env.ts';
import { waitUntil } from '../_shared/runtime.ts';
import { createSendAlertsApp } from './app.ts';

// Names only in errors: values may be secrets. The names and purposes: src/shared/functions/function-secrets.ts.
const alertEnv = z.object({
  SUPABASE_URL: z.string().url(),
  SUPABASE_DB_URL: z.string().min(1),
  FUNCTIONS_SECRET: z.string().min(16),
  RESEND_API_KEY: z.string().min(8),
  // Unset in production (the SDK's https://api.resend.com); the local stack points it at its capture.
  RESEND_BASE_URL: z.string().url().optional(),
  ALERT_FROM: z.string().min(3),
  ALERT_LINK_SECRET: z.string().min(16),
  // Where the action page (action-page/) is served; action links open it, and its origin may call /act.
  ALERT_PAGE_URL: z.string().url(),
  ALERT_LINK_TTL_HOURS: z.coerce.number().positive().default(72),
  RESEND_MAX_PER_SECOND: z.coerce.number().positive().default(2),
});
const parsed = alertEnv.safeParse(Deno.env.toObject());

if (!parsed.success) {
  // Not configured: every request is answered with what is missing or invalid (names, never values),
  // instead of a function that fails to boot and says nothing to its caller.
  const problems = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))];
  const message = `send-alerts is not configured: set the function secret(s) ${problems.join(', ')} (supabase secrets set NAME=value), then deploy again.`;
  console.error(message);
  const app = new Hono();
  app.all('*', (c) => c.json({ error: message, missing: problems }, 503));
  Deno.serve(app.fetch);
} else {
  const env = parsed.data;
  const sql = connectDatabase(readFunctionEnv(), { functionName: 'send-alerts' });
  const store = createAlertStore(sql);
  const resend = new Resend(env.RESEND_API_KEY, env.RESEND_BASE_URL ? { baseUrl: env.RESEND_BASE_URL } : undefined);
  const pacer = new SendPacer(env.RESEND_MAX_PER_SECOND);
  const linkSettings = {
    pageUrl: env.ALERT_PAGE_URL,
    secret: env.ALERT_LINK_SECRET,
    ttlHours: env.ALERT_LINK_TTL_HOURS,
  };

  const app = createSendAlertsApp({
    secret: env.FUNCTIONS_SECRET,
    claimNonce: nonceStore(sql),
    linkSecret: env.ALERT_LINK_SECRET,
    pageUrl: env.ALERT_PAGE_URL,
    store,
    waitUntil,
    send: ({ waitForRetries }) =>
      runSendPass({
        store,
        pacer,
        from: env.ALERT_FROM,
        maxIdleWaitMs: waitForRetries ? 15_000 : 0,
        log: (line) => console.log(line),
        actionLink: (facts) => buildActionLink(facts, linkSettings),
        render: (reported) => renderAlertEmail(buildOutboxEmail(reported)),
        send: async (email, idempotencyKey) => {
          const { data, error, headers } = await resend.emails.send(email, { idempotencyKey });
          if (data) return { ok: true, id: data.id };
          return {
            ok: false,
            failure: {
              statusCode: error?.statusCode ?? null,
              name: error?.name,
              message: error?.message,
              retryAfter: headers?.['retry-after'] ?? null,
            },
          };
        },
      }),
  });

  Deno.serve(app.fetch);
}

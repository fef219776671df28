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

// Names only in errors: values may be secrets.
const alertEnv = z.object({
  SUPABASE_URL: z.string().url(),
  RESEND_API_KEY: z.string().min(8),
  // Unset in production (the SDK's https://api.resend.com); the local stack points it at its capture.
  RESEND_BASE_URL: z.string().url().optional(),
  ALERT_FROM: z.string().min(3),
  ALERT_LINK_SECRET: z.string().min(16),
  // Public URL of this function, for action links; defaults to SUPABASE_URL/functions/v1/send-alerts.
  ALERT_ACTION_BASE_URL: z.string().url().optional(),
  ALERT_LINK_TTL_HOURS: z.coerce.number().positive().default(72),
  RESEND_MAX_PER_SECOND: z.coerce.number().positive().default(2),
});
const parsed = alertEnv.safeParse(Deno.env.toObject());
if (!parsed.success) {
  throw new Error(
    `send-alerts environment incomplete or invalid: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
  );
}
const env = { ...readFunctionEnv(), ...parsed.data };

const sql = connectDatabase(env, { functionName: 'send-alerts' });
const store = createAlertStore(sql);
const resend = new Resend(env.RESEND_API_KEY, env.RESEND_BASE_URL ? { baseUrl: env.RESEND_BASE_URL } : undefined);
const pacer = new SendPacer(env.RESEND_MAX_PER_SECOND);
const linkSettings = {
  baseUrl: env.ALERT_ACTION_BASE_URL ?? `${env.SUPABASE_URL}/functions/v1/send-alerts`,
  secret: env.ALERT_LINK_SECRET,
  ttlHours: env.ALERT_LINK_TTL_HOURS,
};

const app = createSendAlertsApp({
  secret: env.FUNCTIONS_SECRET,
  claimNonce: nonceStore(sql),
  linkSecret: env.ALERT_LINK_SECRET,
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

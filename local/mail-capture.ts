// The local stack's Resend: answers the parts of the Resend API this project uses (POST /emails) the
// way Resend does, so the real `resend` SDK talks to it through its base URL, and keeps every message
// it accepts for people (an inbox at /) and for tests (/_capture/...). Loopback only.
//
// Resend behaviours reproduced, because the send function depends on them:
// - Authorization: Bearer <key>; missing -> 401 missing_api_key, wrong -> 403 invalid_api_key.
// - Idempotency-Key (1-256 chars, kept 24 h): same key and same payload -> the same id, no second
//   message; same key and another payload -> 409 invalid_idempotent_request.
// - A per-team rate limit (token bucket, 2 requests per second by default, as Resend's stricter
//   documentation says): over it -> 429 rate_limit_exceeded with retry-after and ratelimit-* headers.
// - Errors as JSON { statusCode, name, message }.
// For tests: programmable failures (POST /_capture/faults), optionally only for one recipient so
// that other tests' emails are not affected, and "after store" failures (Resend accepted the email
// but the answer was lost), which only idempotency keys make safe to retry.

import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { z } from 'zod';

const port = Number(process.env.MAIL_CAPTURE_PORT ?? 55425);
const apiKey = process.env.MAIL_CAPTURE_API_KEY ?? '';
const storeFile = process.env.MAIL_CAPTURE_FILE;
if (apiKey.length < 8)
  throw new Error('MAIL_CAPTURE_API_KEY must be set (the key the send function uses as RESEND_API_KEY)');

const address = z.string().min(3).max(320);
const emailBody = z.object({
  from: z.string().min(3),
  to: z.union([address, z.array(address).min(1).max(50)]),
  subject: z.string().min(1),
  html: z.string().optional(),
  text: z.string().optional(),
  cc: z.union([address, z.array(address)]).optional(),
  bcc: z.union([address, z.array(address)]).optional(),
  reply_to: z.union([address, z.array(address)]).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  tags: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
});

export interface CapturedMessage {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  html: string | null;
  text: string | null;
  idempotencyKey: string | null;
}

interface Fault {
  status: number;
  retryAfter?: number;
  afterStore: boolean;
  /** Applies only to a request addressed to this recipient. */
  to?: string;
}

interface RequestRecord {
  at: string;
  status: number;
  idempotencyKey: string | null;
  to: string[];
}

const messages: CapturedMessage[] = [];
const requests: RequestRecord[] = [];
let faults: Fault[] = [];
const idempotency = new Map<string, { hash: string; id: string; at: number }>();
const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

let ratePerSecond = Number(process.env.MAIL_CAPTURE_RATE_PER_SECOND ?? 2);
let tokens = ratePerSecond;
let refilledAt = Date.now();

function takeToken(): boolean {
  if (ratePerSecond <= 0) return true;
  const now = Date.now();
  tokens = Math.min(ratePerSecond, tokens + ((now - refilledAt) / 1000) * ratePerSecond);
  refilledAt = now;
  if (tokens < 1) return false;
  tokens -= 1;
  return true;
}

if (storeFile && existsSync(storeFile)) {
  for (const line of readFileSync(storeFile, 'utf8').split('\n')) {
    if (line.trim()) messages.push(JSON.parse(line) as CapturedMessage);
  }
}

function store(message: CapturedMessage) {
  messages.push(message);
  if (storeFile) appendFileSync(storeFile, JSON.stringify(message) + '\n', { mode: 0o600 });
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function resendError(c: Context, status: number, name: string, message: string, headers: Record<string, string> = {}) {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json({ statusCode: status, name, message }, status as 400);
}

const errorNames: Record<number, string> = {
  400: 'validation_error',
  401: 'missing_api_key',
  403: 'invalid_api_key',
  409: 'concurrent_idempotent_requests',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'internal_server_error',
  502: 'application_error',
  503: 'application_error',
};

const app = new Hono();

app.post('/emails', async (c) => {
  const key = c.req.header('idempotency-key') ?? null;
  let to: string[] = [];
  const record = (status: number) => requests.push({ at: new Date().toISOString(), status, idempotencyKey: key, to });

  const auth = c.req.header('authorization') ?? '';
  if (!auth.startsWith('Bearer ') || auth.length <= 'Bearer '.length) {
    record(401);
    return resendError(c, 401, 'missing_api_key', 'Missing API key in the authorization header.');
  }
  if (auth.slice('Bearer '.length) !== apiKey) {
    record(403);
    return resendError(c, 403, 'invalid_api_key', 'API key is invalid.');
  }
  const raw = await c.req.text();
  let parsed: z.ZodSafeParseResult<z.infer<typeof emailBody>> | undefined;
  try {
    parsed = emailBody.safeParse(JSON.parse(raw));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    record(422);
    return resendError(
      c,
      422,
      'validation_error',
      parsed ? parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : 'Invalid JSON body.',
    );
  }
  const body = parsed.data;
  to = list(body.to);

  if (!takeToken()) {
    record(429);
    return resendError(
      c,
      429,
      'rate_limit_exceeded',
      `Too many requests. You can only make ${ratePerSecond} requests per second.`,
      {
        'retry-after': '1',
        'ratelimit-limit': String(ratePerSecond),
        'ratelimit-remaining': '0',
        'ratelimit-reset': '1',
      },
    );
  }

  const faultIndex = faults.findIndex((f) => !f.to || to.some((t) => t.toLowerCase() === f.to!.toLowerCase()));
  const fault = faultIndex >= 0 ? faults.splice(faultIndex, 1)[0] : undefined;
  if (fault && !fault.afterStore) {
    record(fault.status);
    return resendError(
      c,
      fault.status,
      errorNames[fault.status] ?? 'application_error',
      'Failure programmed by the test.',
      fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {},
    );
  }

  let id: string;
  const hash = createHash('sha256').update(raw).digest('hex');
  const remembered = key ? idempotency.get(key) : undefined;
  if (key !== null && (key.length < 1 || key.length > 256)) {
    record(400);
    return resendError(c, 400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
  }
  if (remembered && Date.now() - remembered.at < IDEMPOTENCY_WINDOW_MS) {
    if (remembered.hash !== hash) {
      record(409);
      return resendError(
        c,
        409,
        'invalid_idempotent_request',
        'Same idempotency key used with a different request payload.',
      );
    }
    id = remembered.id;
  } else {
    id = randomUUID();
    if (key) idempotency.set(key, { hash, id, at: Date.now() });
    store({
      id,
      receivedAt: new Date().toISOString(),
      from: body.from,
      to,
      subject: body.subject,
      html: body.html ?? null,
      text: body.text ?? null,
      idempotencyKey: key,
    });
  }
  if (fault) {
    record(fault.status);
    return resendError(
      c,
      fault.status,
      errorNames[fault.status] ?? 'application_error',
      'Failure programmed by the test (the email was stored).',
    );
  }
  record(200);
  return c.json({ id });
});

/*
 * For tests and scripts
 */

app.get('/_capture/health', (c) => c.json({ ok: true, messages: messages.length }));

app.get('/_capture/messages', (c) => {
  const to = c.req.query('to')?.toLowerCase();
  return c.json(to ? messages.filter((m) => m.to.some((t) => t.toLowerCase() === to)) : messages);
});

app.delete('/_capture/messages', (c) => {
  messages.length = 0;
  requests.length = 0;
  idempotency.clear();
  if (storeFile) writeFileSync(storeFile, '', { mode: 0o600 });
  return c.body(null, 204);
});

app.get('/_capture/requests', (c) => {
  const to = c.req.query('to')?.toLowerCase();
  return c.json(to ? requests.filter((r) => r.to.some((t) => t.toLowerCase() === to)) : requests);
});

const faultsBody = z.object({
  statuses: z.array(z.number().int().min(400).max(599)).min(1),
  retryAfter: z.number().min(0).optional(),
  afterStore: z.boolean().default(false),
  to: z.string().optional(),
});

/** Queues failures: the next matching POST /emails answers statuses[0], the one after statuses[1], ... */
app.post('/_capture/faults', async (c) => {
  const parsed = faultsBody.safeParse(await c.req.json().catch(() => null));
  if (!parsed.success) return c.json({ error: parsed.error.issues }, 400);
  const { statuses, retryAfter, afterStore, to } = parsed.data;
  faults.push(...statuses.map((status) => ({ status, retryAfter, afterStore, to })));
  return c.json({ queued: faults.length });
});

app.delete('/_capture/faults', (c) => {
  faults = [];
  return c.body(null, 204);
});

app.post('/_capture/rate-limit', async (c) => {
  const parsed = z.object({ perSecond: z.number().min(0) }).safeParse(await c.req.json().catch(() => null));
  if (!parsed.success) return c.json({ error: parsed.error.issues }, 400);
  ratePerSecond = parsed.data.perSecond;
  tokens = ratePerSecond;
  return c.json({ perSecond: ratePerSecond });
});

/*
 * The inbox, for people
 */

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1f2933; background: #f5f7fa; }
  header { background: #0b5cad; color: #fff; padding: 12px 24px; font-weight: 600; }
  header a { color: #fff; }
  main { padding: 16px 24px; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  td, th { text-align: left; padding: 8px 10px; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
  th { color: #52606d; font-weight: 600; }
  iframe { width: 100%; height: 70vh; border: 1px solid #e4e7eb; background: #fff; }
  pre { white-space: pre-wrap; background: #fff; border: 1px solid #e4e7eb; padding: 12px; }
  .meta { color: #52606d; }
</style></head>
<body><header><a href="/">Mail capture</a> · the local stack's Resend (nothing leaves this machine)</header><main>${body}</main></body></html>`;

app.get('/', (c) => {
  const rows = [...messages]
    .reverse()
    .map(
      (m) =>
        `<tr><td class="meta">${escapeHtml(m.receivedAt)}</td><td>${escapeHtml(m.to.join(', '))}</td><td><a href="/messages/${escapeHtml(m.id)}">${escapeHtml(m.subject)}</a></td></tr>`,
    )
    .join('');
  return c.html(
    page(
      'Mail capture',
      messages.length
        ? `<table><tr><th>Received</th><th>To</th><th>Subject</th></tr>${rows}</table>`
        : '<p>No messages yet.</p>',
    ),
  );
});

app.get('/messages/:id', (c) => {
  const m = messages.find((x) => x.id === c.req.param('id'));
  if (!m) return c.html(page('Not found', '<p>No such message.</p>'), 404);
  return c.html(
    page(
      m.subject,
      `
    <h2>${escapeHtml(m.subject)}</h2>
    <p class="meta">From ${escapeHtml(m.from)} to ${escapeHtml(m.to.join(', '))}, ${escapeHtml(m.receivedAt)}
      · idempotency key ${escapeHtml(m.idempotencyKey ?? 'none')}</p>
    ${m.html ? `<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="${escapeHtml(m.html)}"></iframe>` : ''}
    <h3>Plain text</h3><pre>${escapeHtml(m.text ?? '(none)')}</pre>`,
    ),
  );
});

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => {
  console.log(`mail capture on http://127.0.0.1:${port} (POST /emails like Resend; inbox at /)`);
});

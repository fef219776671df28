// Signed action links in alert emails: "give the waiting booking the permission now".
//
// A token is `<payload>.<signature>`, both base64url: the payload is JSON naming the alert, its
// building, the booking to act for, the action and an expiry; the signature is HMAC-SHA256 over the
// payload under ALERT_LINK_SECRET (crypto.subtle, whose verify compares in constant time). The token
// is the only credential of the confirmation page, so everything the action needs is signed; whether
// it was already used, and whether the alert really belongs to that building, the database decides
// when the action runs (integration.act_on_alert).
//
// Tokens are deterministic for an alert (no random nonce, expiry derived from the alert's creation
// time): a retried send renders byte-identical email, which Resend's idempotency requires (same key,
// different payload is a 409). Single use therefore means one action per alert, recorded in the
// database.
import { z } from 'zod';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DOMAIN = 'connecx-alert-action.v1.';

export const actionClaims = z.object({
  v: z.literal(1),
  action: z.literal('grant_now'),
  alertId: z.uuid(),
  buildingId: z.uuid(),
  bookingId: z.uuid(),
  /** Expiry, seconds since the epoch. */
  exp: z.number().int().positive(),
});
export type ActionClaims = z.infer<typeof actionClaims>;

export type TokenCheck =
  | { ok: true; claims: ActionClaims }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired'; claims?: ActionClaims };

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The bytes of canonical base64url text only: atob ignores the unused low bits of the last character,
 * so without the check four spellings of one signature would pass, and a token would not be one string.
 * The return type is inferred: TypeScript 5.9 (tsc) needs Uint8Array<ArrayBuffer> for crypto.subtle,
 * and the Deno of the edge runtime (TypeScript 5.6) has no generic Uint8Array to name it with.
 */
function fromBase64Url(text: string) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return toBase64Url(bytes) === text ? bytes : undefined;
  } catch {
    return undefined;
  }
}

async function hmacKey(secret: string) {
  if (secret.length < 16) throw new Error('ALERT_LINK_SECRET must be at least 16 characters');
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

export async function signActionToken(claims: ActionClaims, secret: string): Promise<string> {
  const payload = toBase64Url(encoder.encode(JSON.stringify(actionClaims.parse(claims))));
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(DOMAIN + payload));
  return `${payload}.${toBase64Url(new Uint8Array(signature))}`;
}

/** Checks the signature first (nothing unsigned is trusted, not even to say it expired), then the expiry. */
export async function verifyActionToken(token: string, secret: string, now: Date = new Date()): Promise<TokenCheck> {
  const [payload, signature, ...rest] = token.split('.');
  if (!payload || !signature || rest.length > 0 || token.length > 2048) return { ok: false, reason: 'malformed' };
  const signatureBytes = fromBase64Url(signature);
  const payloadBytes = fromBase64Url(payload);
  if (!signatureBytes || !payloadBytes) return { ok: false, reason: 'malformed' };
  const valid = await crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret),
    signatureBytes,
    encoder.encode(DOMAIN + payload),
  );
  if (!valid) return { ok: false, reason: 'forged' };
  let parsed: z.ZodSafeParseResult<z.infer<typeof actionClaims>>;
  try {
    parsed = actionClaims.safeParse(JSON.parse(decoder.decode(payloadBytes)));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  if (parsed.data.exp * 1000 <= now.getTime()) return { ok: false, reason: 'expired', claims: parsed.data };
  return { ok: true, claims: parsed.data };
}

/**
 * When an action link stops working: `ttlHours` after the alert was raised, and never after the
 * waiting booking starts (by then the product has written it, or the moment has passed). Derived from
 * stored facts only, so a re-rendered email carries the same link.
 */
export function actionLinkExpiry(
  alertCreatedAt: Date | string,
  waitingStartsAt: Date | string,
  ttlHours: number,
): Date {
  const byTtl = new Date(alertCreatedAt).getTime() + ttlHours * 3600_000;
  return new Date(Math.min(byTtl, new Date(waitingStartsAt).getTime()));
}

export interface ActionLinkSettings {
  /** Where the action page (action-page/) is served, ALERT_PAGE_URL, e.g. https://portal.example.com/alert-action/ */
  pageUrl: string;
  secret: string;
  ttlHours: number;
}

/**
 * The "give access now" link of a double-booking alert, or undefined when none makes sense (another
 * kind, the waiting booking has already started, or a manager already moved the permission).
 */
export async function buildActionLink(
  alert: {
    id: string;
    kind: string;
    createdAt: Date;
    buildingId: string;
    bookingId: string | null;
    waitingStartsAt?: Date;
    /** Set when the holder holds by a manager's earlier action: no link, it would swap them back. */
    override?: unknown;
  },
  settings: ActionLinkSettings,
  now: Date = new Date(),
): Promise<{ url: string; expiresAt: Date } | undefined> {
  if (alert.kind !== 'double_booking' || !alert.bookingId || !alert.waitingStartsAt || alert.override) return undefined;
  const expiresAt = actionLinkExpiry(alert.createdAt, alert.waitingStartsAt, settings.ttlHours);
  if (expiresAt.getTime() <= now.getTime()) return undefined;
  const token = await signActionToken(
    {
      v: 1,
      action: 'grant_now',
      alertId: alert.id,
      buildingId: alert.buildingId,
      bookingId: alert.bookingId,
      exp: Math.floor(expiresAt.getTime() / 1000),
    },
    settings.secret,
  );
  // In the fragment: browsers never send it to a server, so it stays out of the page host's logs and
  // out of Referer headers; the page reads it and posts it to send-alerts.
  const page = new URL(settings.pageUrl);
  page.hash = `token=${token}`;
  return { url: page.toString(), expiresAt };
}

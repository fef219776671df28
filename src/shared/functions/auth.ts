// Every edge function of this project is called by the database (pg_net, pg_cron) or by operators,
// never by browsers. Callers prove they hold the shared function secret without sending it, and no
// request can be replayed:
//
//   Authorization: Bearer v1.<unix seconds>.<nonce>.<hex HMAC-SHA256(secret, "<unix seconds>.<nonce>")>
//
// The signature is compared in constant time (both sides are 64 hex characters, so the comparison's
// length tells nothing); a timestamp more than five minutes off is refused; a nonce is accepted once
// (the caller-supplied `claimNonce` remembers it until its timestamp is out of the window, in
// integration.used_request_nonces). Runtime-neutral: only Web Crypto.
import type { MiddlewareHandler } from 'hono';

const encoder = new TextEncoder();

/** How far a token's timestamp may be from the function's clock, either way. */
export const TOKEN_MAX_SKEW_SECONDS = 300;

/** Same text, compared in time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

// The secret's HMAC key, imported once per secret: every request is checked against it, and each
// Web Crypto call is a trip into the runtime (on the way from a booking to SALTO).
let importedKey: { secret: string; key: Promise<CryptoKey> } | undefined;

function hmacKey(secret: string): Promise<CryptoKey> {
  if (importedKey?.secret !== secret) {
    importedKey = {
      secret,
      key: crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
    };
  }
  return importedKey.key;
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(message)));
  return Array.from(signature, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A fresh request token for the function secret (what integration.function_authorization() builds in SQL). */
export async function mintFunctionToken(
  secret: string,
  { nowMs = Date.now(), nonce = crypto.randomUUID() }: { nowMs?: number; nonce?: string } = {},
): Promise<string> {
  const seconds = Math.floor(nowMs / 1000);
  return `v1.${seconds}.${nonce}.${await hmacHex(secret, `${seconds}.${nonce}`)}`;
}

/**
 * Remembers a nonce until `expiresAt`; resolves true the first time it is seen, false on a replay.
 * Rejects when it cannot tell (say, the database is down): the request is then refused with 503.
 */
export type ClaimNonce = (nonce: string, expiresAt: Date) => Promise<boolean>;

export type TokenRefusal = 'missing' | 'malformed' | 'bad_signature' | 'expired' | 'replayed';

export type TokenCheck = { ok: true; nonce: string } | { ok: false; reason: TokenRefusal };

const TOKEN = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{16,128})\.([0-9a-f]{64})$/;

/** Checks a token's shape, signature and age; the nonce is the caller's to claim (see requireFunctionToken). */
export async function verifyFunctionToken(
  token: string | undefined,
  secret: string,
  { nowMs = Date.now(), maxSkewSeconds = TOKEN_MAX_SKEW_SECONDS }: { nowMs?: number; maxSkewSeconds?: number } = {},
): Promise<TokenCheck & { timestamp?: number }> {
  if (!token) return { ok: false, reason: 'missing' };
  const match = TOKEN.exec(token);
  if (!match) {
    // Still spend the same work as a well-formed token, so the shape is not a timing oracle.
    sameText(token, await hmacHex(secret, token));
    return { ok: false, reason: 'malformed' };
  }
  const [, seconds, nonce, signature] = match as unknown as [string, string, string, string];
  if (!secret || !sameText(signature, await hmacHex(secret, `${seconds}.${nonce}`))) {
    return { ok: false, reason: 'bad_signature' };
  }
  const timestamp = Number(seconds);
  if (Math.abs(nowMs / 1000 - timestamp) > maxSkewSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, nonce, timestamp };
}

export interface FunctionAuthOptions {
  claimNonce: ClaimNonce;
  now?: () => number;
}

/** Hono middleware: 401 unless the request carries a fresh, correctly signed, never-seen token. */
export function requireFunctionToken(
  secret: string,
  { claimNonce, now = Date.now }: FunctionAuthOptions,
): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const nowMs = now();
    const checked = await verifyFunctionToken(token, secret, { nowMs });
    if (!checked.ok) return c.json({ error: refusalMessage[checked.reason] }, 401);
    let fresh: boolean;
    try {
      // Remembered until the timestamp leaves the window (after that the token is refused as expired).
      fresh = await claimNonce(checked.nonce, new Date((checked.timestamp! + TOKEN_MAX_SKEW_SECONDS + 1) * 1000));
    } catch {
      return c.json(
        { error: 'The request could not be authenticated right now (nonce store unavailable); try again.' },
        503,
      );
    }
    if (!fresh) return c.json({ error: refusalMessage.replayed }, 401);
    await next();
  };
}

const refusalMessage: Record<TokenRefusal, string> = {
  missing:
    'Missing request token: send Authorization: Bearer v1.<unix seconds>.<nonce>.<hex HMAC-SHA256 of "<unix seconds>.<nonce>" with the function secret>',
  malformed: 'Malformed request token',
  bad_signature: 'Wrong request token signature (is the function secret the same on both sides?)',
  expired: 'Request token timestamp is more than 5 minutes off',
  replayed: 'Request token already used',
};

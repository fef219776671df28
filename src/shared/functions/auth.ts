// Every edge function of this project is called by the database (pg_net, pg_cron) or by operators,
// never by browsers. Callers prove they hold the shared function secret without sending it, and a
// request can neither be replayed nor redirected to another function or method:
//
//   Authorization: Bearer v2.<unix seconds>.<nonce>.<hex HMAC-SHA256(secret, "<unix seconds>.<nonce>.<METHOD>.<function>")>
//
// The function checks the signature against its own name and the request's method (a token minted for
// POST salto-sync opens nothing else), compared in constant time (both sides are 64 hex characters, so
// the comparison's length tells nothing); a timestamp more than five minutes off is refused; a nonce is
// accepted once (the caller-supplied `claimNonce` remembers it until its timestamp is out of the window,
// in integration.used_request_nonces). Tokens of the unbound kind (v1) are refused. Runtime-neutral:
// only Web Crypto.
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

/** What a token is bound to: one function (its folder name, e.g. "salto-sync") and one HTTP method. */
export interface TokenTarget {
  functionName: string;
  /** Upper case, as HTTP spells it; POST when omitted (what pg_net and pg_cron send). */
  method?: string;
}

/** The signed text: time and nonce, bound to the method and the function. */
const signedText = (seconds: string, nonce: string, { functionName, method = 'POST' }: TokenTarget) =>
  `${seconds}.${nonce}.${method.toUpperCase()}.${functionName}`;

/**
 * A fresh request token for one call of `functionName` with `method` (POST unless said), signed with
 * the function secret: what integration.function_authorization(function, method) builds in SQL.
 */
export async function mintFunctionToken(
  secret: string,
  functionName: string,
  {
    method = 'POST',
    nowMs = Date.now(),
    nonce = crypto.randomUUID(),
  }: { method?: string; nowMs?: number; nonce?: string } = {},
): Promise<string> {
  const seconds = String(Math.floor(nowMs / 1000));
  return `v2.${seconds}.${nonce}.${await hmacHex(secret, signedText(seconds, nonce, { functionName, method }))}`;
}

/**
 * Remembers a nonce until `expiresAt`; resolves true the first time it is seen, false on a replay.
 * Rejects when it cannot tell (say, the database is down): the request is then refused with 503.
 */
export type ClaimNonce = (nonce: string, expiresAt: Date) => Promise<boolean>;

export type TokenRefusal = 'missing' | 'unbound' | 'malformed' | 'bad_signature' | 'expired' | 'replayed';

export type TokenCheck = { ok: true; nonce: string } | { ok: false; reason: TokenRefusal };

const TOKEN = /^v2\.(\d{1,12})\.([A-Za-z0-9_-]{16,128})\.([0-9a-f]{64})$/;

/**
 * Checks a token's shape, its signature for this function and method, and its age; the nonce is the
 * caller's to claim (see requireFunctionToken).
 */
export async function verifyFunctionToken(
  token: string | undefined,
  secret: string,
  target: TokenTarget,
  { nowMs = Date.now(), maxSkewSeconds = TOKEN_MAX_SKEW_SECONDS }: { nowMs?: number; maxSkewSeconds?: number } = {},
): Promise<TokenCheck & { timestamp?: number }> {
  if (!token) return { ok: false, reason: 'missing' };
  const match = TOKEN.exec(token);
  if (!match) {
    // Still spend the same work as a well-formed token, so the shape is not a timing oracle.
    sameText(token, await hmacHex(secret, token));
    return { ok: false, reason: token.startsWith('v1.') ? 'unbound' : 'malformed' };
  }
  const [, seconds, nonce, signature] = match as unknown as [string, string, string, string];
  if (!secret || !sameText(signature, await hmacHex(secret, signedText(seconds, nonce, target)))) {
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

/**
 * Hono middleware of the function `functionName`: 401 unless the request carries a fresh, never-seen
 * token signed for this function and the request's method.
 */
export function requireFunctionToken(
  secret: string,
  functionName: string,
  { claimNonce, now = Date.now }: FunctionAuthOptions,
): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const nowMs = now();
    const checked = await verifyFunctionToken(token, secret, { functionName, method: c.req.method }, { nowMs });
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
    'Missing request token: send Authorization: Bearer v2.<unix seconds>.<nonce>.<hex HMAC-SHA256 of "<unix seconds>.<nonce>.<METHOD>.<function>" with the function secret>',
  unbound:
    'Request tokens of version v1 are refused: mint a v2 token, bound to this function and method (mintFunctionToken, or integration.function_authorization(function, method) in the database)',
  malformed: 'Malformed request token',
  bad_signature:
    'Wrong request token signature: minted for another function or method, or with another function secret',
  expired: 'Request token timestamp is more than 5 minutes off',
  replayed: 'Request token already used',
};

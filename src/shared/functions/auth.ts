// Every edge function of this project is called by the database (pg_net, pg_cron) or by operators,
// never by browsers: callers present the shared function secret as a bearer token.
// Compared in constant time (over SHA-256 digests, so lengths leak nothing either).
import type { MiddlewareHandler } from 'hono';

const encoder = new TextEncoder();

async function digest(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)));
}

export async function secretsMatch(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0 && expected.length > 0;
}

/** Hono middleware: 401 unless `Authorization: Bearer <secret>` carries the function secret. */
export function requireFunctionSecret(secret: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (!token || !(await secretsMatch(token, secret))) {
      return c.json({ error: 'Missing or wrong function secret' }, 401);
    }
    await next();
  };
}

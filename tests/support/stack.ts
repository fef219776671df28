// What integration tests need from the running local stack: its URLs (from .local/stack.env, written by
// `npm run stack up`) and a database connection as the postgres superuser.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import postgres from 'postgres';
import { mintFunctionToken } from '../../src/shared/functions/auth.ts';

const envFile = join(import.meta.dirname, '..', '..', '.local', 'stack.env');

export function stackEnv() {
  if (!existsSync(envFile)) {
    throw new Error('The local stack is not up: run `npm run stack:up` (npm test does it for you).');
  }
  const env = parse(readFileSync(envFile));
  const need = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} missing from .local/stack.env`);
    return value;
  };
  return {
    databaseUrl: need('DATABASE_URL'),
    functionsUrl: need('FUNCTIONS_URL'),
    functionsSecret: need('FUNCTIONS_SECRET'),
    saltoSimulatorUrl: need('SALTO_SIMULATOR_HTTP_URL'),
    saltoShipKey: need('SALTO_SHIP_KEY'),
  };
}

export function connect(max = 2) {
  return postgres(stackEnv().databaseUrl, { max, onnotice: () => {} });
}

/**
 * The Authorization header for one call to a function of the stack (`method` POST unless said): a
 * fresh, single-use request token bound to that function and method, signed with the function secret
 * (what the database's wake-ups send).
 */
export async function functionAuthorization(
  functionName: string,
  { method = 'POST', secret = stackEnv().functionsSecret }: { method?: string; secret?: string } = {},
): Promise<string> {
  return `Bearer ${await mintFunctionToken(secret, functionName, { method })}`;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

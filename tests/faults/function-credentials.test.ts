// Every function's caller endpoint refuses missing, wrong, stale and replayed credentials, and accepts a
// fresh token once: what the database's wake-ups send (integration.function_authorization(function, method)).
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { mintFunctionToken, verifyFunctionToken } from '../../src/shared/functions/auth.ts';
import { connect, stackEnv } from '../support/stack.ts';

const { functionsUrl, functionsSecret } = stackEnv();
const sql = connect(1);
afterAll(() => sql.end());

// What each function's authenticated endpoint accepts; bodies chosen to change nothing.
const endpoints = [
  { name: 'health', method: 'GET', body: undefined, accepted: 200 },
  { name: 'salto-sync', method: 'POST', body: '{}', accepted: 202 },
  { name: 'salto-cleanup', method: 'POST', body: JSON.stringify({ building_ids: [randomUUID()] }), accepted: 202 },
  { name: 'send-alerts', method: 'POST', body: '{}', accepted: 202 },
] as const;

function call(endpoint: (typeof endpoints)[number], authorization?: string) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (authorization !== undefined) headers.Authorization = authorization;
  return fetch(`${functionsUrl}/${endpoint.name}`, { method: endpoint.method, headers, body: endpoint.body });
}

describe('function endpoints refuse missing, wrong, expired and replayed credentials', () => {
  for (const endpoint of endpoints) {
    it(`${endpoint.name}: a fresh token is accepted once, every other credential is refused`, async () => {
      const mint = (secret: string, options: { nowMs?: number } = {}) =>
        mintFunctionToken(secret, endpoint.name, { method: endpoint.method, ...options });
      const fresh = `Bearer ${await mint(functionsSecret)}`;
      const refused = {
        missing: await call(endpoint),
        'bare secret': await call(endpoint, `Bearer ${functionsSecret}`),
        'wrong secret': await call(endpoint, `Bearer ${await mint('not-the-function-secret-at-all')}`),
        'tampered nonce': await call(endpoint, fresh.replace(/\.([0-9a-f-]{36})\./, `.${randomUUID()}.`)),
        'six minutes old': await call(
          endpoint,
          `Bearer ${await mint(functionsSecret, { nowMs: Date.now() - 6 * 60_000 })}`,
        ),
        'six minutes ahead': await call(
          endpoint,
          `Bearer ${await mint(functionsSecret, { nowMs: Date.now() + 6 * 60_000 })}`,
        ),
        garbage: await call(endpoint, 'Bearer v2.x.y.z'),
      };
      for (const [what, response] of Object.entries(refused)) {
        expect(response.status, what).toBe(401);
        const text = await response.text();
        expect(text, `${what}: the secret is never echoed`).not.toContain(functionsSecret);
      }

      const first = await call(endpoint, fresh);
      expect(first.status).toBe(endpoint.accepted);
      await first.body?.cancel();
      const replayed = await call(endpoint, fresh);
      expect(replayed.status).toBe(401);
      expect(await replayed.json()).toEqual({ error: 'Request token already used' });
    });
  }

  it('a replay racing the original is refused too: one of ten identical calls gets through', async () => {
    const token = `Bearer ${await mintFunctionToken(functionsSecret, 'health', { method: 'GET' })}`;
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(endpoints[0], token).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(9);
  });

  it('the database mints tokens the functions accept, each with its own nonce', async () => {
    const [a, b] = await sql<{ token: string }[]>`
      select integration.function_authorization('health', 'GET') as token from generate_series(1, 2)`;
    const [tokenA, tokenB] = [a!.token.slice('Bearer '.length), b!.token.slice('Bearer '.length)];
    expect(tokenA).not.toBe(tokenB);
    expect(await verifyFunctionToken(tokenA, functionsSecret, { functionName: 'health', method: 'GET' })).toMatchObject(
      {
        ok: true,
      },
    );
    expect((await call(endpoints[0], a!.token)).status).toBe(200);
  });

  it('expired nonces are forgotten by the minute job, live ones kept', async () => {
    // These two nonces only: other tests' nonces fall due while this one runs (each is kept five
    // minutes), so a count of every expired nonce after the job raced them.
    const expired = `expired-${randomUUID()}`;
    const live = `live-${randomUUID()}`;
    await sql`
      insert into integration.used_request_nonces (nonce, expires_at)
      values (${expired}, now() - interval '1 second'), (${live}, now() + interval '5 minutes')`;
    await sql`select integration.tick()`;
    const rows = await sql<
      { nonce: string }[]
    >`select nonce from integration.used_request_nonces where nonce in (${expired}, ${live})`;
    expect(rows.map((r) => r.nonce)).toEqual([live]);
  });
});

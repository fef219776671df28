// An operator's call names at most CLEANUP_MAX_BUILDINGS buildings: a call must end within the edge
// runtime's CPU limit (docs/decisions/0035), so more is refused with 400, naming the limit and what to
// do, before anything is leased.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLEANUP_MAX_BUILDINGS } from '../../src/shared/cleanup/engine.ts';
import { mintFunctionToken } from '../../src/shared/functions/auth.ts';
import { createCleanupApp } from '../../supabase/functions/salto-cleanup/app.ts';

const SECRET = 'operator-call-limit-test-secret-0123456789';

function app() {
  const calls: unknown[] = [];
  const cleanupApp = createCleanupApp({
    secret: SECRET,
    claimNonce: async () => true,
    waitUntil: () => {},
    cleanup: async (call) => {
      calls.push(call);
      return { runs: [] };
    },
  });
  return { calls, cleanupApp };
}

async function post(cleanupApp: ReturnType<typeof createCleanupApp>, buildingIds: string[]) {
  return cleanupApp.request('/salto-cleanup?wait=true', {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${await mintFunctionToken(SECRET, 'salto-cleanup', { method: 'POST' })}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ building_ids: buildingIds }),
  });
}

describe("an operator's call of salto-cleanup", () => {
  it(`names at most ${CLEANUP_MAX_BUILDINGS} buildings; more is refused with the limit and what to do`, async () => {
    const { calls, cleanupApp } = app();
    const many = Array.from({ length: CLEANUP_MAX_BUILDINGS + 1 }, () => randomUUID());
    const refused = await post(cleanupApp, many);
    expect(refused.status).toBe(400);
    const { error } = (await refused.json()) as { error: string };
    expect(error).toContain(`At most ${CLEANUP_MAX_BUILDINGS} buildings per call`);
    expect(error).toContain('further calls');
    expect(calls).toEqual([]);

    const accepted = await post(cleanupApp, many.slice(0, CLEANUP_MAX_BUILDINGS));
    expect(accepted.status).toBe(200);
    expect(calls).toEqual([{ buildingIds: many.slice(0, CLEANUP_MAX_BUILDINGS) }]);
  });
});

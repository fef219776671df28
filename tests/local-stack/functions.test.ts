import { describe, expect, it } from 'vitest';
import { functionAuthorization, stackEnv } from '../support/stack.ts';

describe('edge functions on the local stack', () => {
  const { functionsUrl, functionsSecret } = stackEnv();

  it('serve at the hosted URL shape and reach the database', async () => {
    const response = await fetch(`${functionsUrl}/health`, {
      headers: { Authorization: await functionAuthorization('health', { method: 'GET' }) },
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.status).toBe('ok');
    expect(body.database.serverVersion).toMatch(/^15\./);
  });

  it('refuse callers without a request token signed with the function secret', async () => {
    expect((await fetch(`${functionsUrl}/health`)).status).toBe(401);
    // The bare secret is no longer a credential: it must never travel.
    const bare = await fetch(`${functionsUrl}/health`, { headers: { Authorization: `Bearer ${functionsSecret}` } });
    expect(bare.status).toBe(401);
    const wrong = await fetch(`${functionsUrl}/health`, { headers: { Authorization: 'Bearer not-the-secret' } });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(await wrong.json())).not.toContain(functionsSecret);
  });

  it('answer 404 for a function that does not exist', async () => {
    expect((await fetch(`${functionsUrl}/no-such-function`)).status).toBe(404);
  });
});

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, eventually, stackEnv } from '../support/stack.ts';

// pg_net's contract, which the integration relies on: a wake-up is sent only once its transaction
// commits, and its outcome lands in net._http_response.
describe('the local pg_net stand-in', () => {
  const sql = connect();
  const { functionsUrl } = stackEnv();
  const received: string[] = [];
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  });

  afterAll(async () => {
    await sql.end();
    await new Promise((r) => server.close(r));
  });

  it('sends nothing for a transaction that rolls back', async () => {
    const marker = `rolled-back-${Date.now()}`;
    await sql
      .begin(async (tx) => {
        await tx`select net.http_post(${url}, jsonb_build_object('marker', ${marker}::text))`;
        throw new Error('roll back');
      })
      .catch(() => {});
    // A committed request posted afterwards is delivered; the rolled-back one never is.
    const after = `committed-after-${Date.now()}`;
    await sql`select net.http_post(${url}, jsonb_build_object('marker', ${after}::text))`;
    await eventually(
      async () => (received.some((b) => b.includes(after)) ? true : undefined),
      10_000,
      'the committed request',
    );
    expect(received.some((b) => b.includes(marker))).toBe(false);
  });

  it('does not send before commit', async () => {
    const marker = `slow-commit-${Date.now()}`;
    await sql.begin(async (tx) => {
      await tx`select net.http_post(${url}, jsonb_build_object('marker', ${marker}::text))`;
      await new Promise((r) => setTimeout(r, 1500));
      expect(received.some((b) => b.includes(marker))).toBe(false);
    });
    await eventually(
      async () => (received.some((b) => b.includes(marker)) ? true : undefined),
      10_000,
      'delivery after commit',
    );
  });

  it('delivers a committed request to the local function server and records its response', async () => {
    const [{ id }] = await sql<{ id: string }[]>`
      select net.http_post(
        ${`${functionsUrl}/health`},
        '{}'::jsonb,
        headers => jsonb_build_object('Content-Type', 'application/json', 'Authorization', integration.function_authorization('health', 'POST'))
      ) as id`;
    const response = await eventually(
      async () => {
        const [row] = await sql<{ status_code: number; content: string }[]>`
        select status_code, content from net._http_response where id = ${id}`;
        return row;
      },
      15_000,
      'the response row',
    );
    expect(response.status_code).toBe(200);
    expect(JSON.parse(response.content)).toMatchObject({ status: 'ok' });
  });

  it('refuses a body that is not JSON, as pg_net does', async () => {
    await expect(
      sql`select net.http_post(${url}, '{}'::jsonb, headers => '{"Content-Type": "text/plain"}'::jsonb)`,
    ).rejects.toThrow(/application\/json/);
  });
});

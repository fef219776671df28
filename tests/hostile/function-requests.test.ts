// Hostile requests to the edge functions: a huge body never reaches a function's memory, and a request
// token only opens the function and method it was minted for (once).
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { mintFunctionToken } from '../../src/shared/functions/auth.ts';
import { connect, functionAuthorization, servingWorker, stackEnv } from '../support/stack.ts';

const { functionsUrl, functionsSecret } = stackEnv();
const sql = connect(1);
afterAll(() => sql.end());

const MB = 1024 * 1024;
const HUGE = 200 * MB;

/** Resident memory of the process of the worker serving a function now, in bytes. */
async function functionRss(name: string): Promise<number> {
  const status = readFileSync(`/proc/${(await servingWorker(name)).pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

/**
 * Where the worker serving a function listens (the local edge runtime's own port for it). The huge
 * bodies go there rather than through the local gateway: the gateway drops the client's connection
 * when the function stops reading, sometimes before the answer reaches the client.
 */
async function functionPort(name: string): Promise<number> {
  return (await servingWorker(name)).port;
}

/**
 * POSTs a 200 MB body, generated on the fly from one 64 KB chunk (the test never holds it), with its
 * length declared or chunked, and stops sending as soon as the answer starts. Plain TCP, so that the
 * function closing the upload after answering (as servers do with a body they refuse) cannot hide
 * the answer from the test.
 */
function postHugeBody(
  port: number,
  path: string,
  headers: Record<string, string>,
  declareLength: boolean,
): Promise<{ status: number; body: string; sentBytes: number }> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const frame = declareLength
    ? chunk
    : Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    declareLength ? `Content-Length: ${HUGE}` : 'Transfer-Encoding: chunked',
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let received = '';
    let answered = false;
    const socket = net.connect(port, '127.0.0.1');
    const answer = () => {
      const split = received.indexOf('\r\n\r\n');
      if (split < 0) return undefined;
      const length = Number(/^content-length:\s*(\d+)/im.exec(received.slice(0, split))?.[1] ?? 0);
      const body = received.slice(split + 4);
      if (Buffer.byteLength(body) < length) return undefined;
      return { status: Number(received.split(' ')[1]), body, sentBytes };
    };
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      answered = true;
      received += text;
      const complete = answer();
      if (complete) {
        socket.destroy();
        resolve(complete);
      }
    });
    socket.on('error', (error) => {
      if (!answer()) reject(error);
    });
    socket.on('close', () => {
      const complete = answer();
      if (complete) resolve(complete);
      else reject(new Error(`the connection closed without an answer: ${JSON.stringify(received)}`));
    });
    const pump = () => {
      while (!answered && sentBytes < HUGE) {
        sentBytes += chunk.length;
        if (!socket.write(frame)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!answered && !declareLength) socket.write('0\r\n\r\n');
    };
    socket.write(head);
    // With its length declared, the body is refused from the headers alone: the first chunks follow a
    // moment later, so that the answer is not lost to the reset Deno's server (2.1.4) sends when it
    // closes a connection with unread data. Chunked, the first 64 KB chunk (over the 8 KB cap) goes at
    // once and the rest a moment later, for the same reason. A function that read the body would
    // still get all of it.
    if (!declareLength) {
      sentBytes += chunk.length;
      socket.write(frame);
    }
    setTimeout(pump, 300);
  });
}

// Every endpoint that takes a POST, with the credential it expects: the cap holds for callers who
// hold a valid token too.
const posts = [
  { function: 'health', path: '/health', token: true },
  { function: 'salto-sync', path: '/salto-sync', token: true },
  { function: 'salto-cleanup', path: '/salto-cleanup', token: true },
  { function: 'send-alerts', path: '/send-alerts', token: true },
  { function: 'send-alerts', path: '/send-alerts/act', token: false },
  { function: 'send-alerts', path: '/send-alerts/act/preview', token: false },
] as const;

describe('a huge request body never reaches a function', { timeout: 60_000 }, () => {
  for (const endpoint of posts) {
    for (const declareLength of [true, false]) {
      const how = declareLength ? 'with its length declared' : 'chunked, without a length';
      it(`POST ${endpoint.path} refuses a 200 MB body ${how} with 413 at once, without reading it`, async () => {
        const headers: Record<string, string> = {
          'Content-Type': endpoint.token ? 'application/json' : 'application/x-www-form-urlencoded',
        };
        if (endpoint.token) headers.Authorization = await functionAuthorization(endpoint.function);
        const before = await functionRss(endpoint.function);
        const started = Date.now();
        const answer = await postHugeBody(await functionPort(endpoint.function), endpoint.path, headers, declareLength);
        const took = Date.now() - started;
        const grown = (await functionRss(endpoint.function)) - before;

        expect(answer.status).toBe(413);
        expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(/larger than 8 KB/) });
        expect(took, 'answered in ms').toBeLessThan(5_000);
        expect(grown, `the function process grew by ${(grown / MB).toFixed(1)} MB`).toBeLessThan(8 * MB);
      });
    }
  }

  it('a body of a few KB still reaches the function', async () => {
    const response = await fetch(`${functionsUrl}/salto-cleanup`, {
      method: 'POST',
      headers: { Authorization: await functionAuthorization('salto-cleanup'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ building_ids: [randomUUID()], reason: 'x'.repeat(6_000) }),
    });
    expect(response.status).toBe(202);
  });
});

async function call(path: string, method: 'GET' | 'POST', authorization: string) {
  const response = await fetch(`${functionsUrl}${path}`, {
    method,
    headers: { Authorization: authorization, 'Content-Type': 'application/json' },
    body: method === 'POST' ? '{}' : undefined,
  });
  return { status: response.status, body: await response.text() };
}

describe('a request token opens only the function and method it was minted for', () => {
  it('a token minted for POST salto-sync is refused by salto-cleanup, send-alerts and GET salto-sync, and works once', async () => {
    const token = `Bearer ${await mintFunctionToken(functionsSecret, 'salto-sync', { method: 'POST' })}`;
    for (const [path, method] of [
      ['/salto-cleanup', 'POST'],
      ['/send-alerts', 'POST'],
      ['/health', 'POST'],
      ['/salto-sync', 'GET'],
    ] as const) {
      const refused = await call(path, method, token);
      expect(refused.status, `${method} ${path}`).toBe(401);
      expect(JSON.parse(refused.body).error).toMatch(/another function or method/);
    }
    expect((await call('/salto-sync', 'POST', token)).status).toBe(202);
    expect((await call('/salto-sync', 'POST', token)).status, 'the second use').toBe(401);
  });

  it("the database's token for POST send-alerts opens send-alerts only", async () => {
    const [row] = await sql<{ token: string }[]>`
      select integration.function_authorization('send-alerts', 'POST') as token`;
    expect(row!.token).toMatch(/^Bearer v2\./);
    expect((await call('/salto-sync', 'POST', row!.token)).status).toBe(401);
    expect((await call('/send-alerts', 'POST', row!.token)).status).toBe(202);
  });

  it('a token of the old, unbound kind (v1) is refused everywhere', async () => {
    const seconds = Math.floor(Date.now() / 1000);
    const nonce = randomUUID();
    const signature = createHmac('sha256', functionsSecret).update(`${seconds}.${nonce}`).digest('hex');
    const v1 = `Bearer v1.${seconds}.${nonce}.${signature}`;
    for (const path of ['/health', '/salto-sync', '/salto-cleanup', '/send-alerts']) {
      const refused = await call(path, 'POST', v1);
      expect(refused.status, path).toBe(401);
      expect(JSON.parse(refused.body).error, path).toMatch(/v1/);
    }
  });
});

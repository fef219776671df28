// The local edge runtime (local/edge-runtime.ts) is as strict as hosted Supabase's: HTML answers to GET
// arrive as plain text; a worker is killed at the CPU hard limit, retired at the soft limit (the next
// request gets a fresh worker), killed at the wall clock and memory limits; a retired worker finishes
// its background work first; functions run on the Deno the hosted edge runtime is built on. The
// limits are set low for a runtime of its own over a test-only function
// (tests/local-stack/edge-functions/limits), never deployed.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EdgeLimits, HOSTED_FREE_PLAN_LIMITS, startEdgeRuntime } from '../../local/edge-runtime.ts';
import { edgeRuntimeDeno } from '../../local/stack.ts';
import { eventually, functionAuthorization, stackEnv } from '../support/stack.ts';

interface WorkerInfo {
  id: number;
  functionName: string;
  state: string;
  cpuMs: number;
  endedBy: string | null;
  denoVersion: string | null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function runtimeWith(limits: EdgeLimits) {
  const port = await freePort();
  const lines: string[] = [];
  const runtime = startEdgeRuntime({
    port,
    functionsDir: join(import.meta.dirname, 'edge-functions'),
    deno: edgeRuntimeDeno(),
    limits,
    log: (line) => lines.push(line),
  });
  await runtime.listening;
  const base = `http://127.0.0.1:${port}`;
  const call = async (path: string, method = 'POST') => {
    const response = await fetch(`${base}/functions/v1/limits/${path}`, { method });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  };
  const workers = async () =>
    ((await (await fetch(`${base}/_runtime/workers`)).json()) as { workers: WorkerInfo[] }).workers;
  return { runtime, call, workers, lines };
}

const pinnedDeno = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  }
).devDependencies.deno;

describe('the local edge runtime', () => {
  // CPU limits low enough to reach in a test, far enough apart that 100 ms steps cross the soft one
  // without reaching the hard one.
  let rt: Awaited<ReturnType<typeof runtimeWith>>;
  beforeAll(async () => {
    rt = await runtimeWith({ wallClockMs: 60_000, cpuSoftMs: 300, cpuHardMs: 900, memoryMb: 64 });
  });
  afterAll(() => rt.runtime.close());

  it('runs functions on the Deno the hosted edge runtime is built on, 2.1.4', async () => {
    const { deno } = (await rt.call('version', 'GET')).json();
    expect(deno).toBe('2.1.4');
    expect(pinnedDeno).toBe('2.1.4');
  });

  it('rewrites a GET answer in HTML to plain text and drops cookies, as hosted does without a custom domain', async () => {
    const page = await rt.call('html', 'GET');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/plain');
    expect(page.headers.get('set-cookie')).toBeNull();
    expect(page.text).toContain('<p>Hello</p>');
    // Another method is not rewritten (hosted rewrites GET only); its cookie is dropped all the same.
    const posted = await rt.call('html', 'POST');
    expect(posted.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(posted.headers.get('set-cookie')).toBeNull();
  });

  it('kills a worker at the CPU hard limit, answering 546 WORKER_LIMIT; the next request gets a new worker', async () => {
    const before = (await rt.call('version', 'GET')).json().worker;
    // Computes for up to a minute of wall clock: far more CPU than the hard limit allows.
    const killed = await rt.call('spin?ms=60000');
    expect(killed.status).toBe(546);
    expect(killed.json()).toEqual({ code: 'WORKER_LIMIT', message: expect.any(String) });
    const dead = (await rt.workers()).filter((w) => w.endedBy === 'cpu time');
    expect(dead.length).toBeGreaterThan(0);
    expect(dead.at(-1)!.cpuMs).toBeGreaterThanOrEqual(900);
    expect(rt.lines.some((line) => line.includes('CPU time hard limit reached'))).toBe(true);
    const after = await rt.call('version', 'GET');
    expect(after.status).toBe(200);
    expect(after.json().worker).not.toBe(before);
  }, 120_000);

  it('retires a worker at the CPU soft limit: it answers what it was given, the next request gets a fresh worker', async () => {
    const first = (await rt.call('version', 'GET')).json().worker;
    let worker = first;
    const answers: number[] = [];
    // 100 ms of computing each (at most 100 ms of CPU): the soft limit is crossed, never the hard one.
    for (let i = 0; i < 200 && worker === first; i++) {
      const step = await rt.call('spin?ms=100');
      answers.push(step.status);
      worker = step.json().worker;
    }
    expect(worker).not.toBe(first);
    expect(answers.every((status) => status === 200)).toBe(true);
    const retired = await eventually(
      async () => (await rt.workers()).find((w) => w.endedBy === 'retired' && w.cpuMs >= 300),
      10_000,
      'the retired worker to exit',
    );
    expect(retired.cpuMs).toBeLessThan(900);
  }, 180_000);

  it('lets a retired worker finish its EdgeRuntime.waitUntil work before it exits', async () => {
    const first = (await rt.call('version', 'GET')).json().worker;
    expect((await rt.call('background?ms=1500')).status).toBe(200);
    // Push the worker over the soft limit while its background work waits.
    let worker = first;
    for (let i = 0; i < 200 && worker === first; i++) worker = (await rt.call('spin?ms=100')).json().worker;
    expect(worker).not.toBe(first);
    await eventually(
      async () => (rt.lines.some((line) => line.includes('background work done after 1500 ms')) ? true : undefined),
      15_000,
      'the background work of the retired worker',
    );
  }, 180_000);

  it('kills a worker over the memory limit with 546 WORKER_LIMIT', async () => {
    const hog = await rt.call('memory?mb=400');
    expect(hog.status).toBe(546);
    expect((await rt.workers()).some((w) => w.endedBy === 'memory')).toBe(true);
    expect((await rt.call('version', 'GET')).status).toBe(200);
  }, 120_000);
});

describe('the local edge runtime, wall clock', () => {
  let rt: Awaited<ReturnType<typeof runtimeWith>>;
  beforeAll(async () => {
    rt = await runtimeWith({ ...HOSTED_FREE_PLAN_LIMITS, wallClockMs: 8_000 });
  });
  afterAll(() => rt.runtime.close());

  it('retires a worker at half its wall clock and kills it at the limit, mid-request', async () => {
    const first = (await rt.call('version', 'GET')).json().worker;
    // Sleeps past the worker's whole wall clock: killed at the limit.
    const started = Date.now();
    const killed = await rt.call('sleep?ms=30000');
    expect(killed.status).toBe(546);
    expect(Date.now() - started).toBeLessThan(15_000);
    const workers = await rt.workers();
    expect(workers.find((w) => w.endedBy === 'wall clock')).toBeDefined();
    // Retired at half (4 s) already: the requests after that went to a fresh worker.
    const next = (await rt.call('version', 'GET')).json().worker;
    expect(next).not.toBe(first);
  }, 60_000);
});

describe('the stack serves its functions in the edge runtime', () => {
  it('with the hosted free plan limits and the pinned Deno', async () => {
    const { functionsUrl } = stackEnv();
    const runtimeUrl = new URL('/_runtime/workers', functionsUrl);
    const health = await fetch(`${functionsUrl}/health`, {
      headers: { authorization: await functionAuthorization('health', { method: 'GET' }) },
    });
    expect(health.status).toBe(200);
    const { limits, workers } = (await (await fetch(runtimeUrl)).json()) as {
      limits: EdgeLimits;
      workers: WorkerInfo[];
    };
    expect(limits).toEqual(HOSTED_FREE_PLAN_LIMITS);
    const healthWorker = workers.filter((w) => w.functionName === 'health').at(-1)!;
    expect(healthWorker.denoVersion).toBe(pinnedDeno);
  });
});

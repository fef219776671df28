// The local stand-in for Supabase's edge runtime and the API gateway in front of it. Requests to
// /functions/v1/<name>/... reach a worker serving <name> with the path /<name>/..., as hosted. Workers
// live and die as the edge runtime's per-worker policy has them (supabase/edge-runtime,
// crates/base/src/worker/supervisor/strategy_per_worker.rs, with the limits the Supabase CLI's
// `functions serve` gives each worker):
//   - a worker is created on the first request for its function and serves the requests after it,
//     concurrently, until it is retired; the next request then gets a fresh worker;
//   - CPU time accumulates over the worker's life: at the soft limit the worker is retired, at the
//     hard limit it is killed, whatever it is doing;
//   - wall clock, from the worker's creation: at half the limit it is retired, at the limit killed;
//   - memory: over the limit, killed;
//   - a retired worker finishes what it was given (its requests, its EdgeRuntime.waitUntil promises),
//     then exits ("early drop"); until then the hard limits still apply.
// A request whose worker is killed for a limit is answered 546 WORKER_LIMIT, one whose worker fails
// to boot 503 BOOT_ERROR, one whose worker dies otherwise 500 WORKER_ERROR, with the CLI's bodies.
// As hosted's relay, Set-Cookie headers are dropped and GET answers in HTML are rewritten to plain
// text (hosted serves HTML only on a custom domain): see hostedHeaders.
//
// Each worker is a process of the edge runtime's Deno (local/edge-worker.ts loading the function's
// index.ts) so that it can be killed at any instant; its CPU time is its main thread's (where Deno
// runs JavaScript and the event loop; the edge runtime likewise counts the worker's thread), read
// from /proc, from the moment it listens: booting here resolves npm packages and transpiles every
// module, which hosted does once, when the function is deployed and bundled. GET /_runtime/workers lists the workers (for tests and curious developers).
//
// Functions authenticate their callers themselves (verify_jwt = false in config.toml): the gateway
// only routes. Plain node:http, streaming both ways over kept-alive connections.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface EdgeLimits {
  wallClockMs: number;
  cpuSoftMs: number;
  cpuHardMs: number;
  memoryMb: number;
}

/** Hosted Supabase's free plan: 150 s wall clock, 256 MB; CPU as the CLI emulates it (1 s soft, 2 s hard). */
export const HOSTED_FREE_PLAN_LIMITS: EdgeLimits = {
  wallClockMs: 150_000,
  cpuSoftMs: 1_000,
  cpuHardMs: 2_000,
  memoryMb: 256,
};

const BOOT_TIMEOUT_MS = 60_000;
const CPU_POLL_MS = 20;
/** Linux counts thread CPU time in clock ticks of 10 ms (CLK_TCK = 100). */
const MS_PER_TICK = 10;
const MEMORY_LIMIT_EXIT = 86;

type EndReason = 'retired' | 'cpu time' | 'wall clock' | 'memory' | 'boot error' | 'crashed' | 'shutdown';

interface Worker {
  id: number;
  functionName: string;
  child: ChildProcess;
  port: number;
  startedAt: number;
  ready: Promise<void>;
  denoVersion?: string;
  state: 'booting' | 'serving' | 'retired' | 'gone';
  inFlight: number;
  requests: number;
  /** CPU time since the worker started listening. */
  cpuMs: number;
  /** CPU time its boot took (not counted: see below). */
  bootCpuMs?: number;
  endedBy?: EndReason;
  exited: Promise<void>;
  timers: NodeJS.Timeout[];
}

const limitBodies = {
  546: { code: 'WORKER_LIMIT', message: 'Worker failed to respond due to a resource limit (please check logs)' },
  503: { code: 'BOOT_ERROR', message: 'Worker failed to boot (please check logs)' },
  500: { code: 'WORKER_ERROR', message: 'Function exited due to an error (please check logs)' },
} as const;

function statusFor(reason: EndReason | undefined): 546 | 503 | 500 {
  if (reason === 'cpu time' || reason === 'wall clock' || reason === 'memory') return 546;
  if (reason === 'boot error') return 503;
  return 500;
}

/** A worker's main thread's CPU time so far, from /proc (undefined once it is gone). */
function mainThreadCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime): indexes 11 and 12 after the command name.
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

/**
 * The Deno executable itself: npm's `deno` command may be a Node script that starts it, and the CPU
 * time to count is the executable's.
 */
export function denoExecutable(deno: string): string {
  const found = spawnSync(deno, ['eval', 'console.log(Deno.execPath())'], {
    encoding: 'utf8',
    env: { ...process.env, DENO_CERT: process.env.DENO_CERT ?? '/etc/ssl/certs/ca-certificates.crt', NO_COLOR: '1' },
  });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) throw new Error(`Cannot run ${deno}: ${found.stderr.trim()}`);
  return path;
}

/**
 * Deno's arguments for one worker of a function: local/edge-worker.ts loads the function's entry
 * with the function's own deno.json, and Deno.serve() listens on EDGE_WORKER_PORT (set by the caller).
 */
export function edgeWorkerArgs(
  functionDir: string,
  { envFile, memoryMb }: { envFile?: string; memoryMb?: number } = {},
) {
  return [
    'run',
    '--allow-net',
    '--allow-env',
    '--allow-read',
    '--no-prompt',
    `--config=${join(functionDir, 'deno.json')}`,
    ...(envFile ? [`--env-file=${envFile}`] : []),
    ...(memoryMb ? [`--v8-flags=--max-old-space-size=${memoryMb}`] : []),
    join(import.meta.dirname, 'edge-worker.ts'),
    join(functionDir, 'index.ts'),
  ];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * What hosted's relay in front of the functions does to every answer (its code is Supabase's
 * functions-relay, the limit its Edge Functions docs describe): Set-Cookie headers are dropped, and a
 * GET answer whose Content-Type contains `text/html` gets exactly `text/plain` (the charset goes too;
 * hosted serves HTML only on a custom domain). Nothing else is added or changed.
 */
export function hostedHeaders(method: string | undefined, headers: http.IncomingHttpHeaders): http.IncomingHttpHeaders {
  const { 'set-cookie': _dropped, ...kept } = headers;
  const type = kept['content-type'];
  if (method === 'GET' && typeof type === 'string' && type.includes('text/html')) kept['content-type'] = 'text/plain';
  return kept;
}

export interface EdgeRuntimeOptions {
  port: number;
  functionsDir: string;
  /** The Deno the hosted edge runtime is built on. */
  deno: string;
  envFile?: string;
  limits: EdgeLimits;
  /** Where workers' output goes, line by line, prefixed with the worker. */
  log?: (line: string) => void;
}

export function startEdgeRuntime(options: EdgeRuntimeOptions) {
  const { limits, functionsDir } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const deno = denoExecutable(options.deno);
  const functionNames = () =>
    readdirSync(functionsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('_') && !d.name.startsWith('.'))
      .filter((d) => existsSync(join(functionsDir, d.name, 'index.ts')))
      .map((d) => d.name)
      .sort();
  const agent = new http.Agent({ keepAlive: true });
  const serving = new Map<string, Worker>();
  const workers: Worker[] = [];
  let nextId = 1;

  function end(worker: Worker, reason: EndReason) {
    if (worker.state === 'gone') return;
    worker.endedBy ??= reason;
    worker.child.kill('SIGKILL');
  }

  function retire(worker: Worker) {
    if (worker.state === 'retired' || worker.state === 'gone') return;
    worker.state = 'retired';
    if (serving.get(worker.functionName) === worker) serving.delete(worker.functionName);
    drainIfIdle(worker);
  }

  /** A retired worker with no request left in the gateway is told to finish its background work and exit. */
  function drainIfIdle(worker: Worker) {
    // (A worker still booting has no signal handler yet: it is told once it listens.)
    if (worker.state === 'retired' && worker.inFlight === 0 && worker.bootCpuMs !== undefined) {
      worker.child.kill('SIGUSR1');
    }
  }

  async function createWorker(functionName: string): Promise<Worker> {
    const port = await freePort();
    const dir = join(functionsDir, functionName);
    const args = edgeWorkerArgs(dir, { envFile: options.envFile, memoryMb: limits.memoryMb });
    const child = spawn(deno, args, {
      cwd: dir,
      env: {
        ...process.env,
        EDGE_WORKER_PORT: String(port),
        EDGE_WORKER_MEMORY_MB: String(limits.memoryMb),
        DENO_CERT: process.env.DENO_CERT ?? '/etc/ssl/certs/ca-certificates.crt',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const id = nextId++;
    let markReady!: () => void;
    let failBoot!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failBoot = reject;
    });
    ready.catch(() => {});
    let exited!: () => void;
    const worker: Worker = {
      id,
      functionName,
      child,
      port,
      startedAt: Date.now(),
      ready,
      state: 'booting',
      inFlight: 0,
      requests: 0,
      cpuMs: 0,
      exited: new Promise<void>((resolve) => (exited = resolve)),
      timers: [],
    };
    workers.push(worker);
    if (workers.length > 500) workers.splice(0, workers.length - 500);
    let outOfMemory = false;
    const prefix = `[${functionName}#${id}]`;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        const readyLine = /^EDGE_WORKER_READY (\S+)$/.exec(line);
        if (readyLine) {
          worker.denoVersion = readyLine[1];
          worker.bootCpuMs = mainThreadCpuMs(child.pid!) ?? 0;
          if (worker.state === 'booting') worker.state = 'serving';
          else drainIfIdle(worker);
          markReady();
          return;
        }
        if (/out of memory/i.test(line)) outOfMemory = true;
        log(`${prefix} ${line}`);
      });
    }

    const poll = setInterval(() => {
      const total = mainThreadCpuMs(child.pid!);
      if (total === undefined || worker.bootCpuMs === undefined) return;
      const cpu = total - worker.bootCpuMs;
      worker.cpuMs = cpu;
      if (cpu >= limits.cpuHardMs) {
        log(`${prefix} CPU time hard limit reached (${cpu} ms): killed`);
        end(worker, 'cpu time');
      } else if (cpu >= limits.cpuSoftMs && worker.state !== 'retired') {
        log(`${prefix} CPU time soft limit reached (${cpu} ms): retired`);
        retire(worker);
      }
    }, CPU_POLL_MS);
    worker.timers.push(
      poll,
      setTimeout(() => {
        log(`${prefix} wall clock duration warning: retired`);
        retire(worker);
      }, limits.wallClockMs / 2),
      setTimeout(() => {
        log(`${prefix} wall clock duration reached: killed`);
        end(worker, 'wall clock');
      }, limits.wallClockMs),
      setTimeout(() => {
        if (worker.state !== 'booting') return;
        log(`${prefix} did not boot within ${BOOT_TIMEOUT_MS} ms`);
        end(worker, 'boot error');
      }, BOOT_TIMEOUT_MS),
    );
    child.on('exit', (code, signal) => {
      const booting = worker.state === 'booting';
      for (const timer of worker.timers) clearTimeout(timer);
      worker.cpuMs = Math.max(worker.cpuMs, 0);
      if (!worker.endedBy) {
        if (code === MEMORY_LIMIT_EXIT || outOfMemory) worker.endedBy = 'memory';
        else if (booting) worker.endedBy = 'boot error';
        else if (worker.state === 'retired' && code === 0) worker.endedBy = 'retired';
        else worker.endedBy = 'crashed';
      }
      worker.state = 'gone';
      if (serving.get(functionName) === worker) serving.delete(functionName);
      log(`${prefix} ended (${worker.endedBy}; exit ${signal ?? code}; ${worker.cpuMs} ms CPU)`);
      failBoot(new Error(`worker ${prefix} ended while booting`));
      exited();
    });
    return worker;
  }

  /** The worker that serves the next request for a function: the current one, or a new one. */
  const creating = new Map<string, Promise<Worker>>();
  function workerFor(functionName: string): Promise<Worker> {
    const current = serving.get(functionName);
    if (current && (current.state === 'serving' || current.state === 'booting')) return Promise.resolve(current);
    let next = creating.get(functionName);
    if (!next) {
      next = createWorker(functionName).then((worker) => {
        creating.delete(functionName);
        if (worker.state !== 'gone') serving.set(functionName, worker);
        return worker;
      });
      creating.set(functionName, next);
    }
    return next;
  }

  function answer(response: http.ServerResponse, status: number, body: unknown) {
    if (response.headersSent) return void response.destroy();
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  async function proxy(
    functionName: string,
    request: http.IncomingMessage,
    response: http.ServerResponse,
    path: string,
  ) {
    const worker = await workerFor(functionName);
    try {
      await worker.ready;
    } catch {
      return answer(response, statusFor(worker.endedBy), limitBodies[statusFor(worker.endedBy)]);
    }
    if (worker.state !== 'serving') return proxy(functionName, request, response, path);
    worker.inFlight++;
    worker.requests++;
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      worker.inFlight--;
      drainIfIdle(worker);
    };
    response.once('close', finished);
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: worker.port,
        method: request.method,
        path,
        headers: { ...request.headers, host: `127.0.0.1:${worker.port}` },
        agent,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, hostedHeaders(request.method, reply.headers));
        reply.pipe(response);
        reply.once('error', () => response.destroy());
      },
    );
    upstream.on('error', async () => {
      // The worker died under the request: answer as the edge runtime does for the reason it died.
      await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 1000))]);
      const status = statusFor(worker.endedBy);
      answer(response, status, limitBodies[status]);
    });
    request.pipe(upstream);
  }

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://gateway');
    if (url.pathname === '/' && request.method === 'GET') return answer(response, 200, { functions: functionNames() });
    if (url.pathname === '/_runtime/workers' && request.method === 'GET') {
      return answer(response, 200, {
        limits,
        workers: workers.map(
          ({ id, functionName, child, port, state, cpuMs, requests, startedAt, endedBy, denoVersion }) => ({
            id,
            functionName,
            pid: child.pid,
            port,
            state,
            cpuMs,
            requests,
            startedAt: new Date(startedAt).toISOString(),
            endedBy: endedBy ?? null,
            denoVersion: denoVersion ?? null,
          }),
        ),
      });
    }
    const PREFIX = '/functions/v1/';
    if (!url.pathname.startsWith(PREFIX)) return answer(response, 404, { error: 'Not found' });
    const name = url.pathname.slice(PREFIX.length).split('/')[0]!;
    if (!functionNames().includes(name)) return answer(response, 404, { error: `No function named "${name}"` });
    proxy(name, request, response, url.pathname.slice('/functions/v1'.length) + url.search).catch((error: Error) => {
      log(`[${name}] ${error.message}`);
      answer(response, 500, limitBodies[500]);
    });
  });

  const listening = new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    listening,
    workers: () => workers,
    async close() {
      server.close();
      for (const worker of workers) end(worker, 'shutdown');
      await Promise.all(workers.map((w) => w.exited));
      agent.destroy();
    },
  };
}

export function limitsFromEnv(env: NodeJS.ProcessEnv): EdgeLimits {
  const number = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number`);
    return parsed;
  };
  const limits = {
    wallClockMs: number('EDGE_WALL_CLOCK_MS', HOSTED_FREE_PLAN_LIMITS.wallClockMs),
    cpuSoftMs: number('EDGE_CPU_SOFT_MS', HOSTED_FREE_PLAN_LIMITS.cpuSoftMs),
    cpuHardMs: number('EDGE_CPU_HARD_MS', HOSTED_FREE_PLAN_LIMITS.cpuHardMs),
    memoryMb: number('EDGE_MEMORY_MB', HOSTED_FREE_PLAN_LIMITS.memoryMb),
  };
  if (limits.cpuSoftMs > limits.cpuHardMs) throw new Error('EDGE_CPU_SOFT_MS must not exceed EDGE_CPU_HARD_MS');
  return limits;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runtime = startEdgeRuntime({
    port: Number(process.env.GATEWAY_PORT),
    functionsDir: process.env.FUNCTIONS_DIR!,
    deno: process.env.EDGE_DENO!,
    envFile: process.env.FUNCTIONS_ENV_FILE || undefined,
    limits: limitsFromEnv(process.env),
  });
  runtime.listening.then(() => {
    console.log(
      `edge runtime on http://127.0.0.1:${process.env.GATEWAY_PORT}/functions/v1/<name> (${JSON.stringify(limitsFromEnv(process.env))})`,
    );
  });
  const stop = () => void runtime.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

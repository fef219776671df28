// What integration tests need from the running local stack: its URLs (from .local/stack.env, written by
// `npm run stack up`) and a database connection as the postgres superuser.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import postgres from 'postgres';
import { freePort, paths } from '../../local/config.ts';
import { edgeWorkerArgs } from '../../local/edge-runtime.ts';
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

/** A worker of the local edge runtime (local/edge-runtime.ts, GET /_runtime/workers). */
export interface FunctionWorker {
  id: number;
  functionName: string;
  pid: number;
  port: number;
  state: 'booting' | 'serving' | 'retired' | 'gone';
  cpuMs: number;
  requests: number;
  endedBy: string | null;
  denoVersion: string | null;
}

/** The local edge runtime's workers, oldest first. */
export async function functionWorkers(functionName?: string): Promise<FunctionWorker[]> {
  const response = await fetch(new URL('/_runtime/workers', stackEnv().functionsUrl));
  const { workers } = (await response.json()) as { workers: FunctionWorker[] };
  return workers.filter((w) => functionName === undefined || w.functionName === functionName);
}

/** The workers of a function that ended otherwise than retired: crashed, or killed at a limit. */
export async function failedWorkerIds(functionName: string): Promise<number[]> {
  return (await functionWorkers(functionName))
    .filter((w) => w.state === 'gone' && w.endedBy !== 'retired' && w.endedBy !== 'shutdown')
    .map((w) => w.id);
}

/**
 * Kills every live worker of a function at once (SIGKILL), as a crash or a limit would, and returns
 * once the runtime has seen them die (until then it could still route a request to one).
 */
export async function killFunctionWorkers(functionName: string): Promise<number> {
  const alive = (await functionWorkers(functionName)).filter((w) => w.state !== 'gone');
  for (const worker of alive) process.kill(worker.pid, 'SIGKILL');
  const killed = new Set(alive.map((w) => w.id));
  await eventually(
    async () =>
      (await functionWorkers(functionName)).some((w) => killed.has(w.id) && w.state !== 'gone') ? undefined : true,
    10_000,
    `the ${functionName} workers killed`,
  );
  return alive.length;
}

/** The worker serving a function now (one is started by a first request if none is). */
export async function servingWorker(functionName: string): Promise<FunctionWorker> {
  const serving = (await functionWorkers(functionName)).filter((w) => w.state === 'serving').at(-1);
  if (serving) return serving;
  const reply = await fetch(`${stackEnv().functionsUrl}/${functionName}`);
  await reply.body?.cancel();
  return servingWorker(functionName);
}

/** A function started by hand (startFunctionWorker): where it listens, and how to stop it. */
export interface StartedFunction {
  /** http://127.0.0.1:<port>; the function answers at <url>/<name>. */
  url: string;
  stop: () => void;
}

/**
 * One function started by hand, outside the stack's edge runtime, as that runtime starts a worker
 * (local/edge-worker.ts: Deno.serve() listens on EDGE_WORKER_PORT), with exactly the environment
 * given (and the env file, if one is given). Resolves once it answers a request to /<name> (any
 * status) at `url`. Deno runs in a process group of its own (node_modules/.bin/deno is a wrapper
 * that starts Deno as its child): stop() kills the whole group.
 */
export async function startFunctionWorker(
  functionName: string,
  { env, envFile, timeoutMs = 90_000 }: { env: NodeJS.ProcessEnv; envFile?: string; timeoutMs?: number },
): Promise<StartedFunction> {
  const port = await freePort();
  const child = spawn(paths.bin('deno'), edgeWorkerArgs(join(paths.functionsDir, functionName), { envFile }), {
    env: { ...env, EDGE_WORKER_PORT: String(port), NO_COLOR: '1' },
    stdio: 'ignore',
    detached: true,
  });
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // the group has ended already
    }
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      async () => {
        try {
          await (await fetch(`${url}/${functionName}`)).body?.cancel();
          return true;
        } catch {
          return undefined; // not listening yet
        }
      },
      timeoutMs,
      `${functionName} started by hand to answer`,
    );
  } catch (error) {
    stop();
    throw error;
  }
  return { url, stop };
}

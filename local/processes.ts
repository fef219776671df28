// Background services of the local stack: started detached with a pid file and a log file each, so
// `up` can return, `status` can look, and `down` can stop exactly what `up` started, whoever asks.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths, repoRoot } from './config.ts';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Resolves once the service answers; rejects with a reason after the deadline. */
  ready: () => Promise<boolean>;
}

const pidFile = (name: string) => join(paths.pidsDir, `${name}.pid`);
export const logFile = (name: string) => join(paths.logsDir, `${name}.log`);

export function runningPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8'));
  return isAlive(pid) ? pid : undefined;
}

/** Running, and not a zombie waiting for a parent that is busy (say, in spawnSync) to reap it. */
function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export async function startService(spec: ServiceSpec, timeoutMs = 60_000) {
  if (runningPid(spec.name) && (await spec.ready())) return;
  await stopService(spec.name);
  mkdirSync(paths.pidsDir, { recursive: true });
  mkdirSync(paths.logsDir, { recursive: true });
  const log = openSync(logFile(spec.name), 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? repoRoot,
    env: { ...process.env, ...spec.env },
    // Its own process group, so `down` stops the service and everything it spawned.
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  writeFileSync(pidFile(spec.name), String(child.pid));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(child.pid!)) break;
    if (await spec.ready().catch(() => false)) return;
    await sleep(200);
  }
  const tail = readFileSync(logFile(spec.name), 'utf8').split('\n').slice(-20).join('\n');
  await stopService(spec.name);
  throw new Error(`${spec.name} did not become ready (log: ${logFile(spec.name)}):\n${tail}`);
}

export async function stopService(name: string) {
  const pid = runningPid(name);
  rmSync(pidFile(name), { force: true });
  if (!pid) return;
  signalGroup(pid, 'SIGTERM');
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function knownServices(): string[] {
  if (!existsSync(paths.pidsDir)) return [];
  return readdirSync(paths.pidsDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => f.slice(0, -'.pid'.length));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function httpOk(url: string, init?: RequestInit): Promise<boolean> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status < 500;
  } catch {
    return false;
  }
}

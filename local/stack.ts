// The local stack without Docker: `up`, `down`, `status`, and `start` (up, then keep running until
// interrupted). Replaces `supabase start` + `functions serve` on machines without a Docker engine:
// PostgreSQL 15 with the hosted-only parts stood in, the migrations applied by the Supabase CLI,
// every edge function served by Deno behind a /functions/v1 gateway, the pg_net dispatcher, the SALTO
// simulator. Idempotent: `up` on a running stack only fills in what is missing.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  actionPageUrl,
  functionsEnv,
  LOOPBACK,
  loadOrCreateSettings,
  paths,
  readEnvFile,
  readSettings,
  repoRoot,
  type StackSettings,
  stackEnv,
  supabaseUrl,
  writeEnvFile,
} from './config.ts';
import { step, warn } from './output.ts';
import {
  applyLocalOnlySql,
  applyMigrations,
  configureDemoSaltoServer,
  ensureCluster,
  ensureDebianPackages,
  ensurePgNetStandin,
  isPostgresRunning,
  lintDatabase,
  loadDemoData,
  loadStandins,
  stackCluster,
  startPostgres,
  stopPostgres,
  upsertVaultSecrets,
} from './postgres.ts';
import {
  httpOk,
  knownServices,
  logFile,
  runningPid,
  type ServiceSpec,
  startService,
  stopService,
} from './processes.ts';

/** Edge functions: every folder of supabase/functions with an index.ts, except _shared and friends. */
export function functionNames(): string[] {
  return readdirSync(paths.functionsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_') && !d.name.startsWith('.'))
    .filter((d) => existsSync(join(paths.functionsDir, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/** Ready once the service's log (of this start: the last line written) says `text`. */
const logSays = (name: string, text: string) => async () =>
  existsSync(logFile(name)) &&
  readFileSync(logFile(name), 'utf8').trimEnd().split('\n').at(-1)?.includes(text) === true;

function tsx(script: string) {
  return { command: paths.bin('tsx'), args: [join(repoRoot, script)] };
}

/**
 * The Deno executable functions run on locally: the edge runtime's (devDependency `deno`, pinned to
 * the version the hosted edge runtime is built on). EDGE_RUNTIME_DENO names another one, to try the
 * next edge runtime's Deno before moving the pin.
 */
export function edgeRuntimeDeno(): string {
  return process.env.EDGE_RUNTIME_DENO || paths.bin('deno');
}

/**
 * The Deno the hosted edge runtime is built on (the edge runtime's deno/Cargo.toml), pinned as the
 * devDependency `deno`: the local functions run and are type-checked on it, nothing newer.
 */
export function ensureEdgeRuntimeDeno() {
  const pinned = (
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  ).devDependencies.deno;
  const found = spawnSync(edgeRuntimeDeno(), ['--version'], { encoding: 'utf8', env: { ...process.env, ...denoEnv } });
  const version = /^deno (\S+)/.exec(found.stdout ?? '')?.[1];
  if (version !== pinned) {
    throw new Error(
      `The local edge runtime needs Deno ${pinned} (package.json), found ${version ?? 'none'} at ${edgeRuntimeDeno()}: run npm install.`,
    );
  }
}

/** The environment every local Deno needs: its own CA bundle does not know this machine's. */
export const denoEnv = { DENO_CERT: process.env.DENO_CERT ?? '/etc/ssl/certs/ca-certificates.crt', NO_COLOR: '1' };

function simulatorService(settings: StackSettings): ServiceSpec | undefined {
  if (!existsSync(join(repoRoot, 'src/simulator/main.ts'))) return undefined;
  return {
    name: 'salto-simulator',
    ...tsx('src/simulator/main.ts'),
    args: [
      join(repoRoot, 'src/simulator/main.ts'),
      `--http-port=${settings.saltoHttpPort}`,
      `--stp-port=${settings.saltoStpPort}`,
      '--auth=key',
      `--seed=${join(paths.demoDir, 'salto-site.json')}`,
    ],
    env: { SALTO_SIM_KEY: settings.saltoShipKey },
    ready: () => httpOk(`http://${LOOPBACK}:${settings.saltoHttpPort}/_simulator/state`),
  };
}

/** Names, sizes and modification times of every source file a service of the stack runs. */
function sourceFingerprint(): string {
  const hash = createHash('sha256');
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.(ts|tsx|json)$/.test(entry.name)) {
        const { size, mtimeMs } = statSync(path);
        hash.update(`${path}:${size}:${mtimeMs}\n`);
      }
    }
  };
  for (const dir of ['supabase/functions', 'src/shared', 'src/simulator', 'local']) visit(join(repoRoot, dir));
  return hash.digest('hex');
}

export async function up() {
  ensureDebianPackages();
  ensurePgNetStandin();
  const settings = await loadOrCreateSettings();
  const cluster = stackCluster(settings);
  ensureCluster(cluster);
  startPostgres(cluster);
  loadStandins(cluster);
  applyMigrations(cluster);
  applyLocalOnlySql(cluster);
  lintDatabase(cluster);
  upsertVaultSecrets(settings, {
    project_url: supabaseUrl(settings),
    functions_secret: settings.functionsSecret,
  });
  loadDemoData(settings);
  configureDemoSaltoServer(settings);

  writeEnvFile(
    paths.envFile,
    stackEnv(settings),
    "Written by `npm run stack up`: the local stack's URLs and ports. Source it or load it with dotenv.",
  );
  writeEnvFile(
    paths.functionsEnvFile,
    functionsEnv(settings),
    'The environment the local edge functions get (hosted Supabase sets these itself).',
  );

  // Services run the code they started with: after a change to it, `up` restarts them all.
  const fingerprint = sourceFingerprint();
  const fingerprintFile = join(paths.pidsDir, 'sources.fingerprint');
  if (existsSync(fingerprintFile) && readFileSync(fingerprintFile, 'utf8') !== fingerprint) {
    step('The code changed since the services started: restarting them');
    for (const name of knownServices()) await stopService(name);
  }
  mkdirSync(paths.pidsDir, { recursive: true });
  writeFileSync(fingerprintFile, fingerprint);

  const env = { SUPABASE_DB_URL: stackEnv(settings).SUPABASE_DB_URL };
  step('Starting the pg_net dispatcher');
  await startService({
    name: 'net-dispatcher',
    // PostgreSQL starts pg_net's background worker again 1 s after it exits (bgw_restart_time), a
    // crash included (say, its connection lost when PostgreSQL restarts): so does this loop.
    command: 'bash',
    args: [
      '-c',
      `while :; do "${paths.bin('tsx')}" "${join(repoRoot, 'local', 'net-dispatcher.ts')}"; echo "net dispatcher exited ($?); starting it again in 1 s"; sleep 1; done`,
    ],
    env,
    ready: logSays('net-dispatcher', 'net dispatcher:'),
  });

  const simulator = simulatorService(settings);
  if (simulator) {
    step('Starting the SALTO SHIP simulator');
    await startService(simulator);
  }

  step('Starting the mail capture (the local Resend)');
  await startService({
    name: 'mail-capture',
    ...tsx('local/mail-capture.ts'),
    env: {
      MAIL_CAPTURE_PORT: String(settings.mailPort),
      MAIL_CAPTURE_API_KEY: functionsEnv(settings).RESEND_API_KEY!,
      MAIL_CAPTURE_FILE: join(paths.stateDir, 'mail-capture.jsonl'),
    },
    ready: () => httpOk(`http://${LOOPBACK}:${settings.mailPort}/_capture/health`),
  });

  step('Serving the action page (what a static host or the connecX portal serves)');
  await startService({
    name: 'action-page',
    ...tsx('local/action-page-server.ts'),
    env: {
      ACTION_PAGE_PORT: String(settings.actionPagePort),
      // The mail capture stands in for connecX here: it shows the alerts the building received.
      ACTION_PAGE_CONFIG: JSON.stringify({
        functionsUrl: stackEnv(settings).FUNCTIONS_URL,
        portalUrl: stackEnv(settings).MAIL_CAPTURE_URL,
      }),
    },
    ready: () => httpOk(actionPageUrl(settings)),
  });

  ensureEdgeRuntimeDeno();
  step(`Serving edge functions in the local edge runtime: ${functionNames().join(', ')}`);
  const runtimeReady = () => httpOk(`${supabaseUrl(settings)}/`);
  if (!(runningPid('edge-runtime') && (await runtimeReady()) && (await functionsAnswer(settings)))) {
    await stopFunctions();
    await startService({
      name: 'edge-runtime',
      ...tsx('local/edge-runtime.ts'),
      env: {
        ...denoEnv,
        GATEWAY_PORT: String(settings.functionsPort),
        FUNCTIONS_DIR: paths.functionsDir,
        FUNCTIONS_ENV_FILE: paths.functionsEnvFile,
        EDGE_DENO: edgeRuntimeDeno(),
      },
      ready: runtimeReady,
    });
    // Each function's first worker boots now, not in the first test that calls it.
    if (!(await functionsAnswer(settings, 120_000)))
      throw new Error('The edge functions do not answer (.local/logs/edge-runtime.log)');
  }
  return settings;
}

/**
 * The running runtime serves exactly today's functions, and each answers (within `timeoutMs`: a
 * function whose worker was retired or killed boots a new one first).
 */
async function functionsAnswer(settings: StackSettings, timeoutMs = 30_000) {
  try {
    const response = await fetch(`${supabaseUrl(settings)}/`, { signal: AbortSignal.timeout(2000) });
    const { functions } = (await response.json()) as { functions: string[] };
    if (JSON.stringify([...functions].sort()) !== JSON.stringify(functionNames())) return false;
    // Each function answers through the gateway (401 without the secret, or a function's own 404 for
    // a GET it does not serve, is an answer; the runtime says 503 for a worker that cannot boot, 500
    // for one that died).
    const statuses = await Promise.all(
      functionNames().map(async (name) => {
        const reply = await fetch(`${supabaseUrl(settings)}/functions/v1/${name}`, {
          signal: AbortSignal.timeout(timeoutMs),
        });
        await reply.body?.cancel();
        return reply.status;
      }),
    );
    return statuses.every((status) => status < 500);
  } catch {
    return false;
  }
}

async function stopFunctions() {
  // (function-<name> and functions-gateway: the services of stacks started before the edge runtime.)
  const functionServices = (n: string) =>
    n.startsWith('function-') || n === 'functions-gateway' || n === 'edge-runtime';
  for (const name of knownServices().filter(functionServices)) {
    await stopService(name);
  }
}

export async function down() {
  for (const name of knownServices()) await stopService(name);
  stopPostgres();
}

export async function status() {
  const settings = readSettings();
  // A pid alone is not enough: a service whose port another process holds dies at once, and another
  // stack's server would answer in its place. Running means our process lives and its URL answers.
  const answers: Record<string, () => Promise<boolean>> = settings
    ? {
        'edge-runtime': () => functionsAnswer(settings),
        'action-page': () => httpOk(actionPageUrl(settings)),
        'functions-gateway': () => functionsAnswer(settings),
        'salto-simulator': () => httpOk(`http://${LOOPBACK}:${settings.saltoHttpPort}/_simulator/state`),
        'mail-capture': () => httpOk(`http://${LOOPBACK}:${settings.mailPort}/_capture/health`),
      }
    : {};
  const services = Object.fromEntries(
    await Promise.all(
      knownServices().map(async (name) => {
        if (!runningPid(name)) return [name, 'stopped'];
        const answer = answers[name];
        return [name, !answer || (await answer().catch(() => false)) ? 'running' : 'not answering'];
      }),
    ),
  ) as Record<string, string>;
  return {
    postgres: isPostgresRunning() ? 'running' : 'stopped',
    services,
    env: settings ? readEnvFile(paths.envFile) : {},
    envFile: paths.envFile,
  };
}

export function isUp(report: Awaited<ReturnType<typeof status>>) {
  return (
    report.postgres === 'running' &&
    Object.keys(report.services).length > 0 &&
    Object.values(report.services).every((s) => s === 'running')
  );
}

/**
 * `stack:status` in words, as `supabase status` prints it: every URL with the state of what serves
 * it, each service, where stack.env is. URLs of the env file not named here (a part added later) are
 * listed by their variable name, so none is left out.
 */
export function statusText(report: Awaited<ReturnType<typeof status>>): string {
  const { env } = report;
  const state = (...names: string[]) => {
    const states = names.map((n) => (n === 'postgres' ? report.postgres : (report.services[n] ?? 'stopped')));
    return states.every((s) => s === 'running') ? 'running' : 'NOT RUNNING';
  };
  // The edge runtime serves every function; stacks started before it ran one process per function.
  const runtime = 'edge-runtime' in report.services;
  const functions = runtime
    ? functionNames()
    : Object.keys(report.services)
        .filter((n) => n.startsWith('function-'))
        .map((n) => n.slice('function-'.length));
  const password = /^postgresql:\/\/[^:]+:([^@]+)@/.exec(env.DATABASE_URL ?? '')?.[1];
  const masked = (url: string) => (password ? url.replace(password, '<password in stack.env>') : url);
  const shown = new Set([
    'SUPABASE_URL',
    'SUPABASE_DB_URL',
    'DATABASE_URL',
    'FUNCTIONS_URL',
    'SALTO_SIMULATOR_HTTP_URL',
    'MAIL_CAPTURE_URL',
    'ALERT_PAGE_URL',
  ]);
  const rows: [string, string, string][] = [];
  if (env.DATABASE_URL) rows.push(['Database', masked(env.DATABASE_URL), state('postgres')]);
  if (env.FUNCTIONS_URL) {
    rows.push([
      'Edge functions',
      `${env.FUNCTIONS_URL}/<name>  (${functions.join(', ') || 'none started'})`,
      runtime ? state('edge-runtime') : state('functions-gateway', ...functions.map((f) => `function-${f}`)),
    ]);
  }
  if (env.SALTO_SIMULATOR_HTTP_URL) {
    const host = new URL(env.SALTO_SIMULATOR_HTTP_URL).hostname;
    rows.push(['SALTO simulator', `${env.SALTO_SIMULATOR_HTTP_URL} (SHIP over HTTP)`, state('salto-simulator')]);
    rows.push(['', `${env.SALTO_SIMULATOR_HTTP_URL}/_simulator/state (what SALTO holds now)`, '']);
    if (env.SALTO_SIMULATOR_STP_PORT)
      rows.push(['', `${host}:${env.SALTO_SIMULATOR_STP_PORT} (SHIP over TCP/STP)`, '']);
  }
  if (env.MAIL_CAPTURE_URL) rows.push(['Mail capture inbox', `${env.MAIL_CAPTURE_URL}/`, state('mail-capture')]);
  if (env.ALERT_PAGE_URL) rows.push(['Action page', env.ALERT_PAGE_URL, state('action-page')]);
  for (const [name, value] of Object.entries(env)) {
    if (!shown.has(name) && /_URL$/.test(name)) rows.push([name, masked(value), '']);
  }
  rows.push(['pg_net dispatcher', "(sends the database's HTTP requests)", state('net-dispatcher')]);
  const down = [
    ...(report.postgres === 'running' ? [] : ['postgres']),
    ...Object.entries(report.services)
      .filter(([, s]) => s !== 'running')
      .map(([n, s]) => `${n} (${s})`),
  ];
  const lines = [
    isUp(report)
      ? 'The local stack is running.'
      : Object.keys(report.services).length === 0
        ? 'The local stack is not running: `npm run stack:up` (or `npm start`) starts it.'
        : `The local stack is NOT running completely: ${down.join(', ')}. \`npm run stack:up\` starts what is missing.`,
    ...rows.map(([what, where, running]) => `  ${what.padEnd(20)}${where}${running ? `   [${running}]` : ''}`),
    `  ${'URLs and secrets'.padEnd(20)}${report.envFile} (source it, or load it with dotenv)`,
    `  ${'Logs'.padEnd(20)}${paths.logsDir}/`,
  ];
  return `${lines.join('\n')}\n`;
}

function printWhere(settings: StackSettings) {
  const env = stackEnv(settings);
  const masked = (url: string) => url.replace(settings.dbPassword, '<password in .local/stack.env>');
  const lines = [
    '',
    'The local stack is up.',
    `  Database            ${masked(env.DATABASE_URL!)}`,
    `  Edge functions      ${env.FUNCTIONS_URL}/<name>   (${functionNames().join(', ')})`,
    `  SALTO simulator     ${env.SALTO_SIMULATOR_HTTP_URL} (SHIP over HTTP), port ${env.SALTO_SIMULATOR_STP_PORT} (SHIP over TCP/STP)`,
    `  Mail capture        ${env.MAIL_CAPTURE_URL} (alert emails, as the local Resend received them)`,
    `  Action page         ${env.ALERT_PAGE_URL} (opened by the action links in alert emails)`,
    `  Every URL and port  .local/stack.env (source it, or load it with dotenv)`,
    `  Logs                .local/logs/`,
    '',
    'The demo building, Harbour View Residences (Sydney), is loaded and wired to the simulator. Try:',
    '  npm run demo                      a narrated walk through bookings, a double booking, a Zone ID change, the nightly cleanup',
    '  npx connecx-salto status          each building: SALTO reachable, pending work, failed bookings, last cleanup',
    `  psql "$(grep DATABASE_URL .local/stack.env | cut -d'"' -f2)"   then: insert into bookings ... ; select * from booking_access_states;`,
    `  ${env.SALTO_SIMULATOR_HTTP_URL}/_simulator/state   what SALTO holds now`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(command = 'status', flags: string[]) {
  switch (command) {
    case 'up': {
      const settings = await up();
      printWhere(settings);
      return;
    }
    case 'down':
      await down();
      step('The local stack is stopped.');
      return;
    case 'status': {
      const report = await status();
      if (flags.includes('--json')) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      } else {
        process.stdout.write(statusText(report));
      }
      process.exitCode = isUp(report) ? 0 : 3;
      return;
    }
    case 'start': {
      const settings = await up();
      printWhere(settings);
      process.stdout.write('Running. Press Ctrl+C to stop the stack.\n');
      // Stay in the foreground (a pending promise alone would let Node exit), watching the services.
      const reported = new Set<string>();
      const watch = setInterval(async () => {
        const report = await status();
        for (const [name, state] of Object.entries({ postgres: report.postgres, ...report.services })) {
          if (state !== 'running' && !reported.has(name)) {
            reported.add(name);
            warn(`${name} stopped; see .local/logs/. \`npm run stack:up\` in another terminal restarts it.`);
          }
        }
      }, 5000);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(watch);
      step('Stopping the local stack');
      await down();
      return;
    }
    default:
      throw new Error(`Unknown command "${command}". Use: up | down | status [--json] | start`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, ...flags] = process.argv.slice(2);
  main(command, flags).catch((error: Error) => {
    warn(error.message);
    process.exit(1);
  });
}

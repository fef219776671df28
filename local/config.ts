// Where the local stack keeps its state, and the one env file it writes for tests, scripts and people.
// Everything lives under .local/ in the checkout (git-ignored), so `down` plus `rm -rf .local` is a
// complete reset and two checkouts never share a cluster.
import { spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'dotenv';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const stateDir = join(repoRoot, '.local');

/**
 * As root the cluster runs as the `postgres` user, who must be able to reach it. When the checkout
 * sits below a folder that user cannot enter, the cluster goes to PostgreSQL's own home instead
 * (one per checkout, named after its path).
 */
function postgresHome(): string {
  const inCheckout = join(stateDir, 'postgres');
  if (process.getuid?.() !== 0) return inCheckout;
  const reachable = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', repoRoot]).status === 0;
  if (reachable) return inCheckout;
  const id = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
  return join('/var/lib/postgresql', `connecx-salto-${id}`);
}

const postgresDir = postgresHome();
export const paths = {
  stateDir,
  postgresDir,
  dataDir: join(postgresDir, 'data'),
  socketDir: join(postgresDir, 'run'),
  postgresLog: join(postgresDir, 'postgres.log'),
  logsDir: join(stateDir, 'logs'),
  pidsDir: join(stateDir, 'run'),
  stackJson: join(stateDir, 'stack.json'),
  envFile: join(stateDir, 'stack.env'),
  functionsEnvFile: join(stateDir, 'functions.env'),
  functionsDir: join(repoRoot, 'supabase', 'functions'),
  migrationsDir: join(repoRoot, 'supabase', 'migrations'),
  standinsDir: join(repoRoot, 'local', 'standins'),
  demoDir: join(repoRoot, 'local', 'demo'),
  bin: (name: string) => join(repoRoot, 'node_modules', '.bin', name),
};

export const LOOPBACK = '127.0.0.1';

/** Ports and secrets chosen on the first `up`, kept so URLs stay stable across restarts. */
export interface StackSettings {
  dbPort: number;
  dbPassword: string;
  functionsPort: number;
  saltoHttpPort: number;
  saltoStpPort: number;
  saltoShipKey: string;
  mailPort: number;
  /** The action page's host (local/action-page-server.ts); added later, so older stack.json files lack it. */
  actionPagePort: number;
  /** Shared secret the database (via Vault) and pg_cron present to the edge functions. */
  functionsSecret: string;
}

// Preferred ports: away from the Supabase CLI's Docker defaults (5432x), so `supabase ... --db-url`
// never mistakes this cluster for its own container database.
const preferredPorts = {
  dbPort: 55432,
  functionsPort: 55421,
  saltoHttpPort: 55480,
  saltoStpPort: 55465,
  mailPort: 55425,
  actionPagePort: 55426,
} as const;

const secret = () => randomBytes(24).toString('base64url');

export async function loadOrCreateSettings(): Promise<StackSettings> {
  const taken = new Set<number>();
  const pick = async (preferred: number) => {
    const port = (await isPortFree(preferred)) && !taken.has(preferred) ? preferred : await freePort();
    taken.add(port);
    return port;
  };
  if (existsSync(paths.stackJson)) {
    const kept = JSON.parse(readFileSync(paths.stackJson, 'utf8')) as StackSettings;
    if (kept.actionPagePort) return kept;
    // A stack.json from before the action page: add its port, keep everything else.
    for (const port of [kept.dbPort, kept.functionsPort, kept.saltoHttpPort, kept.saltoStpPort, kept.mailPort])
      taken.add(port);
    const settings = { ...kept, actionPagePort: await pick(preferredPorts.actionPagePort) };
    writeFileSync(paths.stackJson, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
    return settings;
  }
  const settings: StackSettings = {
    dbPort: await pick(preferredPorts.dbPort),
    dbPassword: secret(),
    functionsPort: await pick(preferredPorts.functionsPort),
    saltoHttpPort: await pick(preferredPorts.saltoHttpPort),
    saltoStpPort: await pick(preferredPorts.saltoStpPort),
    saltoShipKey: secret(),
    mailPort: await pick(preferredPorts.mailPort),
    actionPagePort: await pick(preferredPorts.actionPagePort),
    functionsSecret: secret(),
  };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(paths.stackJson, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  return settings;
}

export function readSettings(): StackSettings | undefined {
  return existsSync(paths.stackJson) ? (JSON.parse(readFileSync(paths.stackJson, 'utf8')) as StackSettings) : undefined;
}

export const databaseUrl = (s: Pick<StackSettings, 'dbPort' | 'dbPassword'>) =>
  `postgresql://postgres:${encodeURIComponent(s.dbPassword)}@${LOOPBACK}:${s.dbPort}/postgres?sslmode=disable`;

export const supabaseUrl = (s: StackSettings) => `http://${LOOPBACK}:${s.functionsPort}`;

/** The variables everything outside the stack reads (tests, scripts, people with `source`). */
export function stackEnv(s: StackSettings): Record<string, string> {
  return {
    SUPABASE_URL: supabaseUrl(s),
    SUPABASE_DB_URL: databaseUrl(s),
    DATABASE_URL: databaseUrl(s),
    FUNCTIONS_URL: `${supabaseUrl(s)}/functions/v1`,
    FUNCTIONS_SECRET: s.functionsSecret,
    SALTO_SIMULATOR_HTTP_URL: `http://${LOOPBACK}:${s.saltoHttpPort}`,
    SALTO_SIMULATOR_STP_PORT: String(s.saltoStpPort),
    SALTO_SHIP_KEY: s.saltoShipKey,
    MAIL_CAPTURE_URL: `http://${LOOPBACK}:${s.mailPort}`,
    ALERT_PAGE_URL: actionPageUrl(s),
  };
}

/** Where the local stack serves the action page (action-page/): ALERT_PAGE_URL. */
export const actionPageUrl = (s: StackSettings) => `http://${LOOPBACK}:${s.actionPagePort}/`;

/** Per-machine secrets derived from the function secret, so stack.json keeps its shape. */
export const derivedSecret = (s: StackSettings, purpose: string) =>
  createHmac('sha256', s.functionsSecret).update(purpose).digest('base64url');

/** The environment hosted Supabase gives every edge function, plus this project's function secrets. */
export function functionsEnv(s: StackSettings): Record<string, string> {
  return {
    SUPABASE_URL: supabaseUrl(s),
    SUPABASE_DB_URL: databaseUrl(s),
    FUNCTIONS_SECRET: s.functionsSecret,
    // Alert emails go to the local mail capture (local/mail-capture.ts), which speaks Resend's API.
    RESEND_API_KEY: `re_local_${derivedSecret(s, 'resend-api-key')}`,
    RESEND_BASE_URL: `http://${LOOPBACK}:${s.mailPort}`,
    ALERT_FROM: 'connecX alerts <alerts@connecx.local>',
    ALERT_LINK_SECRET: derivedSecret(s, 'alert-link-secret'),
    ALERT_PAGE_URL: actionPageUrl(s),
  };
}

export function writeEnvFile(file: string, env: Record<string, string>, header: string) {
  const body = Object.entries(env)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(file, `# ${header}\n${body}\n`, { mode: 0o600 });
}

export function readEnvFile(file: string): Record<string, string> {
  return existsSync(file) ? parse(readFileSync(file)) : {};
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, LOOPBACK, () => server.close(() => done(true)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

// The local PostgreSQL 15 cluster: Debian's server with pg_cron, pgTAP and plpgsql_check, inside the
// checkout. Hosted-only parts (auth, Vault, pg_net) are loaded from local/standins before the
// migrations, which are applied by the pinned Supabase CLI exactly as they would be to a hosted project;
// what only the local stack has (the movable test clock) from local/standins/after-migrations after them.
import { execFileSync, type SpawnSyncOptions, spawn, spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseUrl, LOOPBACK, paths, repoRoot, type StackSettings } from './config.ts';
import { step } from './output.ts';

const pgBin = '/usr/lib/postgresql/15/bin';
const debianPackages = [
  'postgresql-15',
  'postgresql-15-cron',
  'postgresql-15-pgtap',
  'postgresql-15-plpgsql-check',
  'libtap-parser-sourcehandler-pgtap-perl', // pg_prove
  'chromium', // headless, for the alert emails' screenshots (tests/alerts/screenshots.test.ts)
  // pg_net's own tests, run against the pg_net stand-in (local/pg-net-upstream-tests.ts)
  'python3-pytest',
  'python3-sqlalchemy',
  'python3-psycopg2',
];

const isRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root; as root the cluster is owned and run by the `postgres` user. */
function asClusterOwner(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return spawnSync(cmd, argv, { encoding: 'utf8', ...options });
}

export function missingDebianPackages(): string[] {
  return debianPackages.filter((name) => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Status} is dpkg-query's format syntax, not JavaScript's
    const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return result.status !== 0 || !result.stdout.includes('install ok installed');
  });
}

export function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (!isRoot()) {
    throw new Error(`Missing Debian packages: ${missing.join(', ')}.\nInstall them with:\n  sudo sh -c '${command}'`);
  }
  step(`Installing Debian packages: ${missing.join(', ')}`);
  execFileSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${command}`], { stdio: 'inherit' });
}

/** Installs the pg_net stand-in as a real (SQL-only) extension, so migrations can `create extension pg_net`. */
export function ensurePgNetStandin() {
  const shareDir = execFileSync(join(pgBin, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).trim();
  const target = join(shareDir, 'extension');
  const source = join(paths.standinsDir, 'pg_net');
  // The extension's files (its control file and SQL scripts); not pg_net's vendored tests beside them.
  const stale = readdirSync(source).filter(
    (file) =>
      /\.(control|sql)$/.test(file) &&
      (!existsSync(join(target, file)) || !readFileSync(join(target, file)).equals(readFileSync(join(source, file)))),
  );
  if (stale.length === 0) return;
  if (!isRoot()) {
    throw new Error(
      `The pg_net stand-in is not installed in ${target}.\nInstall it with:\n  sudo cp ${source}/*.control ${source}/*.sql ${target}/`,
    );
  }
  for (const file of stale) copyFileSync(join(source, file), join(target, file));
}

/** Where a cluster lives and how it is reached: the stack's own, or a scratch one (local/scratch-cluster.ts). */
export interface Cluster {
  dir: string;
  dataDir: string;
  socketDir: string;
  log: string;
  port: number;
  password: string;
}

export const stackCluster = (settings: StackSettings): Cluster => ({
  dir: paths.postgresDir,
  dataDir: paths.dataDir,
  socketDir: paths.socketDir,
  log: paths.postgresLog,
  port: settings.dbPort,
  password: settings.dbPassword,
});

/** Progress is told for the stack's own cluster; scratch clusters are built quietly. */
function stepFor(cluster: Pick<Cluster, 'dir'>, message: string) {
  if (cluster.dir === paths.postgresDir) step(message);
}

function clusterConfig(cluster: Cluster) {
  return `
# Written by local/postgres.ts for the local stack.
listen_addresses = '${LOOPBACK}'
port = ${cluster.port}
unix_socket_directories = '${cluster.socketDir}'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
# Jobs run in background workers, so pg_cron needs no password to connect to the cluster.
cron.use_background_workers = on
max_worker_processes = 32
timezone = 'UTC'
log_timezone = 'UTC'
# pg_net's settings at its defaults (read by local/net-dispatcher.ts, pg_net's worker locally), so that
# they exist for ALTER SYSTEM as they do where pg_net is loaded.
pg_net.batch_size = 200
pg_net.ttl = '6 hours'
log_min_messages = warning
`;
}

export function ensureCluster(cluster: Cluster) {
  mkdirSync(cluster.socketDir, { recursive: true });
  const owned = [cluster.dir, cluster.socketDir];
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    for (const dir of owned) chownSync(dir, uid, gid);
  }
  if (existsSync(join(cluster.dataDir, 'PG_VERSION'))) return;
  stepFor(cluster, `Creating the PostgreSQL 15 cluster in ${cluster.dir}`);
  const pwfile = join(cluster.dir, 'initdb-password');
  writeFileSync(pwfile, cluster.password + '\n', { mode: 0o600 });
  if (isRoot()) chownSync(pwfile, postgresUser().uid, postgresUser().gid);
  const result = asClusterOwner(join(pgBin, 'initdb'), [
    '-D',
    cluster.dataDir,
    '-U',
    'postgres',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    // The socket lives in the cluster's own directory: trusted locally for the stack's own tools;
    // TCP (what everything else uses) needs the password.
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
  ]);
  spawnSync('rm', ['-f', pwfile]);
  if (result.status !== 0) throw new Error(`initdb failed:\n${result.stderr || result.stdout}`);
  const conf = join(cluster.dataDir, 'postgresql.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8') + clusterConfig(cluster));
}

function postgresUser() {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('The postgres OS user does not exist; is postgresql-15 installed?');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export function isPostgresRunning(cluster: Pick<Cluster, 'dataDir'> = paths): boolean {
  if (!existsSync(join(cluster.dataDir, 'PG_VERSION'))) return false;
  return asClusterOwner(join(pgBin, 'pg_ctl'), ['-D', cluster.dataDir, 'status']).status === 0;
}

/**
 * The connection slots of the smallest hosted compute (Nano and Micro: 60 direct connections), of
 * which PostgreSQL keeps superuser_reserved_connections (3, its default and hosted's) for superusers:
 * hosted, `postgres` is not one, so this project gets 57. Given at every start, so that a cluster made
 * before the limit existed has it too.
 */
export const hostedConnectionLimits = { max_connections: 60, superuser_reserved_connections: 3 };

export function startPostgres(cluster: Cluster) {
  if (isPostgresRunning(cluster)) return;
  stepFor(cluster, 'Starting PostgreSQL');
  const result = asClusterOwner(join(pgBin, 'pg_ctl'), [
    '-D',
    cluster.dataDir,
    '-o',
    Object.entries(hostedConnectionLimits)
      .map(([name, value]) => `-c ${name}=${value}`)
      .join(' '),
    '-l',
    cluster.log,
    '-w',
    '-t',
    '60',
    'start',
  ]);
  if (result.status !== 0) {
    throw new Error(`PostgreSQL did not start (see ${cluster.log}):\n${result.stderr || result.stdout}`);
  }
}

export function stopPostgres(cluster: Pick<Cluster, 'dataDir'> = paths) {
  if (!isPostgresRunning(cluster)) return;
  asClusterOwner(join(pgBin, 'pg_ctl'), ['-D', cluster.dataDir, '-m', 'fast', '-w', 'stop']);
}

/**
 * stopPostgres without blocking the event loop, for a process that must keep answering while it waits
 * (tsx kills a script that does not acknowledge a repeated Ctrl+C within 30 ms).
 */
export function stopPostgresAsync(cluster: Pick<Cluster, 'dataDir'>): Promise<void> {
  const args = ['-D', cluster.dataDir, '-m', 'fast', '-w', 'stop'];
  const [cmd, argv] = isRoot()
    ? ['runuser', ['-u', 'postgres', '--', join(pgBin, 'pg_ctl'), ...args]]
    : [join(pgBin, 'pg_ctl'), args];
  return new Promise((resolve) => spawn(cmd, argv, { stdio: 'ignore' }).once('exit', () => resolve()));
}

/** Runs SQL through psql on the cluster's socket, stopping at the first error. */
export function psql(
  sql: { file: string } | { command: string },
  cluster: Pick<Cluster, 'socketDir' | 'port'>,
  extraArgs: string[] = [],
) {
  const args = [
    ...extraArgs,
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    cluster.socketDir,
    '-p',
    String(cluster.port),
    '-U',
    'postgres',
    '-d',
    'postgres',
  ];
  args.push(...('file' in sql ? ['-f', sql.file] : ['-c', sql.command]));
  const result = spawnSync('psql', args, { encoding: 'utf8' });
  if (result.status !== 0) {
    const what = 'file' in sql ? sql.file : sql.command.slice(0, 80);
    throw new Error(`psql failed on ${what}:\n${result.stderr}`);
  }
  return result.stdout;
}

export function loadStandins(cluster: Cluster) {
  stepFor(cluster, 'Loading the local stand-ins for hosted Supabase (auth, roles, Vault, pg_net)');
  for (const file of readdirSync(paths.standinsDir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    psql({ file: join(paths.standinsDir, file) }, cluster);
  }
}

/**
 * What only the local stack's own database gets, after the migrations and on every start (each file
 * may be applied again): local/standins/after-migrations/*.sql, such as the clock tests and the demo
 * move forward. Also loaded into the pgTAP suites' own database (local/pgtap.ts), never into the
 * scratch clusters that compare supabase/schemas and supabase/migrations, which are compared as
 * deployed; never part of either.
 */
export function applyLocalOnlySql(cluster: Cluster) {
  const dir = join(paths.standinsDir, 'after-migrations');
  if (!existsSync(dir)) return;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  if (files.length > 0) stepFor(cluster, `Applying the local-only SQL after the migrations: ${files.join(', ')}`);
  for (const file of files) psql({ file: join(dir, file) }, cluster);
}

export const clusterUrl = (cluster: Cluster) => databaseUrl({ dbPort: cluster.port, dbPassword: cluster.password });

function supabaseCli(args: string[], cluster: Cluster) {
  const result = spawnSync(paths.bin('supabase'), [...args, '--db-url', clusterUrl(cluster)], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  // The CLI prints the connection string on some errors: never let the password reach a log.
  const output = `${result.stdout}${result.stderr}`.replaceAll(cluster.password, '***');
  if (result.status !== 0) throw new Error(`supabase ${args.join(' ')} failed:\n${output}`);
  return output;
}

export function applyMigrations(cluster: Cluster) {
  stepFor(cluster, 'Applying supabase/migrations with `supabase migration up`');
  supabaseCli(['migration', 'up', '--include-all'], cluster);
  // A cluster made before the pg_net stand-in's current version gets its update scripts.
  psql(
    {
      command: `do $$ begin if exists (select from pg_extension where extname = 'pg_net') then alter extension pg_net update; end if; end $$`,
    },
    cluster,
  );
}

export function lintDatabase(cluster: Cluster) {
  stepFor(cluster, 'Linting the database with `supabase db lint`');
  return supabaseCli(['db', 'lint', '--level', 'warning', '--fail-on', 'warning'], cluster);
}

/** Local values of the Vault secrets the migrations read (hosted: set once per project, see README). */
export function upsertVaultSecrets(settings: StackSettings, secrets: Record<string, string>) {
  writeVaultSecrets(stackCluster(settings), secrets);
}

/** Creates or updates Vault secrets in a cluster (the stack's, or the pgTAP suites' own). */
export function writeVaultSecrets(cluster: Cluster, secrets: Record<string, string>) {
  for (const [name, value] of Object.entries(secrets)) {
    psql(
      {
        command: `select case when exists (select from vault.secrets where name = ${literal(name)})
          then (select vault.update_secret(id, ${literal(value)}) from vault.secrets where name = ${literal(name)})::text
          else vault.create_secret(${literal(value)}, ${literal(name)})::text end`,
      },
      cluster,
    );
  }
}

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

export function loadDemoData(settings: StackSettings) {
  const seed = join(paths.demoDir, 'seed.sql');
  if (!existsSync(seed)) return;
  step('Loading the demo building (local/demo/seed.sql)');
  psql({ file: seed }, stackCluster(settings));
}

export const DEMO_BUILDING_ID = '10000000-0000-4000-8000-000000000001';

/**
 * Points the demo building at the stack's SALTO simulator, the way an operator configures a real
 * building: an integration.salto_servers row, and the SHIP key in Vault.
 */
export function configureDemoSaltoServer(settings: StackSettings) {
  upsertVaultSecrets(settings, { 'salto_ship_key:demo': settings.saltoShipKey });
  psql(
    {
      // The demo building writes its simulator live; a new real server would start in shadow mode.
      command: `insert into integration.salto_servers (building_id, transport, host, port, auth_mode, credential_secret_name, writes)
        select id, 'http', '${LOOPBACK}', ${settings.saltoHttpPort}, 'key', 'salto_ship_key:demo', 'live'
        from public.buildings where id = '${DEMO_BUILDING_ID}'
        on conflict (building_id) do update set transport = excluded.transport, host = excluded.host, port = excluded.port,
          auth_mode = excluded.auth_mode, credential_secret_name = excluded.credential_secret_name`,
    },
    stackCluster(settings),
  );
}

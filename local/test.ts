// `npm test`: every check and test of the project against the real local stack.
// Brings the stack up if it is not running (and takes it down again afterwards, leaving no stray
// process), then runs: the TypeScript type check, `deno check` of every edge function, the vitest suites,
// the pgTAP suites (pg_prove) and the demo. Ends with one line "N passed, N failed" over all test cases.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { paths, readEnvFile, repoRoot } from './config.ts';
import { step, warn } from './output.ts';
import { down, functionNames, isUp, status, up } from './stack.ts';

interface Outcome {
  name: string;
  passed: number;
  failed: number;
}

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
  return result.status ?? 1;
}

function typecheck(): Outcome {
  step('Type-checking TypeScript (tsc) and every edge function (deno check)');
  let failed = run(paths.bin('tsc'), ['-p', 'tsconfig.json']) === 0 ? 0 : 1;
  for (const name of functionNames()) {
    const dir = join(paths.functionsDir, name);
    if (run(paths.bin('deno'), ['check', '--quiet', `--config=${join(dir, 'deno.json')}`, join(dir, 'index.ts')]) !== 0)
      failed++;
  }
  return { name: 'type checks', passed: functionNames().length + 1 - failed, failed };
}

function vitest(env: Record<string, string>): Outcome {
  step('Running the vitest suites');
  const report = join(paths.stateDir, 'vitest-report.json');
  rmSync(report, { force: true });
  const code = run(
    paths.bin('vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile=${report}`],
    env,
  );
  if (!existsSync(report)) return { name: 'vitest', passed: 0, failed: 1 };
  const json = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number };
  // A suite that fails to load counts as a failure even when no test case failed.
  return {
    name: 'vitest',
    passed: json.numPassedTests,
    failed: json.numFailedTests + (code !== 0 && json.numFailedTests === 0 ? 1 : 0),
  };
}

function pgtap(env: Record<string, string>): Outcome {
  const dir = join(repoRoot, 'supabase', 'tests', 'database');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.test.sql'))
        .sort()
        .map((f) => join(dir, f))
    : [];
  if (files.length === 0) return { name: 'pgTAP', passed: 0, failed: 0 };
  step('Running the pgTAP suites (pg_prove)');
  const url = env.DATABASE_URL!;
  const helpers = join(repoRoot, 'supabase', 'tests', 'helpers.sql');
  if (existsSync(helpers) && run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-f', helpers]) !== 0) {
    return { name: 'pgTAP', passed: 0, failed: 1 };
  }
  // pg_prove hands --dbname to psql as a plain name, so the connection goes through libpq's variables.
  const { hostname, port, username, password, pathname } = new URL(url);
  const pgEnv = {
    PGHOST: hostname,
    PGPORT: port,
    PGUSER: decodeURIComponent(username),
    PGPASSWORD: decodeURIComponent(password),
    PGDATABASE: pathname.slice(1),
    PGSSLMODE: 'disable',
  };
  const result = spawnSync('pg_prove', files, { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...pgEnv } });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  const total = Number(/Tests=(\d+)/.exec(result.stdout)?.[1] ?? 0);
  const failed = [...result.stdout.matchAll(/Failed (\d+)\/\d+ subtests/g)].reduce((n, m) => n + Number(m[1]), 0);
  const failedOverall = result.status !== 0 && failed === 0 ? 1 : failed;
  return { name: 'pgTAP', passed: total - failed, failed: failedOverall };
}

/** The narrated demo (npm run demo) must pass too: it is what a new user runs first. */
function demo(): Outcome {
  step('Running the demo (npm run demo)');
  const passed = run(paths.bin('tsx'), [join(repoRoot, 'local', 'demo', 'run.ts')]) === 0;
  return { name: 'demo', passed: passed ? 1 : 0, failed: passed ? 0 : 1 };
}

async function main() {
  const startedHere = !isUp(await status());
  const stop = async () => {
    if (startedHere) {
      step('Stopping the local stack the tests started');
      await down();
    }
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    if (startedHere) {
      step('The local stack is not running: bringing it up for the tests');
      await up();
    }
    const env = readEnvFile(paths.envFile);
    const outcomes = [typecheck(), vitest(env), pgtap(env), demo()];
    const passed = outcomes.reduce((n, o) => n + o.passed, 0);
    const failed = outcomes.reduce((n, o) => n + o.failed, 0);
    for (const o of outcomes) step(`${o.name}: ${o.passed} passed, ${o.failed} failed`);
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
    process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

main().catch(async (error: Error) => {
  warn(error.message);
  process.exitCode = 1;
});

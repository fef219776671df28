// `npm run stack:status` prints every URL of the running stack, as `supabase status` does, and its exit
// code says whether everything runs.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUp, type status, statusText } from '../../local/stack.ts';
import { stackEnv } from '../support/stack.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

describe('stack:status', () => {
  it('prints the database, functions, simulator and mail capture URLs and where stack.env is; exit 0', () => {
    const run = spawnSync(join(repoRoot, 'node_modules/.bin/tsx'), ['local/stack.ts', 'status'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const env = stackEnv();
    const database = new URL(env.databaseUrl);
    expect(run.stdout).toContain('The local stack is running.');
    expect(run.stdout).toContain(`postgresql://postgres:<password in stack.env>@${database.host}/postgres`);
    expect(run.stdout).not.toContain(decodeURIComponent(database.password));
    expect(run.stdout).toContain(`${env.functionsUrl}/<name>`);
    expect(run.stdout).toContain(`${env.saltoSimulatorUrl} (SHIP over HTTP)`);
    expect(run.stdout).toMatch(/127\.0\.0\.1:\d+ \(SHIP over TCP\/STP\)/);
    expect(run.stdout).toMatch(/Mail capture inbox +http:\/\/127\.0\.0\.1:\d+\//);
    expect(run.stdout).toContain(join(repoRoot, '.local', 'stack.env'));
    expect(run.stdout).not.toContain('NOT RUNNING');
  }, 90_000);

  it('names what is not running, and the exit code is not 0 then', () => {
    const report: Awaited<ReturnType<typeof status>> = {
      postgres: 'running',
      services: {
        'net-dispatcher': 'running',
        'functions-gateway': 'not answering',
        'function-salto-sync': 'stopped',
        'mail-capture': 'running',
      },
      env: {
        DATABASE_URL: 'postgresql://postgres:s3cret@127.0.0.1:5555/postgres',
        FUNCTIONS_URL: 'http://127.0.0.1:5556/functions/v1',
        MAIL_CAPTURE_URL: 'http://127.0.0.1:5557',
        CONFIRM_PAGE_URL: 'http://127.0.0.1:5558',
      },
      envFile: '/somewhere/.local/stack.env',
    };
    expect(isUp(report)).toBe(false);
    const text = statusText(report);
    expect(text).toContain('NOT running completely: functions-gateway (not answering), function-salto-sync (stopped)');
    expect(text).toMatch(
      /Edge functions +http:\/\/127\.0\.0\.1:5556\/functions\/v1\/<name> +\(salto-sync\) +\[NOT RUNNING\]/,
    );
    expect(text).toContain('CONFIRM_PAGE_URL'); // a URL added to stack.env later is listed too
    expect(text).not.toContain('s3cret');
  });
});

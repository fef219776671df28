// `connecx-salto doctor --deploy` against the local stack (deployed as the README's steps say: every
// check passes, exit 0) and against a database deployed only as far as `db push` (no Vault secrets:
// each is named with its fix, exit 1); and a send-alerts missing its secrets answers which, by name,
// which the doctor passes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../local/postgres.ts';
import { withScratchCluster } from '../../local/scratch-cluster.ts';
import { deployDoctor } from '../../src/operator/deploy-doctor.ts';
import { connect, type StartedFunction, stackEnv, startFunctionWorker } from '../support/stack.ts';
import { connecxSalto } from './run-cli.ts';

const sql = connect(2);
const { databaseUrl } = stackEnv();
/** A hand-started function's environment: what hosted Supabase sets (and Deno needs here), no more. */
const hostedOnly = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  DENO_DIR: process.env.DENO_DIR,
  DENO_CERT: process.env.DENO_CERT,
  SUPABASE_URL: 'http://127.0.0.1:1',
  SUPABASE_DB_URL: databaseUrl,
};

afterAll(async () => {
  await sql.end();
});

describe('doctor --deploy', { timeout: 240_000 }, () => {
  it('passes against the local stack, deployed as the README says', async () => {
    const run = await connecxSalto(['doctor', '--deploy', '--json'], { DATABASE_URL: databaseUrl });
    const report = JSON.parse(run.stdout) as { checks: { ok: boolean; what: string }[] };
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.what)).toEqual(
      expect.arrayContaining([
        'Vault secret project_url exists',
        'pg_cron job salto-sync-every-minute is scheduled and active',
        'function send-alerts has every secret it needs',
        "functions_secret in Vault matches the functions' FUNCTIONS_SECRET",
      ]),
    );
    expect(run.code).toBe(0);
  });

  it('names each missing Vault secret with its fix, and exits 1, when only db push was done', async () => {
    await withScratchCluster('deploy-doctor', async (cluster) => {
      applyMigrations(cluster);
      const run = await connecxSalto(['doctor', '--deploy'], { DATABASE_URL: cluster.url });
      expect(run.stdout).toMatch(/ok {7}all \d+ migrations are applied/);
      expect(run.stdout).toContain('ok       pg_cron job send-alerts-every-minute is scheduled and active');
      expect(run.stdout).toContain(
        "MISSING  Vault secret project_url is missing: the database cannot wake the functions [step 3. Vault secrets]. Fix: select vault.create_secret('https://<ref>.supabase.co', 'project_url');",
      );
      expect(run.stdout).toContain('MISSING  Vault secret functions_secret is missing');
      expect(run.stdout).toContain('the functions were not checked');
      expect(run.code).toBe(1);
    });
  });
});

describe('send-alerts without its secrets', { timeout: 120_000 }, () => {
  let worker: StartedFunction | undefined;
  let workerUrl = '';

  beforeAll(async () => {
    // Only what hosted Supabase sets and FUNCTIONS_SECRET: the README's old deploy steps.
    worker = await startFunctionWorker('send-alerts', {
      env: { ...hostedOnly, FUNCTIONS_SECRET: stackEnv().functionsSecret },
    });
    workerUrl = worker.url;
  });

  afterAll(() => worker?.stop());

  it('answers every request 503, naming the missing secrets and no value', async () => {
    const response = await fetch(`${workerUrl}/send-alerts/act/preview`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"token": "x"}',
    });
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: string; missing: string[] };
    expect(body.missing.sort()).toEqual(['ALERT_FROM', 'ALERT_LINK_SECRET', 'ALERT_PAGE_URL', 'RESEND_API_KEY']);
    expect(body.error).toContain('send-alerts is not configured');
    expect(JSON.stringify(body)).not.toContain(stackEnv().functionsSecret);
  });

  it('doctor --deploy reports it, with the names to set', async () => {
    // The project as deployed, but with this send-alerts in place of the stack's.
    const viaThisSendAlerts: typeof fetch = (input, init) => {
      const url = String(input);
      const rerouted = url.replace(/^.*\/functions\/v1\/send-alerts/, `${workerUrl}/send-alerts`);
      return fetch(rerouted, init);
    };
    const report = await deployDoctor(sql, viaThisSendAlerts);
    const problems = report.checks.filter((c) => !c.ok);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.what).toBe(
      'function send-alerts is not configured: it lacks RESEND_API_KEY, ALERT_FROM, ALERT_LINK_SECRET, ALERT_PAGE_URL',
    );
    expect(problems[0]!.fix).toContain('npx supabase secrets set RESEND_API_KEY=... ALERT_FROM=...');
  });
});

describe('health without FUNCTIONS_SECRET', { timeout: 120_000 }, () => {
  let worker: StartedFunction | undefined;
  let workerUrl = '';

  beforeAll(async () => {
    worker = await startFunctionWorker('health', { env: hostedOnly });
    workerUrl = worker.url;
  });

  afterAll(() => worker?.stop());

  it('answers 503 naming FUNCTIONS_SECRET for itself and every function, and the doctor says so', async () => {
    const response = await fetch(`${workerUrl}/health`);
    const body = (await response.json()) as { missing: string[]; missingSecrets: Record<string, string[]> };
    expect(body.missing).toEqual(['FUNCTIONS_SECRET']);
    expect(body.missingSecrets['salto-sync']).toEqual(['FUNCTIONS_SECRET']);

    const viaThisHealth: typeof fetch = (input, init) =>
      fetch(String(input).replace(/^.*\/functions\/v1\/health/, `${workerUrl}/health`), init);
    const report = await deployDoctor(sql, viaThisHealth);
    const problems = report.checks.filter((c) => !c.ok).map((c) => c.what);
    expect(problems).toContain('function salto-sync lacks the secret(s) FUNCTIONS_SECRET');
    expect(report.checks.map((c) => c.what)).not.toContain(
      "functions_secret in Vault matches the functions' FUNCTIONS_SECRET",
    );
  });
});

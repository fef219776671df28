/**
 * `connecx-salto doctor --deploy`: is this project deployed as the README's "Deploying to a hosted
 * Supabase project" says? Checks what the project itself can show, step by step:
 *
 * 1. migrations: every file of supabase/migrations is recorded in supabase_migrations.schema_migrations;
 * 2. extensions pg_cron and pg_net, and the pg_cron jobs the migrations schedule, active;
 * 3. the Vault secrets project_url and functions_secret (names only: values are never read but
 *    project_url's, which is an address);
 * 4. the functions, called at project_url as the database calls them: each is deployed and starts;
 *    health, called with a token the database mints, proves functions_secret matches FUNCTIONS_SECRET
 *    and names the function secrets the project lacks (names only; function secrets are project-wide).
 *    A send-alerts without its secrets answers 503 naming them.
 *
 * A building's SALTO server and SHIP key are checked per building: `doctor --building`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import { functionSecrets } from '../shared/functions/function-secrets.ts';
import { ExitCode } from './errors.ts';

export interface DeployCheck {
  /** The README's deploy step it checks. */
  step: string;
  ok: boolean;
  what: string;
  /** How to put it right; absent when ok. */
  fix?: string;
}

export interface DeployReport {
  projectUrl: string | null;
  checks: DeployCheck[];
}

/** The pg_cron jobs supabase/schemas/90_function_calls_and_cron.sql schedules. */
export const expectedCronJobs = [
  'salto-sync-every-minute',
  'salto-nightly-cleanup',
  'send-alerts-every-minute',
  'purge-cron-history-daily',
];
export const expectedVaultSecrets = ['project_url', 'functions_secret'];

const migrationsDir = join(import.meta.dirname, '..', '..', 'supabase', 'migrations');

function localMigrations(): string[] {
  return readdirSync(migrationsDir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((f) => f.split('_')[0]!)
    .sort();
}

async function checkMigrations(sql: Sql): Promise<DeployCheck> {
  const step = '1. db push';
  const [table] = await sql<{ exists: boolean }[]>`
    select to_regclass('supabase_migrations.schema_migrations') is not null as exists`;
  const applied = table!.exists
    ? new Set(
        (await sql<{ version: string }[]>`select version from supabase_migrations.schema_migrations`).map(
          (r) => r.version,
        ),
      )
    : new Set<string>();
  const missing = localMigrations().filter((v) => !applied.has(v));
  return missing.length === 0
    ? { step, ok: true, what: `all ${applied.size} migrations are applied` }
    : {
        step,
        ok: false,
        what: `${missing.length} migration(s) of supabase/migrations are not applied (first: ${missing[0]})`,
        fix: 'npx supabase link --project-ref <ref> && npx supabase db push',
      };
}

async function checkExtensionsAndJobs(sql: Sql): Promise<DeployCheck[]> {
  const step = '1. db push';
  const checks: DeployCheck[] = [];
  const extensions = new Set(
    (await sql<{ extname: string }[]>`select extname from pg_extension where extname in ('pg_cron', 'pg_net')`).map(
      (r) => r.extname,
    ),
  );
  for (const name of ['pg_cron', 'pg_net']) {
    checks.push(
      extensions.has(name)
        ? { step, ok: true, what: `extension ${name} is installed` }
        : {
            step,
            ok: false,
            what: `extension ${name} is not installed`,
            fix: 'npx supabase db push (the migrations create it; on hosted Supabase enable it under Database > Extensions if the push says it cannot)',
          },
    );
  }
  if (!extensions.has('pg_cron')) return checks;
  const jobs = new Map(
    (await sql<{ jobname: string; active: boolean }[]>`select jobname, active from cron.job`).map((r) => [
      r.jobname,
      r.active,
    ]),
  );
  for (const name of expectedCronJobs) {
    const active = jobs.get(name);
    checks.push(
      active === true
        ? { step, ok: true, what: `pg_cron job ${name} is scheduled and active` }
        : active === false
          ? {
              step,
              ok: false,
              what: `pg_cron job ${name} is scheduled but inactive`,
              fix: `select cron.alter_job((select jobid from cron.job where jobname = '${name}'), active => true);`,
            }
          : {
              step,
              ok: false,
              what: `pg_cron job ${name} is not scheduled`,
              fix: 'npx supabase db push (the migrations schedule it)',
            },
    );
  }
  return checks;
}

async function checkVault(sql: Sql): Promise<{ checks: DeployCheck[]; projectUrl: string | null }> {
  const step = '3. Vault secrets';
  const [vault] = await sql<{ exists: boolean }[]>`select to_regclass('vault.secrets') is not null as exists`;
  if (!vault!.exists) {
    return {
      projectUrl: null,
      checks: [
        {
          step,
          ok: false,
          what: 'Supabase Vault (schema vault) is missing',
          fix: 'hosted projects have it; enable the supabase_vault extension',
        },
      ],
    };
  }
  const present = new Set(
    (await sql<{ name: string }[]>`select name from vault.secrets where name in ${sql(expectedVaultSecrets)}`).map(
      (r) => r.name,
    ),
  );
  const checks = expectedVaultSecrets.map(
    (name): DeployCheck =>
      present.has(name)
        ? { step, ok: true, what: `Vault secret ${name} exists` }
        : {
            step,
            ok: false,
            what: `Vault secret ${name} is missing: the database cannot wake the functions`,
            fix:
              name === 'project_url'
                ? "select vault.create_secret('https://<ref>.supabase.co', 'project_url');"
                : "select vault.create_secret('<the same value as the FUNCTIONS_SECRET function secret>', 'functions_secret');",
          },
  );
  // The project's address is not a secret: the functions are called there.
  const [url] = present.has('project_url')
    ? await sql<
        { value: string }[]
      >`select decrypted_secret as value from vault.decrypted_secrets where name = 'project_url'`
    : [];
  return { checks, projectUrl: url?.value ?? null };
}

type Fetch = typeof fetch;

async function call(fetcher: Fetch, url: string, init: RequestInit) {
  try {
    const response = await fetcher(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    return { status: response.status, body, text };
  } catch (error) {
    return { status: 0, body: undefined, text: (error as Error).message };
  }
}

async function checkFunctions(sql: Sql, projectUrl: string, fetcher: Fetch): Promise<DeployCheck[]> {
  const base = `${projectUrl.replace(/\/+$/, '')}/functions/v1`;
  const checks: DeployCheck[] = [];
  const deploy = (name: string) => `npx supabase functions deploy ${name} --no-verify-jwt`;

  // Deployed and started: a POST without a token is refused (401) by a running function.
  for (const name of Object.keys(functionSecrets).filter((n) => n !== 'health')) {
    const step = '4. functions deploy';
    const answer = await call(fetcher, `${base}/${name}`, { method: 'POST' });
    if (answer.status === 401) checks.push({ step, ok: true, what: `function ${name} is deployed and answers` });
    else if (answer.status === 0)
      checks.push({
        step,
        ok: false,
        what: `function ${name} cannot be reached at ${base}/${name}: ${answer.text}`,
        fix: "check the Vault secret project_url (the project's https://<ref>.supabase.co address)",
      });
    else if (answer.status === 404)
      checks.push({ step, ok: false, what: `function ${name} is not deployed`, fix: deploy(name) });
    else if (Array.isArray(answer.body?.missing))
      checks.push({
        step: '2. function secrets',
        ok: false,
        what: `function ${name} is not configured: it lacks ${(answer.body.missing as string[]).join(', ')}`,
        fix: `npx supabase secrets set ${(answer.body.missing as string[]).map((n) => `${n}=...`).join(' ')} (see README "Function secrets"), then ${deploy(name)}`,
      });
    else
      checks.push({
        step,
        ok: false,
        what: `function ${name} answers ${answer.status} instead of refusing a call without a token: it may fail to start (${answer.text.slice(0, 200)})`,
        fix: `see the function's logs in the dashboard; ${deploy(name)}`,
      });
  }

  // health, with a token the database mints: proves the two copies of the function secret agree.
  const step = '2. function secrets';
  const [token] = await sql<{ authorization: string }[]>`
    select integration.function_authorization('health', 'GET') as authorization`;
  const health = await call(fetcher, `${base}/health`, {
    method: 'GET',
    headers: { Authorization: token!.authorization },
  });
  if (health.status === 404) {
    checks.push({
      step: '4. functions deploy',
      ok: false,
      what: 'function health is not deployed',
      fix: deploy('health'),
    });
  } else if (health.status === 401) {
    checks.push({
      step,
      ok: false,
      what: "the functions refuse the database's token: the Vault secret functions_secret differs from the FUNCTIONS_SECRET function secret (or the clocks differ by more than 5 minutes)",
      fix: 'set both to one value: npx supabase secrets set FUNCTIONS_SECRET=<value> and vault.update_secret for functions_secret',
    });
  } else if (health.body && typeof health.body.missingSecrets === 'object' && health.body.missingSecrets) {
    // 200: the token was accepted. 503 with the names: health could not check it (no FUNCTIONS_SECRET).
    if (health.status === 200)
      checks.push({ step, ok: true, what: "functions_secret in Vault matches the functions' FUNCTIONS_SECRET" });
    else if (!Array.isArray(health.body.missing))
      checks.push({
        step: '4. functions deploy',
        ok: false,
        what: `function health answers ${health.status}: ${JSON.stringify(health.body.database ?? health.body).slice(0, 200)}`,
        fix: "the functions cannot reach the database (SUPABASE_DB_URL, set by Supabase): see the function's logs",
      });
    for (const [fn, missing] of Object.entries(health.body.missingSecrets as Record<string, string[]>)) {
      checks.push(
        missing.length === 0
          ? { step, ok: true, what: `function ${fn} has every secret it needs` }
          : {
              step,
              ok: false,
              what: `function ${fn} lacks the secret(s) ${missing.join(', ')}`,
              fix: `npx supabase secrets set ${missing.map((n) => `${n}=...`).join(' ')} (see README "Function secrets")`,
            },
      );
    }
  } else if (health.status === 0) {
    checks.push({
      step,
      ok: false,
      what: `function health cannot be reached: ${health.text}`,
      fix: 'check the Vault secret project_url',
    });
  } else {
    checks.push({
      step,
      ok: false,
      what: `function health answers ${health.status} without naming missing secrets: it is older than this checkout, or fails to start (${health.text.slice(0, 200)})`,
      fix: `${deploy('health')}; if it still fails, npx supabase secrets set FUNCTIONS_SECRET=<value>`,
    });
  }
  return checks;
}

export async function deployDoctor(sql: Sql, fetcher: Fetch = fetch): Promise<DeployReport> {
  const checks: DeployCheck[] = [await checkMigrations(sql), ...(await checkExtensionsAndJobs(sql))];
  const vault = await checkVault(sql);
  checks.push(...vault.checks);
  const canMint =
    vault.projectUrl !== null &&
    vault.checks.every((c) => c.ok) &&
    (
      await sql<{ exists: boolean }[]>`
      select to_regprocedure('integration.function_authorization(text, text)') is not null as exists`
    )[0]!.exists;
  if (canMint) checks.push(...(await checkFunctions(sql, vault.projectUrl!, fetcher)));
  else
    checks.push({
      step: '4. functions deploy',
      ok: false,
      what: 'the functions were not checked: the database cannot call them until the steps above are done',
      fix: 'do the steps above, then run doctor --deploy again',
    });
  return { projectUrl: vault.projectUrl, checks };
}

export function deployDoctorExitCode(report: DeployReport): ExitCode {
  return report.checks.every((c) => c.ok) ? ExitCode.ok : ExitCode.problem;
}

export function formatDeployDoctor(report: DeployReport): string {
  const lines = [`Deployment of the project at ${report.projectUrl ?? '(no project_url in Vault)'}`];
  for (const c of report.checks) {
    lines.push(c.ok ? `  ok       ${c.what}` : `  MISSING  ${c.what} [step ${c.step}]. Fix: ${c.fix}`);
  }
  const missing = report.checks.filter((c) => !c.ok).length;
  lines.push(
    missing ? `${missing} thing(s) to do before the project works.` : 'Everything the README deploys is in place.',
  );
  return `${lines.join('\n')}\n`;
}

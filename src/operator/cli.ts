/**
 * The operator command line: `npx connecx-salto <status|doctor|resync> [options]`.
 *
 * Connects to the database named by --db-url, DATABASE_URL or SUPABASE_DB_URL (hosted: the project's
 * direct connection string), else to the local stack (.local/stack.env). Results for people on stdout,
 * or as JSON with --json; errors on stderr (one JSON object under --json). Exit codes: ExitCode in
 * errors.ts, listed by --help.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import type { Sql } from 'postgres';
import { closest, firstWord, type OptionSpecs, readCommandLine } from './args.ts';
// Types only: the commands (SALTO client, sync store, postgres) are loaded when a command runs, so
// that help and usage errors answer at once.
import type { BuildingStatus, DoctorReport, ResyncOutcome, SaltoStatus } from './commands.ts';
import { CliError, type DatabaseSource, type DatabaseTarget, databaseError, ExitCode, usageError } from './errors.ts';

const load = () => import('./commands.ts');
const loadPlan = () => import('./plan.ts');
const loadTraffic = () => import('./traffic.ts');

const program = 'npx connecx-salto';
const repositoryRoot = join(import.meta.dirname, '..', '..');

export interface Output {
  write(text: string): unknown;
}
interface Io {
  stdout: Output;
  stderr: Output;
}

const globalOptions: OptionSpecs = {
  json: {
    type: 'boolean',
    description: 'results as JSON on stdout; an error as {"error": {"code", "message"}} on stderr',
  },
  'db-url': {
    type: 'string',
    value: '<url>',
    description: 'the database (default: DATABASE_URL, SUPABASE_DB_URL, else the local stack)',
  },
  help: { type: 'boolean', short: 'h', description: 'this help' },
  version: { type: 'boolean', description: 'the version of connecx-salto' },
};

const exitCodes = `Exit codes:
  0  done, and nothing needs attention
  1  a problem was found (status, doctor, resync --wait), or the command could not finish
  2  the command line is wrong: unknown command or option, missing or bad value, unknown building,
     booking or apartment
  3  the database, or a building's SALTO server, cannot be reached`;

interface Context {
  io: Io;
  json: boolean;
  values: Record<string, string | boolean | undefined>;
  /** The database, connected on first use. */
  sql: () => Sql;
}

interface Command {
  summary: string;
  synopsis: string;
  description: string;
  options: OptionSpecs;
  exitCodes: string;
  examples: string[];
  run(context: Context): Promise<ExitCode>;
}

const buildingOption = (description: string) => ({
  type: 'string' as const,
  value: '<name or id>',
  description,
});

const commands: Record<string, Command> = {
  status: {
    summary: 'how each building is doing: SALTO reachable, pending and failed work, last nightly cleanup',
    synopsis: 'status [--building <name or id>]',
    description:
      'Per building: whether its SALTO server answers (if not: why, and the fix), the access levels waiting\nto be written and the last error, the last nightly cleanup, and the bookings that have not ended whose\naccess could not be written, with their reasons.',
    options: { building: buildingOption('only this building: its name (any case) or its id') },
    exitCodes: `Exit codes:
  0  every building shown is fine
  1  a building needs attention: failed bookings, access level work retrying after an error, a SALTO
     server that refuses (credentials) or none configured
  2  the command line is wrong (unknown building: the message lists similar names)
  3  a building's SALTO server cannot be reached (the report is printed all the same), or the database`,
    examples: [`${program} status`, `${program} status --building "Harbour View Residences" --json`],
    async run({ io, json, values, sql }) {
      const { buildingStatus, resolveBuilding, statusExitCode } = await load();
      const building = values.building ? await resolveBuilding(sql(), values.building as string) : undefined;
      const report = await buildingStatus(sql(), building?.id);
      if (json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else io.stdout.write(report.length ? formatStatus(report) : 'No buildings yet.\n');
      return statusExitCode(report);
    },
  },
  doctor: {
    summary:
      "checks a building's SALTO connection and IDs against SALTO; --deploy: what the project's deployment lacks",
    synopsis: 'doctor (--building <name or id> | --deploy)',
    description:
      "Checks that the building's SALTO server answers, and that SALTO knows every facility's Zone ID\n(Access Control Facility ID) and every apartment's Access Control ID. One line per problem, with\nthe fix for its cause and where to make it (portal screen, Studio table and column).\n\nWith --deploy: checks the project against the README's deploy steps (migrations, pg_cron jobs,\nextensions, Vault secrets, each function deployed and the function secrets it needs, by name).",
    options: {
      building: buildingOption('the building to check: its name (any case) or its id'),
      deploy: { type: 'boolean', description: "check the project's deployment instead of a building" },
    },
    exitCodes: `Exit codes:
  0  nothing to fix
  1  a problem was found (each is printed with its fix)
  2  the command line is wrong (no --building, unknown building)
  3  the building's SALTO server cannot be reached (the fix for the cause is printed), or the database`,
    examples: [`${program} doctor --building "Harbour View Residences"`, `${program} doctor --deploy`],
    async run({ io, json, values, sql }) {
      if (values.deploy) return runDeployDoctor({ io, json, values, sql });
      if (!values.building) {
        throw usageError(
          'missing_option',
          `doctor needs a building, or --deploy: ${program} doctor --building <name or id>. ${helpHint('doctor')}`,
        );
      }
      const { doctor, doctorExitCode, resolveBuilding } = await load();
      const building = await resolveBuilding(sql(), values.building as string);
      const report = await doctor(sql(), building);
      if (json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else io.stdout.write(formatDoctor(report));
      return doctorExitCode(report);
    },
  },
  resync: {
    summary: 'brings SALTO access levels in line with the bookings again; --wait for the outcome',
    synopsis: 'resync (--booking <id> | --apartment <id> | --building <name or id>) [--wait [--timeout <seconds>]]',
    description:
      'Queues the SALTO access levels of one booking, one apartment or a whole building for the sync, and\nwakes it. Always safe: the sync writes what the bookings ask, whatever SALTO holds. With --wait,\nwaits until the sync has written each access level or failed (and says why), or until --timeout.',
    options: {
      booking: { type: 'string', value: '<id>', description: "this booking's access level" },
      apartment: { type: 'string', value: '<id>', description: "this apartment's access level" },
      building: buildingOption('every access level of this building: its name (any case) or its id'),
      wait: { type: 'boolean', description: 'wait for the outcome and print it' },
      timeout: {
        type: 'string',
        value: '<seconds>',
        description: 'how long --wait waits (default 60; also 90s, 2m)',
      },
    },
    exitCodes: `Exit codes:
  0  queued (with --wait: every access level written)
  1  with --wait: an access level failed (the reason is printed) or was still waiting at --timeout
  2  the command line is wrong (nothing or several named, not a UUID, unknown id or building)
  3  with --wait: the building's SALTO server cannot be reached; or the database cannot`,
    examples: [
      `${program} resync --apartment 6f1c2a34-9b7e-4d21-8f00-2a7c5e9d1b42 --wait`,
      `${program} resync --building "Harbour View Residences" --wait --timeout 2m`,
    ],
    async run({ io, json, values, sql }) {
      const named = (['booking', 'apartment', 'building'] as const).filter((name) => values[name] !== undefined);
      if (named.length === 0) {
        throw usageError(
          'missing_option',
          `Say what to resync: --booking <id>, --apartment <id> or --building <name or id>. ${helpHint('resync')}`,
        );
      }
      if (named.length > 1) {
        throw usageError(
          'conflicting_options',
          `Name one thing to resync, not ${named.map((n) => `--${n}`).join(' and ')}: a booking, an apartment or a building.`,
        );
      }
      if (values.timeout !== undefined && !values.wait) {
        throw usageError(
          'conflicting_options',
          '--timeout is how long --wait waits: add --wait, or leave --timeout out.',
        );
      }
      const timeoutMs = values.timeout === undefined ? 60_000 : seconds(values.timeout as string) * 1000;
      const { isUuid, resolveBuilding, resync, resyncExitCode, waitForResync } = await load();
      const booking = values.booking as string | undefined;
      const apartment = values.apartment as string | undefined;
      if (booking !== undefined && !isUuid(booking)) {
        throw usageError('invalid_value', `--booking expects a booking id (a UUID), got "${booking}".`);
      }
      if (apartment !== undefined && !isUuid(apartment)) {
        throw usageError('invalid_value', `--apartment expects an apartment id (a UUID), got "${apartment}".`);
      }
      const target = booking
        ? { booking }
        : apartment
          ? { apartment }
          : { building: await resolveBuilding(sql(), values.building as string) };
      const queued = await resync(sql(), target);
      const { buildingId, accessLevels } = queued;
      if (!json) {
        io.stdout.write(
          accessLevels.length
            ? `Queued ${accessLevels.length} access level(s) for the sync: ${accessLevels.join(', ')}. The sync function was woken.\n`
            : 'Nothing to resync: no access level is involved.\n',
        );
      }
      if (!values.wait || accessLevels.length === 0) {
        if (json) io.stdout.write(`${JSON.stringify({ buildingId, accessLevels }, null, 2)}\n`);
        return ExitCode.ok;
      }
      if (!json) io.stderr.write(`Waiting up to ${timeoutMs / 1000} s for the sync...\n`);
      const outcome = await waitForResync(sql(), queued, { timeoutMs });
      if (json) io.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
      else io.stdout.write(formatResync(outcome, timeoutMs));
      return resyncExitCode(outcome);
    },
  },
  plan: {
    summary: "what the next sync pass would write to a building's SALTO, per access level (writes nothing)",
    synopsis: 'plan --building <name or id>',
    description:
      'For every access level of the building with work queued, the zone permissions the next sync pass\nwould add (+), change (~) and remove (-), the timetables it would write first, and the bookings that\nwould fail, with why. SALTO is read, never written. Run it before switching a building live.',
    options: { building: buildingOption('the building to plan: its name (any case) or its id') },
    exitCodes: `Exit codes:
  0  planned; every booking would be written
  1  an access level could not be planned, or bookings would fail (each is printed with why)
  2  the command line is wrong (no --building, unknown building)
  3  the building's SALTO server cannot be reached, or the database`,
    examples: [`${program} plan --building "Harbour View Residences"`],
    async run({ io, json, values, sql }) {
      if (!values.building) {
        throw usageError(
          'missing_option',
          `plan needs a building: ${program} plan --building <name or id>. ${helpHint('plan')}`,
        );
      }
      const { resolveBuilding } = await load();
      const { formatPlan, planBuilding, planExitCode } = await loadPlan();
      const plan = await planBuilding(sql(), await resolveBuilding(sql(), values.building as string));
      io.stdout.write(json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
      return planExitCode(plan);
    },
  },
  traffic: {
    summary: "exports a building's SALTO traffic log (SHIP requests and replies, secrets redacted) for support",
    synopsis: 'traffic --building <name or id> [--limit <n>]',
    description:
      "The building's latest SHIP exchanges as the sync made them, oldest first, as JSON lines (one exchange\nper line): time, request name, request, reply or error, and whether it was sent (false: a write shadow\nmode planned). Credentials are never in it. Send the output to support as it is.",
    options: {
      building: buildingOption('the building: its name (any case) or its id'),
      limit: { type: 'string', value: '<n>', description: 'the latest n exchanges (default 500, the most kept)' },
    },
    exitCodes: `Exit codes:
  0  exported (possibly nothing: no exchange recorded yet)
  2  the command line is wrong (no --building, unknown building, bad --limit)
  3  the database cannot be reached`,
    examples: [`${program} traffic --building "Harbour View Residences" > salto-traffic.jsonl`],
    async run({ io, json, values, sql }) {
      if (!values.building) {
        throw usageError(
          'missing_option',
          `traffic needs a building: ${program} traffic --building <name or id>. ${helpHint('traffic')}`,
        );
      }
      const limit = values.limit === undefined ? 500 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        throw usageError('invalid_value', `--limit expects a whole number from 1 to 10000, got "${values.limit}".`);
      }
      const { resolveBuilding } = await load();
      const { exportTraffic } = await loadTraffic();
      const entries = await exportTraffic(sql(), await resolveBuilding(sql(), values.building as string), limit);
      io.stdout.write(
        json ? `${JSON.stringify(entries, null, 2)}\n` : entries.map((e) => `${JSON.stringify(e)}\n`).join(''),
      );
      return ExitCode.ok;
    },
  },
};

/** doctor --deploy (src/operator/deploy-doctor.ts). */
async function runDeployDoctor({ io, json, values, sql }: Context): Promise<ExitCode> {
  if (values.building !== undefined) {
    throw usageError(
      'conflicting_options',
      'doctor checks a building (--building) or the deployment (--deploy), not both.',
    );
  }
  const { deployDoctor, deployDoctorExitCode, formatDeployDoctor } = await import('./deploy-doctor.ts');
  const report = await deployDoctor(sql());
  io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatDeployDoctor(report));
  return deployDoctorExitCode(report);
}

function helpHint(command?: string): string {
  return command ? `See ${program} ${command} --help.` : `See ${program} --help.`;
}

/** --timeout's value: seconds, or with a unit (90s, 2m). */
function seconds(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|sec|m|min)?$/i.exec(value.trim());
  const amount = match ? Number(match[1]) * (match[2]?.toLowerCase().startsWith('m') ? 60 : 1) : Number.NaN;
  if (!(amount > 0 && amount <= 3600)) {
    throw usageError(
      'invalid_value',
      `--timeout expects a number of seconds up to 3600, like 60, 90s or 2m, got "${value}".`,
    );
  }
  return amount;
}

function formatOptions(options: OptionSpecs): string {
  const rows = Object.entries(options).map(([name, spec]) => {
    const names = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [names, spec.description] as const;
  });
  const width = Math.max(...rows.map(([names]) => names.length)) + 2;
  return rows.map(([names, description]) => `  ${names.padEnd(width)}${description}`).join('\n');
}

function programHelp(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `connecx-salto ${version()}: connecX facility bookings -> SALTO ProAccess SPACE, for operators

Usage: ${program} <command> [options]

Commands:
${names.map((n) => `  ${n.padEnd(width)}${commands[n]!.summary}`).join('\n')}

Options:
${formatOptions(globalOptions)}

${exitCodes}

A building is named by its id or by its name: --building "Harbour View Residences".
${program} <command> --help says more about each command.
`;
}

function commandHelp(name: string): string {
  const command = commands[name]!;
  return `Usage: ${program} ${command.synopsis}

${command.description}

Options:
${formatOptions({ ...command.options, ...globalOptions })}

${command.exitCodes}

Examples:
${command.examples.map((e) => `  ${e}`).join('\n')}
`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The database to use, and where its connection string came from (named in messages). */
function databaseTarget(flag: string | undefined): DatabaseTarget {
  let url: string | undefined;
  let source: DatabaseSource;
  if (flag !== undefined) [url, source] = [flag, '--db-url'];
  else if (process.env.DATABASE_URL) [url, source] = [process.env.DATABASE_URL, 'DATABASE_URL'];
  else if (process.env.SUPABASE_DB_URL) [url, source] = [process.env.SUPABASE_DB_URL, 'SUPABASE_DB_URL'];
  else {
    const stackEnv = join(repositoryRoot, '.local', 'stack.env');
    url = existsSync(stackEnv) ? parse(readFileSync(stackEnv)).DATABASE_URL : undefined;
    source = '.local/stack.env';
    if (!url) {
      throw new CliError(
        ExitCode.unreachable,
        'no_database',
        'No database named: pass --db-url <url>, set DATABASE_URL, or start the local stack (npm start).',
      );
    }
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {}
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname) {
    throw usageError(
      'invalid_value',
      `${source} is not a PostgreSQL connection string: expected postgresql://<user>:<password>@<host>:5432/<database> (hosted Supabase: the project's direct connection string).`,
    );
  }
  return { url, source, address: `${parsed.hostname}:${parsed.port || '5432'}` };
}

function formatSalto(salto: SaltoStatus, label: string, indent: string): string[] {
  if (salto.reachable === true) return [`${label}reachable: ${salto.detail}`];
  if (!salto.configured) return [`${label}not configured: ${salto.detail}`];
  const cause = salto.problem?.cause;
  const state = salto.problem?.unreachable
    ? 'NOT REACHABLE'
    : cause === 'credential' || cause === 'configuration'
      ? 'NOT SET UP'
      : 'REFUSES';
  const lines = [`${label}${state}: ${salto.detail}`];
  if (salto.problem) lines.push(`${indent}fix: ${salto.problem.fix}`);
  return lines;
}

function formatStatus(buildings: BuildingStatus[]): string {
  return buildings
    .map((b) => {
      const lines = [`${b.name} (${b.timeZone})  ${b.id}`];
      lines.push(...formatSalto(b.salto, '  SALTO        ', '               '));
      if (b.writes === 'shadow') {
        lines.push(
          '  writes       shadow mode: the sync plans and records its writes without sending them (plan --building shows them; a manager switches the building live)',
        );
      }
      lines.push(
        `  pending      ${b.pendingAccessLevels} access level(s)${b.oldestPendingSince ? ` since ${b.oldestPendingSince}` : ''}${b.retryingAccessLevels ? `, ${b.retryingAccessLevels} retrying after an error` : ''}${b.lastError ? `; last error: ${b.lastError}` : ''}`,
      );
      lines.push(
        b.lastCleanup
          ? `  last cleanup ${b.lastCleanup.localDate} ${b.lastCleanup.status}: cleared ${b.lastCleanup.cleared}, handed over ${b.lastCleanup.handedOver}, repaired ${b.lastCleanup.repaired}, failed ${b.lastCleanup.failed}`
          : '  last cleanup none yet',
      );
      lines.push(`  failed       ${b.failedBookings.length} booking(s)`);
      for (const f of b.failedBookings)
        lines.push(`    - ${f.apartment}, ${f.facility}: ${f.reason ?? 'no reason recorded'}`);
      return `${lines.join('\n')}\n`;
    })
    .join('\n');
}

/** Ends `text` with a full stop, unless it already ends a sentence. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function formatDoctor(report: DoctorReport): string {
  const lines = [`${report.name}  ${report.buildingId}`];
  if (report.salto.reachable) {
    lines.push(
      `  SALTO: ${report.salto.detail}; it knows ${report.zonesInSalto} zones and ${report.accessLevelsInSalto} access levels.`,
    );
  }
  // One line per finding: what is wrong, then its fix (the SALTO error is said here, once).
  for (const f of report.findings)
    lines.push(`  ${f.severity === 'problem' ? 'PROBLEM' : 'warning'}: ${sentence(f.what)} Fix: ${f.fix}`);
  const problems = report.findings.filter((f) => f.severity === 'problem').length;
  const warnings = report.findings.length - problems;
  lines.push(
    report.findings.length === 0
      ? '  Everything matches: every Zone ID and Access Control ID exists in SALTO.'
      : `  ${problems} problem(s), ${warnings} warning(s).`,
  );
  return `${lines.join('\n')}\n`;
}

function formatResync(outcome: ResyncOutcome, timeoutMs: number): string {
  const width = Math.max(...outcome.outcomes.map((o) => o.accessLevelId.length)) + 2;
  const lines: string[] = [];
  for (const o of outcome.outcomes) {
    const name = `  ${o.accessLevelId.padEnd(width)}`;
    if (o.outcome === 'written') lines.push(`${name}written`);
    else if (o.outcome === 'failed') {
      lines.push(`${name}failed: ${o.reason}${o.nextAttemptAt ? ` (the sync tries again at ${o.nextAttemptAt})` : ''}`);
      for (const f of o.failedBookings)
        lines.push(`${' '.repeat(width + 4)}- ${f.apartment}, ${f.facility}: ${f.reason ?? 'no reason recorded'}`);
    } else {
      lines.push(
        `${name}still waiting after ${timeoutMs / 1000} s: ${o.reason}${o.nextAttemptAt ? ` (next attempt at ${o.nextAttemptAt})` : ''}; ${program} status shows the building's pending work`,
      );
    }
  }
  if (outcome.salto && outcome.salto.reachable !== true) lines.push(...formatSalto(outcome.salto, 'SALTO ', '  '));
  const count = (kind: string) => outcome.outcomes.filter((o) => o.outcome === kind).length;
  lines.push(`Written ${count('written')}, failed ${count('failed')}, still waiting ${count('waiting')}.`);
  return `${lines.join('\n')}\n`;
}

function commandNotFound(word: string): CliError {
  const guess = closest(word, Object.keys(commands));
  return usageError(
    'unknown_command',
    `Unknown command "${word}".${guess ? ` Did you mean ${guess}?` : ''} Commands: ${Object.keys(commands).join(', ')}. ${helpHint()}`,
  );
}

async function run(argv: string[], io: Io, json: boolean): Promise<ExitCode> {
  const everyOption: OptionSpecs = Object.assign({}, globalOptions, ...Object.values(commands).map((c) => c.options));
  const { word, flags } = firstWord(argv, everyOption);
  // `help <command>` is `<command> --help`.
  if (word === 'help') {
    const rest = firstWord(argv.slice(argv.indexOf('help') + 1), everyOption).word;
    if (rest && !commands[rest]) throw commandNotFound(rest);
    io.stdout.write(rest ? commandHelp(rest) : programHelp());
    return ExitCode.ok;
  }
  const command = word === undefined ? undefined : commands[word];
  if (word !== undefined && !command) {
    // A mistyped option before the command is the first thing to say.
    readCommandLine(argv, everyOption, { command: 'connecx-salto', helpHint: helpHint() });
    throw commandNotFound(word);
  }
  if (!command || !word) {
    readCommandLine(argv, globalOptions, { command: 'connecx-salto', helpHint: helpHint(), elsewhere: owner });
    if (flags.has('version')) {
      io.stdout.write(`connecx-salto ${version()}\n`);
      return ExitCode.ok;
    }
    if (flags.has('help')) {
      io.stdout.write(programHelp());
      return ExitCode.ok;
    }
    if (json) throw usageError('missing_command', `Name a command: ${Object.keys(commands).join(', ')}. ${helpHint()}`);
    io.stderr.write(programHelp());
    return ExitCode.usage;
  }
  const { values, positionals } = readCommandLine(
    argv,
    { ...command.options, ...globalOptions },
    { command: word, helpHint: helpHint(word), elsewhere: owner },
  );
  if (values.help) {
    io.stdout.write(commandHelp(word));
    return ExitCode.ok;
  }
  if (values.version) {
    io.stdout.write(`connecx-salto ${version()}\n`);
    return ExitCode.ok;
  }
  const extra = positionals.slice(1);
  if (extra.length) {
    const suggestion = 'building' in command.options ? ` To name a building: --building "${extra.join(' ')}".` : '';
    throw usageError(
      'unexpected_argument',
      `Unexpected argument "${extra[0]}": ${word} takes options only.${suggestion} ${helpHint(word)}`,
    );
  }
  let target: DatabaseTarget | undefined;
  let sql: Sql | undefined;
  const { default: postgres } = await import('postgres');
  const connect = () => {
    target ??= databaseTarget(values['db-url'] as string | undefined);
    sql ??= postgres(target.url, {
      max: 4,
      connect_timeout: 10,
      onnotice: () => {},
      connection: { application_name: 'connecx-salto' },
    });
    return sql;
  };
  try {
    // Connected on first use: a wrong command line is said without waiting for the database.
    return await command.run({ io, json, values, sql: connect });
  } catch (error) {
    throw (target && databaseError(error, target)) || error;
  } finally {
    await sql?.end({ timeout: 5 }).catch(() => {});
  }
}

/** Which command an option belongs to, for "--booking is an option of resync". */
function owner(name: string): string | undefined {
  const owners = Object.entries(commands)
    .filter(([, c]) => name in c.options)
    .map(([n]) => n);
  return owners.length ? owners.join(' and ') : undefined;
}

/** The command line, run: returns the exit code, never throws (errors are printed). */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  // Known before anything else can fail, so that even a mistyped option is reported as JSON.
  const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined).includes('--json');
  try {
    return await run(argv, io, json);
  } catch (caught) {
    const error =
      caught instanceof CliError
        ? caught
        : new CliError(
            ExitCode.problem,
            'failed',
            `The command failed: ${caught instanceof Error ? caught.message : String(caught)}${
              typeof (caught as { code?: unknown })?.code === 'string' ? ` (${(caught as { code: string }).code})` : ''
            }`,
          );
    io.stderr.write(
      json
        ? `${JSON.stringify({ error: { code: error.code, message: error.message, exitCode: error.exitCode } })}\n`
        : `${error.message}\n`,
    );
    return error.exitCode;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}

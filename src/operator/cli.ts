/**
 * The operator command line: `npx connecx-salto <status|doctor|resync> [options]`.
 *
 * Connects to the database named by --db-url, DATABASE_URL or SUPABASE_DB_URL (hosted: the project's
 * direct connection string), else to the local stack (.local/stack.env). Human output by default,
 * --json for scripts. Exit code 1 when something needs fixing (doctor) or a command failed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'dotenv';
import postgres from 'postgres';
import { type BuildingStatus, buildingStatus, type DoctorReport, doctor, resync } from './commands.ts';

const usage = `Usage: npx connecx-salto <command> [options]

Commands:
  status [--building <id>]            per building: pending work, failed bookings and why, last nightly
                                      cleanup, whether SALTO answers
  doctor --building <id>              checks the SALTO connection and every Zone ID and Access Control ID
                                      against SALTO; says what to fix and where
  resync --booking <id> | --apartment <id> | --building <id>
                                      brings those SALTO access levels in line with the bookings again

Options:
  --json             machine-readable output
  --db-url <url>     database (default: DATABASE_URL, SUPABASE_DB_URL, or the local stack)
  --help`;

function databaseUrl(flag: string | undefined): string {
  const fromEnv = flag ?? process.env.DATABASE_URL ?? process.env.SUPABASE_DB_URL;
  if (fromEnv) return fromEnv;
  const stackEnv = join(import.meta.dirname, '..', '..', '.local', 'stack.env');
  const local = existsSync(stackEnv) ? parse(readFileSync(stackEnv)).DATABASE_URL : undefined;
  if (!local) throw new Error('No database: pass --db-url, set DATABASE_URL, or start the local stack (npm start).');
  return local;
}

function printStatus(buildings: BuildingStatus[]) {
  for (const b of buildings) {
    const lines = [`${b.name} (${b.timeZone})  ${b.id}`];
    lines.push(
      `  SALTO        ${b.salto.reachable === true ? 'reachable' : b.salto.reachable === false ? 'NOT REACHABLE' : 'not configured'}: ${b.salto.detail}`,
    );
    lines.push(
      `  pending      ${b.pendingAccessLevels} access level(s)${b.oldestPendingSince ? ` since ${b.oldestPendingSince}` : ''}${b.lastError ? `; last error: ${b.lastError}` : ''}`,
    );
    lines.push(
      b.lastCleanup
        ? `  last cleanup ${b.lastCleanup.localDate} ${b.lastCleanup.status}: cleared ${b.lastCleanup.cleared}, handed over ${b.lastCleanup.handedOver}, repaired ${b.lastCleanup.repaired}, failed ${b.lastCleanup.failed}`
        : '  last cleanup none yet',
    );
    lines.push(`  failed       ${b.failedBookings.length} booking(s)`);
    for (const f of b.failedBookings)
      lines.push(`    - ${f.apartment}, ${f.facility}: ${f.reason ?? 'no reason recorded'}`);
    process.stdout.write(lines.join('\n') + '\n\n');
  }
}

function printDoctor(report: DoctorReport) {
  const lines = [`${report.name}  ${report.buildingId}`, `  SALTO: ${report.salto.detail}`];
  if (report.salto.reachable)
    lines.push(`  SALTO knows ${report.zonesInSalto} zones and ${report.accessLevelsInSalto} access levels.`);
  if (report.findings.length === 0)
    lines.push('  Everything matches: every Zone ID and Access Control ID exists in SALTO.');
  for (const f of report.findings)
    lines.push(`  ${f.severity === 'problem' ? 'PROBLEM' : 'warning'}: ${f.what}`, `    fix: ${f.fix}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      'db-url': { type: 'string' },
      building: { type: 'string' },
      apartment: { type: 'string' },
      booking: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(usage + '\n');
    return values.help ? 0 : 2;
  }
  const sql = postgres(databaseUrl(values['db-url']), { max: 4, onnotice: () => {} });
  const print = (data: unknown, human: () => void) =>
    values.json ? process.stdout.write(JSON.stringify(data, null, 2) + '\n') : human();
  try {
    switch (command) {
      case 'status': {
        const report = await buildingStatus(sql, values.building);
        print(report, () => printStatus(report));
        return 0;
      }
      case 'doctor': {
        if (!values.building) throw new Error('doctor needs --building <id>.');
        const report = await doctor(sql, values.building);
        print(report, () => printDoctor(report));
        return report.findings.some((f) => f.severity === 'problem') ? 1 : 0;
      }
      case 'resync': {
        const result = await resync(sql, {
          booking: values.booking,
          apartment: values.apartment,
          building: values.building,
        });
        print(result, () =>
          process.stdout.write(
            result.accessLevels.length
              ? `Queued ${result.accessLevels.length} access level(s) for the sync: ${result.accessLevels.join(', ')}. The sync function was woken.\n`
              : 'Nothing to resync: no access level is involved.\n',
          ),
        );
        return 0;
      }
      default:
        process.stderr.write(`Unknown command "${command}".\n\n${usage}\n`);
        return 2;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}

// The operator command line's help, version and usage errors: what a person sees when the command line
// is wrong, and the exit codes a script sees. Runs the real CLI; none of these needs the local stack
// (a database that cannot be reached is 127.0.0.1:1).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connecxSalto } from './run-cli.ts';

const noDatabase = { DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:1/postgres', SUPABASE_DB_URL: undefined };
const someId = '00000000-0000-4000-8000-000000000000';

describe('npx connecx-salto: help, version and usage errors', { timeout: 60_000 }, () => {
  it('--help lists the commands, the options and the exit codes', async () => {
    const { code, stdout } = await connecxSalto(['--help']);
    expect(code).toBe(0);
    for (const command of ['status', 'doctor', 'resync']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toMatch(/-h, --help/);
    expect(stdout).toMatch(/--version/);
    expect(stdout).toMatch(/^ {2}0 {2}done/m);
    expect(stdout).toMatch(/^ {2}1 {2}a problem was found/m);
    expect(stdout).toMatch(/^ {2}2 {2}the command line is wrong/m);
    expect(stdout).toMatch(/^ {2}3 {2}the database, or a building's SALTO server, cannot be reached/m);
    expect((await connecxSalto(['-h'])).stdout).toBe(stdout);
  });

  it('each command has its own help: its options, exit codes and examples', async () => {
    const status = await connecxSalto(['status', '--help']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Usage: npx connecx-salto status \[--building <name or id>\]/);
    expect(status.stdout).toMatch(/--building <name or id>/);
    expect(status.stdout).toMatch(/Exit codes:/);
    expect(status.stdout).toMatch(/Examples:/);
    const resync = await connecxSalto(['resync', '-h']);
    expect(resync.stdout).toMatch(/^Usage: npx connecx-salto resync/);
    expect(resync.stdout).toMatch(/--wait/);
    expect(resync.stdout).toMatch(/--timeout <seconds>/);
    expect((await connecxSalto(['help', 'doctor'])).stdout).toBe((await connecxSalto(['doctor', '--help'])).stdout);
  });

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));
    const { code, stdout } = await connecxSalto(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`connecx-salto ${version}\n`);
  });

  it('a mistyped option is named, with the option meant, and exits 2', async () => {
    const { code, stdout, stderr } = await connecxSalto(['status', '--buildng', 'Harbour View Residences'], noDatabase);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^Unknown option --buildng\. Did you mean --building\? See npx connecx-salto status --help\.\n$/,
    );
    expect(stderr).not.toMatch(/ERR_PARSE_ARGS|To specify a positional argument/);
  });

  it('an option of another command says which command has it', async () => {
    const { code, stderr } = await connecxSalto(['status', '--booking', someId], noDatabase);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown option --booking\. --booking is an option of resync, not of status\./);
  });

  it('an unknown command is named, with the command meant, and exits 2', async () => {
    const { code, stderr } = await connecxSalto(['stauts'], noDatabase);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^Unknown command "stauts"\. Did you mean status\? Commands: status, doctor, resync, plan, traffic\./,
    );
  });

  it('no command prints the help on stderr and exits 2', async () => {
    const { code, stdout, stderr } = await connecxSalto([], noDatabase);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^connecx-salto .*\n\nUsage: npx connecx-salto <command> \[options\]/);
  });

  it('a booking id that is not a UUID names the option, never the database error', async () => {
    // The database cannot be reached: exit 2, not 3, shows the id is refused before any query.
    const { code, stderr } = await connecxSalto(['resync', '--booking', 'abc'], noDatabase);
    expect(code).toBe(2);
    expect(stderr).toBe('--booking expects a booking id (a UUID), got "abc".\n');
    expect(stderr).not.toMatch(/invalid input syntax/);
    const apartment = await connecxSalto(['resync', '--apartment', '12'], noDatabase);
    expect(apartment.code).toBe(2);
    expect(apartment.stderr).toMatch(/^--apartment expects an apartment id \(a UUID\), got "12"\./);
  });

  it('an option without its value says which value it needs', async () => {
    for (const args of [
      ['doctor', '--building'],
      ['doctor', '--building', '--json'],
    ]) {
      const { code, stdout, stderr } = await connecxSalto(args, noDatabase);
      expect(code).toBe(2);
      const message = args.includes('--json') ? JSON.parse(stderr).error.message : stderr;
      expect(message).toMatch(
        /^--building needs a value: --building <name or id>\. See npx connecx-salto doctor --help\./,
      );
      expect(stdout).toBe('');
    }
  });

  it('resync says what it needs: one target, --wait before --timeout, a --timeout in seconds', async () => {
    const cases: [string[], RegExp][] = [
      [['resync'], /^Say what to resync: --booking <id>, --apartment <id> or --building <name or id>\./],
      [
        ['resync', '--booking', someId, '--apartment', someId],
        /^Name one thing to resync, not --booking and --apartment/,
      ],
      [['resync', '--booking', someId, '--timeout', '30'], /^--timeout is how long --wait waits: add --wait/],
      [
        ['resync', '--booking', someId, '--wait', '--timeout', 'soon'],
        /^--timeout expects a number of seconds up to 3600, like 60, 90s or 2m, got "soon"\./,
      ],
      [['doctor'], /^doctor needs a building, or --deploy: npx connecx-salto doctor --building <name or id>\./],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await connecxSalto(args, noDatabase);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toMatch(message);
    }
  });

  it('a word after the command says how to name a building', async () => {
    const { code, stderr } = await connecxSalto(['status', 'Harbour View Residences'], noDatabase);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^Unexpected argument "Harbour View Residences": status takes options only\. To name a building: --building "Harbour View Residences"\./,
    );
  });

  it('a database that cannot be reached is named with where its address came from, and exits 3', async () => {
    const fromEnv = await connecxSalto(['status'], noDatabase);
    expect(fromEnv.code).toBe(3);
    expect(fromEnv.stderr).toMatch(
      /^Cannot reach the database at 127\.0\.0\.1:1 \(DATABASE_URL\): connection refused\./,
    );
    expect(fromEnv.stderr).not.toMatch(/ECONNREFUSED/);
    const fromFlag = await connecxSalto([
      'doctor',
      '--building',
      someId,
      '--db-url',
      'postgres://u:secret@127.0.0.1:1/db',
    ]);
    expect(fromFlag.code).toBe(3);
    expect(fromFlag.stderr).toMatch(/^Cannot reach the database at 127\.0\.0\.1:1 \(--db-url\): connection refused\./);
    expect(fromFlag.stderr).not.toMatch(/secret/);
    const notAUrl = await connecxSalto(['status', '--db-url', 'localhost']);
    expect(notAUrl.code).toBe(2);
    expect(notAUrl.stderr).toMatch(/^--db-url is not a PostgreSQL connection string: expected postgresql:\/\//);
  });

  it('under --json an error is one JSON object on stderr, with its code, and stdout stays empty', async () => {
    const typo = await connecxSalto(['status', '--json', '--buildng', 'x'], noDatabase);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(JSON.parse(typo.stderr)).toEqual({
      error: {
        code: 'unknown_option',
        message: 'Unknown option --buildng. Did you mean --building? See npx connecx-salto status --help.',
        exitCode: 2,
      },
    });
    const unreachable = await connecxSalto(['status', '--json'], noDatabase);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stdout).toBe('');
    expect(JSON.parse(unreachable.stderr).error).toMatchObject({
      code: 'database_unreachable',
      message: expect.stringMatching(
        /^Cannot reach the database at 127\.0\.0\.1:1 \(DATABASE_URL\): connection refused/,
      ),
      exitCode: 3,
    });
  });
});

/**
 * What the operator command line tells the shell and the person: its exit codes, and the errors that
 * end a command, each with a stable code (for --json) and a message saying what is wrong and what to do.
 */

/** The exit codes, as `npx connecx-salto --help` and the README document them. */
export const ExitCode = {
  /** Done, and nothing needs attention. */
  ok: 0,
  /** A problem was found (doctor, status, resync --wait), or the command could not finish. */
  problem: 1,
  /** The command line is wrong: unknown command or option, missing or bad value, unknown building. */
  usage: 2,
  /** The database or a building's SALTO server could not be reached. */
  unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends a command: printed as its message (or {"error": {code, message}} under --json). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    /** Stable, for scripts: unknown_option, missing_value, invalid_value, not_found, database_unreachable, ... */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function usageError(code: string, message: string): CliError {
  return new CliError(ExitCode.usage, code, message);
}

/** Where the database connection string came from, named in messages so the person knows what to fix. */
export type DatabaseSource = '--db-url' | 'DATABASE_URL' | 'SUPABASE_DB_URL' | '.local/stack.env';

export interface DatabaseTarget {
  url: string;
  source: DatabaseSource;
  /** host:port, for messages (never the password). */
  address: string;
}

/** The errors of a connection that could not be made or used, by the code postgres.js or PostgreSQL gives. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'host name could not be looked up (DNS)',
  ETIMEDOUT: 'no answer (timed out)',
  CONNECT_TIMEOUT: 'no answer (timed out)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  CONNECTION_CLOSED: 'the connection was closed',
  CONNECTION_ENDED: 'the connection was closed',
  CONNECTION_DESTROYED: 'the connection was closed',
  '57P03': 'the database is starting up or shutting down',
  '53300': 'too many connections',
};

/** The fix that goes with each way of not reaching the database. */
function databaseFix(code: string, target: DatabaseTarget): string {
  const where =
    target.source === '.local/stack.env'
      ? 'Start the local stack (npm start), or name another database with --db-url or DATABASE_URL.'
      : `Check the host and port in ${target.source}, and that the database is running and reachable from here.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `Check the host name in ${target.source} (hosted Supabase: the project's direct connection string).`;
  return where;
}

/**
 * The database error as the person should read it, or undefined when it is not about reaching the
 * database (then it is a failure of the command itself).
 */
export function databaseError(error: unknown, target: DatabaseTarget): CliError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const reason = UNREACHABLE[code];
  if (reason) {
    return new CliError(
      ExitCode.unreachable,
      'database_unreachable',
      `Cannot reach the database at ${target.address} (${target.source}): ${reason}. ${databaseFix(code, target)}`,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new CliError(
      ExitCode.unreachable,
      'database_login_refused',
      `The database at ${target.address} (${target.source}) refused the login: ${(error as Error).message}. Check the user and password in ${target.source}.`,
    );
  }
  if (code === '3D000') {
    return new CliError(
      ExitCode.unreachable,
      'database_unreachable',
      `Cannot use the database at ${target.address} (${target.source}): ${(error as Error).message}. Check the database name at the end of ${target.source}.`,
    );
  }
  return undefined;
}

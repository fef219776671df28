// Which database URL a function connects to and how: the pure part of database.ts, so that Node
// tests check the same rules the functions follow.

export interface DatabaseOptions {
  /** The function's name: its connections' application_name (what pg_stat_activity shows). */
  functionName: string;
  /**
   * Commit without waiting for the WAL to reach disk (synchronous_commit = off), for functions whose
   * every write is redone when lost: the sync and the cleanup are level-triggered, so a commit lost in
   * a database crash (at most a fraction of a second of them) leaves its work row or cleanup run in
   * place and the next pass repeats the work, harmlessly. It saves a disk flush per commit, several
   * per pass, on the path from a booking to SALTO. Never for anything that must stay done once done.
   * A session setting: through the transaction pooler it is not asked for (no session state there).
   */
  asynchronousCommit?: boolean;
}

export interface DatabaseSettings {
  url: string;
  /** True when the URL is the transaction pooler (DB_POOLER_URL). */
  pooled: boolean;
  options: {
    max: number;
    prepare: boolean;
    connection: Record<string, string>;
  };
}

/** Connections one function instance may hold, whichever URL it uses. */
export const MAX_CONNECTIONS_PER_INSTANCE = 2;

/**
 * A benchmark knob, never set in a deployment: `npm run bench -- cleanup` starts a second salto-cleanup
 * worker with BENCHMARK_CONNECTIONS_PER_INSTANCE=4 to measure what the two-connection limit costs
 * against the same work with four, side by side in one run. Unset (everywhere but there), the limit
 * of two holds.
 */
function connectionsPerInstance(env: Record<string, string | undefined>) {
  const knob = env.BENCHMARK_CONNECTIONS_PER_INSTANCE?.trim();
  if (!knob) return MAX_CONNECTIONS_PER_INSTANCE;
  const n = Number(knob);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error('BENCHMARK_CONNECTIONS_PER_INSTANCE must be 1 to 8');
  return n;
}

/**
 * DB_POOLER_URL (a function secret: names starting SUPABASE_ cannot be set as secrets on hosted) is
 * the transaction pooler's connection string; without it, SUPABASE_DB_URL, the direct connection.
 */
export function databaseSettings(env: Record<string, string | undefined>, options: DatabaseOptions): DatabaseSettings {
  const poolerUrl = env.DB_POOLER_URL?.trim();
  const url = poolerUrl || env.SUPABASE_DB_URL;
  if (!url) throw new Error('Function environment incomplete: SUPABASE_DB_URL (or DB_POOLER_URL) is required');
  const pooled = Boolean(poolerUrl);
  // An application_name in the URL (?application_name=...) wins: it names the connections of one
  // deployment, or locally tells the "pooler" URL's connections from the direct ones.
  const connection: Record<string, string> = { application_name: options.functionName };
  if (options.asynchronousCommit && !pooled) connection.synchronous_commit = 'off';
  return {
    url,
    pooled,
    options: {
      max: connectionsPerInstance(env),
      // Direct: each statement is prepared once per connection and a query is then one round trip.
      // Through the transaction pooler a statement prepared on one server connection is unknown on the
      // next, so statements stay unprepared (two round trips for a query with parameters).
      prepare: !pooled,
      connection,
    },
  };
}

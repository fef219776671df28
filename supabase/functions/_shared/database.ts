// One postgres.js client per warm function instance.
import postgres from 'postgres';

export interface DatabaseOptions {
  /**
   * Commit without waiting for the WAL to reach disk (synchronous_commit = off), for functions whose
   * every write is redone when lost: the sync and the cleanup are level-triggered, so a commit lost in
   * a database crash (at most a fraction of a second of them) leaves its work row or cleanup run in
   * place and the next pass repeats the work, harmlessly. It saves a disk flush per commit, several
   * per pass, on the path from a booking to SALTO. Never for anything that must stay done once done.
   */
  asynchronousCommit?: boolean;
}

/** Supavisor's transaction pooler listens on 6543; it cannot keep a prepared statement for a session. */
export function throughTransactionPooler(url: string): boolean {
  return new URL(url).port === '6543';
}

export function connectDatabase(url: string, max = 4, { asynchronousCommit = false }: DatabaseOptions = {}) {
  return postgres(url, {
    // SUPABASE_DB_URL is a direct connection: each statement is prepared once per connection and a
    // query is then one round trip. Unprepared, postgres.js describes every query that has parameters
    // before binding it (two round trips; half of the cleanup's database traffic). Through the
    // transaction pooler, where a statement prepared on one server connection is unknown on the next,
    // statements stay unprepared.
    prepare: !throughTransactionPooler(url),
    max,
    onnotice: () => {},
    ...(asynchronousCommit ? { connection: { synchronous_commit: 'off' } } : {}),
  });
}

// One postgres.js client per warm function instance. SUPABASE_DB_URL is a direct connection; prepared
// statements stay off so the same code works through Supavisor's transaction pooler.
import postgres from 'postgres';

export interface DatabaseOptions {
  /**
   * Commit without waiting for the WAL to reach disk (synchronous_commit = off), for functions whose
   * every write is redone when lost: the sync and the cleanup are level-triggered, so a commit lost in
   * a database crash (at most a fraction of a second of them) leaves its outbox row or cleanup run in
   * place and the next pass repeats the work, harmlessly. It saves a disk flush per commit, several
   * per pass, on the path from a booking to SALTO. Never for anything that must stay done once done.
   */
  asynchronousCommit?: boolean;
}

export function connectDatabase(url: string, max = 4, { asynchronousCommit = false }: DatabaseOptions = {}) {
  return postgres(url, {
    prepare: false,
    max,
    onnotice: () => {},
    ...(asynchronousCommit ? { connection: { synchronous_commit: 'off' } } : {}),
  });
}

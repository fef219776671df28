// One postgres.js client per warm function instance. SUPABASE_DB_URL is a direct connection; prepared
// statements stay off so the same code works through Supavisor's transaction pooler.
import postgres from 'postgres';

export function connectDatabase(url: string, max = 4) {
  return postgres(url, { prepare: false, max, onnotice: () => {} });
}

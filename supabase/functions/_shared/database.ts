// One postgres.js client per warm function instance, at most two connections, through the transaction
// pooler when one is configured.
//
// Hosted, several warm instances of every function may run at once, and pg_cron opens a connection per
// job run; a small compute allows about 60 direct connections. So an instance never holds more than
// two, and a project that sets the DB_POOLER_URL function secret (Supavisor's transaction pooler,
// port 6543) shares the pooler's few server connections instead.
import postgres from 'postgres';
import { type DatabaseOptions, databaseSettings } from './database-settings.ts';

export { type DatabaseOptions, type DatabaseSettings, databaseSettings } from './database-settings.ts';

export function connectDatabase(env: Record<string, string | undefined>, options: DatabaseOptions) {
  const settings = databaseSettings(env, options);
  return postgres(settings.url, { ...settings.options, onnotice: () => {} });
}

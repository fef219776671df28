// One postgres.js client per warm function instance, at most two connections, through the transaction
// pooler when one is configured.
//
// Hosted, several warm instances of every function may run at once, and pg_cron opens a connection per
// job run; a small compute allows about 60 direct connections. So an instance never holds more than
// two, and a project that sets the DB_POOLER_URL function secret (Supavisor's transaction pooler,
// port 6543) shares the pooler's few server connections instead.
import { Socket } from 'node:net';
import postgres from 'postgres';
import { type DatabaseOptions, databaseSettings } from './database-settings.ts';

// postgres.js batches small writes and flushes them from a setImmediate, cancelled with
// clearImmediate when a larger write flushes first. On the edge runtime's Deno (2.1.4) a cancelled
// immediate can still run, and its flush then writes `null` to the socket, which throws outside any
// promise and kills the worker ("May not write null values to stream", seen under load in
// tests/faults/postgres-restarted.test.ts). Nothing is left to send at that point: a null write is
// skipped.
const socketWrite = Socket.prototype.write;
Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
  if (chunk === null) return true;
  return (socketWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof Socket.prototype.write;

export { type DatabaseOptions, type DatabaseSettings, databaseSettings } from './database-settings.ts';

export function connectDatabase(env: Record<string, string | undefined>, options: DatabaseOptions) {
  const settings = databaseSettings(env, options);
  return postgres(settings.url, { ...settings.options, onnotice: () => {} });
}

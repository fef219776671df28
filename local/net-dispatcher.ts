// Stands in for pg_net's background worker: takes committed requests off net.http_request_queue,
// sends them, and records each outcome in net._http_response, like pg_net does.
// Rows of uncommitted transactions are invisible here, so nothing is sent before commit and a rollback
// sends nothing. Like pg_net: no retries, at most `batchSize` requests in flight.
import postgres from 'postgres';

const databaseUrl = process.env.SUPABASE_DB_URL;
if (!databaseUrl) throw new Error('SUPABASE_DB_URL is required');
const batchSize = Number(process.env.PG_NET_BATCH_SIZE ?? 200);

const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer | null;
  timeout_milliseconds: number;
}

interface Outcome {
  id: string;
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean | null;
  error_msg: string | null;
}

async function send(request: QueuedRequest): Promise<Outcome> {
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ? new Uint8Array(request.body) : undefined,
      signal: AbortSignal.timeout(request.timeout_milliseconds),
    });
    return {
      id: request.id,
      status_code: response.status,
      content_type: response.headers.get('content-type'),
      headers: Object.fromEntries(response.headers),
      content: await response.text(),
      timed_out: false,
      error_msg: null,
    };
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    return {
      id: request.id,
      status_code: null,
      content_type: null,
      headers: null,
      content: null,
      timed_out: timedOut,
      error_msg: timedOut ? `Timeout of ${request.timeout_milliseconds} ms reached` : String(error),
    };
  }
}

let draining = false;
let again = false;

async function drain() {
  if (draining) {
    again = true;
    return;
  }
  draining = true;
  try {
    do {
      again = false;
      const batch = await sql<QueuedRequest[]>`
        delete from net.http_request_queue
        where id in (select id from net.http_request_queue order by id limit ${batchSize} for update skip locked)
        returning id, method, url, headers, body, timeout_milliseconds`;
      if (batch.length === 0) break;
      const outcomes = await Promise.all(batch.map(send));
      await sql`insert into net._http_response ${sql(outcomes.map((o) => ({ ...o, headers: o.headers && sql.json(o.headers) })))}`;
      if (batch.length === batchSize) again = true;
    } while (again);
  } catch (error) {
    console.error('dispatch failed:', error instanceof Error ? error.message : error);
  } finally {
    draining = false;
  }
}

// pg_net keeps responses for pg_net.ttl (6 hours) and deletes older ones.
async function expireResponses() {
  await sql`delete from net._http_response where created < now() - interval '6 hours'`.catch(() => {});
}

// Polled, like pg_net's worker: a check of the queue every few milliseconds is cheap, and unlike a
// NOTIFY from each request it does not serialise the committing transactions (see the stand-in's
// local-2 update script). net.wake() still notifies, for an immediate pass.
const pollMs = Number(process.env.PG_NET_POLL_MS ?? 10);
let polling = false;
async function poll() {
  if (polling || draining) return;
  polling = true;
  try {
    const [row] = await sql<{ queued: boolean }[]>`select exists (select from net.http_request_queue) as queued`;
    if (row?.queued) await drain();
  } catch (error) {
    console.error('poll failed:', error instanceof Error ? error.message : error);
  } finally {
    polling = false;
  }
}
await sql.listen('pg_net_local', () => void drain());
setInterval(() => void poll(), pollMs);
setInterval(() => void expireResponses(), 60_000);
await drain();
console.log('net dispatcher: sending committed net.http_* requests');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, async () => {
    await sql.end({ timeout: 2 });
    process.exit(0);
  });
}

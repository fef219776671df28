// Stands in for pg_net's background worker: takes committed requests off net.http_request_queue,
// sends them, and records each outcome in net._http_response, like pg_net does.
// Rows of uncommitted transactions are invisible here, so nothing is sent before commit and a rollback
// sends nothing. Like pg_net: no retries, at most `batchSize` requests in flight.
import http from 'node:http';
import https from 'node:https';
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

// node:http with kept-alive connections rather than fetch: pg_net is C and libcurl, and this stand-in
// shares the machine's cores with the database it serves; fetch (undici) cost about 1 ms of CPU per
// request, several times what a booking transaction costs the database.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: batchSize }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: batchSize }),
};

function send(request: QueuedRequest): Promise<Outcome> {
  const failed = (timedOut: boolean, message: string): Outcome => ({
    id: request.id,
    status_code: null,
    content_type: null,
    headers: null,
    content: null,
    timed_out: timedOut,
    error_msg: timedOut ? `Timeout of ${request.timeout_milliseconds} ms reached` : message,
  });
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      resolve(failed(false, `invalid URL: ${request.url}`));
      return;
    }
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!client) {
      resolve(failed(false, `unsupported protocol: ${url.protocol}`));
      return;
    }
    const outgoing = client.request(
      url,
      {
        method: request.method,
        headers: request.headers,
        agent: agents[url.protocol as 'http:' | 'https:'],
        timeout: request.timeout_milliseconds,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve(failed(false, String(error))));
        response.on('end', () =>
          resolve({
            id: request.id,
            status_code: response.statusCode ?? null,
            content_type: response.headers['content-type'] ?? null,
            headers: Object.fromEntries(
              Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
            ),
            content: Buffer.concat(chunks).toString('utf8'),
            timed_out: false,
            error_msg: null,
          }),
        );
      },
    );
    outgoing.on('timeout', () => {
      outgoing.destroy();
      resolve(failed(true, ''));
    });
    outgoing.on('error', (error) => resolve(failed(false, String(error))));
    outgoing.end(request.body ?? undefined);
  });
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
      // Taken off the queue, and the highest id noted: the next request queued wakes us (stand-in local-3).
      const batch = await sql<QueuedRequest[]>`
        with picked as materialized (
          -- Picked once, deleted by key: as an "id in (...)" subquery the pick could be planned to run
          -- again for every row of a long queue.
          select id from net.http_request_queue order by id limit ${batchSize} for update skip locked
        ),
        taken as (
          delete from net.http_request_queue as q using picked where q.id = picked.id
          returning q.id, q.method, q.url, q.headers, q.body, q.timeout_milliseconds
        ),
        noted as (
          update net._dispatcher_progress set last_taken = greatest(last_taken, (select max(id) from taken))
          where exists (select from taken)
        )
        select * from taken`;
      if (batch.length === 0) break;
      tookRequests();
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

// Woken like pg_net's worker: the first request queued after a pass notifies at commit (the stand-in's
// local-3 version), and a poll finds the rest (a NOTIFY from every request would serialise the
// committing transactions: see local-3's update script). net.wake() notifies too. The poll runs every
// few milliseconds while requests are flowing (a burst's requests behind the first are found by it),
// and rarely once they stop: every 10 ms it cost 46 ms of this process's CPU and 16 ms of the
// database's per second of an idle stack, on the cores everything else shares. A request that finds
// the dispatcher idle notifies unless an earlier one was rolled back (a gap in the ids); that one
// waits for the idle poll.
const BUSY_POLL_MS = Number(process.env.PG_NET_POLL_MS ?? 10);
const IDLE_POLL_MS = 250;
/** How long after the last request taken the dispatcher still polls as if busy. */
const BUSY_FOR_MS = 2_000;
let lastTakenAt = 0;
/** The next poll; undefined while a poll runs (it schedules the one after itself). */
let nextPoll: NodeJS.Timeout | undefined;
let nextPollAt = 0;
let polling = false;

function schedulePoll() {
  const delay = Date.now() - lastTakenAt < BUSY_FOR_MS ? BUSY_POLL_MS : IDLE_POLL_MS;
  nextPollAt = Date.now() + delay;
  nextPoll = setTimeout(async () => {
    nextPoll = undefined;
    await poll(); // never rejects
    schedulePoll();
  }, delay);
}

/** Requests were taken: poll as busy from now on, bringing forward an idle poll still far off. */
function tookRequests() {
  lastTakenAt = Date.now();
  if (nextPoll && nextPollAt - lastTakenAt > BUSY_POLL_MS) {
    clearTimeout(nextPoll);
    schedulePoll();
  }
}

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
schedulePoll();
setInterval(() => void expireResponses(), 60_000);
await drain();
console.log('net dispatcher: sending committed net.http_* requests');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, async () => {
    await sql.end({ timeout: 2 });
    process.exit(0);
  });
}

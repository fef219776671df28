// Stands in for pg_net's background worker (version 0.19.5, the one hosted Supabase builds for
// PostgreSQL 15; its worker loop is unchanged through 0.20.5): takes committed requests off
// net.http_request_queue, sends them, and records each outcome in net._http_response, with pg_net's
// timing. Rows of uncommitted transactions are invisible here, so nothing is sent before commit and a
// rollback sends nothing. Like pg_net: no retries, at most pg_net.batch_size requests in flight.
import dns, { type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import postgres from 'postgres';

const databaseUrl = process.env.SUPABASE_DB_URL;
if (!databaseUrl) throw new Error('SUPABASE_DB_URL is required');

// Three connections: a batch's transaction, the flag's writes, and the listening one (below). pg_net's
// worker is a background worker and takes none of the connection slots a hosted project has; these
// three do, so locally the stack has three fewer to spare (never more than hosted).
// The worker's name, by which net.check_worker_is_up(), net.wait_until_running() and
// net.worker_restart() find it (stand-in local-5; the dispatcher needs that version).
const WORKER = 'pg_net worker (local stand-in)';
// Connecting again every half second while the database is away, rather than postgres.js's growing
// backoff (up to 20 s between attempts): pg_net's worker starts again with the database.
const RECONNECT_S = 0.5;
const sql = postgres(databaseUrl, {
  max: 2,
  onnotice: () => {},
  backoff: () => RECONNECT_S,
  connection: { application_name: WORKER },
});

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
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/**
 * Name resolution as libcurl's: "localhost" and names under ".localhost" are the loopback addresses,
 * IPv6 and IPv4, without asking the system's resolver (whose hosts file may list only one of them);
 * both are tried in turn (autoSelectFamily), as libcurl tries both families. Other names as Node.
 */
function curlLookup(
  hostname: string,
  options: LookupOneOptions | LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
    dns.lookup(
      hostname,
      options as LookupAllOptions,
      callback as (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void,
    );
    return;
  }
  const loopback = [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ].filter((a) => !options.family || a.family === options.family);
  // Answered on a later turn, as a lookup is: the socket's 'lookup' event (the DNS time of pg_net's
  // timeout message) is listened for after the request starts.
  setImmediate(() => {
    if (options.all) callback(null, loopback);
    else callback(null, loopback[0]!.address, loopback[0]!.family);
  });
}

/** libcurl's texts for the failures a request meets most (pg_net records curl_easy_strerror). */
function curlError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return "Couldn't connect to server";
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return "Couldn't resolve host name";
    case 'ECONNRESET':
      return 'Server returned nothing (no headers, no data)';
    default:
      return String(error.message);
  }
}

const MAX_REDIRECTS = 30;

/** Sends one request as pg_net does with libcurl: redirects followed, the timeout over the whole exchange. */
function send(request: QueuedRequest): Promise<Outcome> {
  const started = performance.now();
  const failed = (message: string, timedOut = false): Outcome => ({
    id: request.id,
    status_code: null,
    content_type: null,
    headers: null,
    content: null,
    timed_out: timedOut,
    error_msg: message,
  });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    // pg_net's timeout message splits the time as libcurl measured it: name lookup, TCP (and TLS)
    // handshake, then the HTTP exchange.
    const steps = { lookup: 0, connect: 0, sent: 0 };
    let current: http.ClientRequest | undefined;
    const timer = setTimeout(() => {
      current?.destroy();
      const total = performance.now() - started;
      const dns = steps.lookup ? steps.lookup - started : steps.connect ? 0 : total;
      const handshake = steps.connect ? steps.connect - (steps.lookup || started) : steps.lookup ? total - dns : 0;
      const exchange = steps.sent ? performance.now() - steps.sent : 0;
      const f = (n: number) => n.toFixed(6);
      settle(
        failed(
          `Timeout of ${request.timeout_milliseconds} ms reached. Total time: ${f(total)} ms (DNS time: ${f(dns)} ms, ` +
            `TCP/SSL handshake time: ${f(handshake)} ms, HTTP Request/Response time: ${f(exchange)} ms)`,
          true,
        ),
      );
    }, request.timeout_milliseconds);

    const go = (target: string, method: string, body: Buffer | null, redirects: number) => {
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        return settle(failed('URL using bad/illegal format or missing URL'));
      }
      const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
      if (!client) return settle(failed('Unsupported protocol'));
      const outgoing = client.request(
        url,
        {
          method,
          // A body's length stated, as libcurl does (Node sends no framing of its own for a DELETE's body).
          headers: body ? { ...request.headers, 'Content-Length': String(body.length) } : request.headers,
          agent: agents[url.protocol as 'http:' | 'https:'],
          lookup: curlLookup as unknown as typeof dns.lookup,
          // Passed on to net.connect (Node 20 has it; its http types do not name it).
          ...({ autoSelectFamily: true } as object),
        },
        (response) => {
          const location = response.headers.location;
          if (location && [301, 302, 303, 307, 308].includes(response.statusCode ?? 0) && redirects < MAX_REDIRECTS) {
            response.resume();
            // As libcurl: 301-303 turn a POST into a GET without its body.
            const asGet = method === 'POST' && [301, 302, 303].includes(response.statusCode!);
            return go(new URL(location, url).toString(), asGet ? 'GET' : method, asGet ? null : body, redirects + 1);
          }
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => settle(failed(curlError(error))));
          response.on('end', () =>
            settle({
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
      current = outgoing;
      outgoing.on('socket', (socket) => {
        const now = () => performance.now();
        if (socket.connecting) {
          socket.once('lookup', () => (steps.lookup = now()));
          socket.once('connect', () => {
            steps.connect = now();
            steps.sent = now();
          });
        } else {
          // A kept-alive connection, as libcurl reuses one: no lookup or handshake this time.
          steps.lookup = steps.lookup || now();
          steps.connect = steps.connect || now();
          steps.sent = now();
        }
      });
      outgoing.on('error', (error) => settle(failed(curlError(error))));
      outgoing.end(body ?? undefined);
    };
    go(request.url, request.method, request.body, 0);
  });
}

/**
 * One iteration of pg_net's inner loop, in one transaction as pg_net does it: delete up to batch_size
 * expired responses, take up to batch_size requests off the queue, send them all at once, record each
 * outcome. The queue rows stay (deleted, uncommitted) until every request of the batch has finished.
 * pg_net.ttl and pg_net.batch_size are read at every batch, as its worker reads them after a reload.
 *
 * The statements before the sends go to the server in one flight, and so do the two after them:
 * pg_net does this work inside the server, and each round trip out to this process and back costs a
 * wake-up of each side, several milliseconds when the machine's cores are busy. `lowerFlag` puts
 * the flag's lowering first in that flight, committed before the batch's snapshot as pg_net lowers
 * its flag before it starts the batch's transaction.
 */
async function batch(lowerFlag: boolean): Promise<{ consumed: number; expired: number }> {
  const tx = await sql.reserve();
  try {
    const start = await Promise.allSettled([
      lowerFlag ? tx`update net._worker_state set awaiting_wake = true` : undefined,
      tx`begin`,
      // As pg_net: a batch runs only if the extension's tables can be locked at once; while someone
      // holds them (a TRUNCATE, a DROP EXTENSION) the worker goes back to waiting for a wake.
      tx`lock table net.http_request_queue, net._http_response in access share mode nowait`,
      tx<(QueuedRequest & { expired: string } & ConfigLoad)[]>`
        with settings as materialized (
          select coalesce(nullif(current_setting('pg_net.ttl', true), ''), '6 hours')::interval as ttl,
                 coalesce(nullif(current_setting('pg_net.batch_size', true), '')::int, 200) as batch_size
        ),
        expired as (
          delete from net._http_response as r
          using (
            select ctid from net._http_response
            where created < now() - (select ttl from settings)
            order by created limit (select batch_size from settings)
          ) as e
          where r.ctid = e.ctid
          returning 1
        ),
        picked as materialized (
          -- Picked once, deleted by key: as an "id in (...)" subquery the pick could be planned to run
          -- again for every row of a long queue.
          select id from net.http_request_queue order by id limit (select batch_size from settings)
        ),
        taken as (
          delete from net.http_request_queue as q using picked where q.id = picked.id
          returning q.id, q.method, q.url, q.headers, q.body, q.timeout_milliseconds
        )
        select (select count(*) from expired) as expired, pg_backend_pid() as backend,
               pg_conf_load_time()::text as loaded, taken.*
        from (values (1)) as one left join taken on true`,
    ]);
    const [flag, , lock, picked] = start;
    if (flag?.status === 'rejected') console.error('flag write failed:', message(flag.reason));
    if (picked?.status !== 'fulfilled') {
      await tx`rollback`;
      // The tables locked by someone else (or gone): nothing done, as pg_net.
      if (lock?.status === 'rejected') return { consumed: 0, expired: 0 };
      throw picked?.status === 'rejected' ? picked.reason : new Error('the batch did not start');
    }
    const rows = picked.value;
    if (rows[0]) configLoads.set(rows[0].backend, rows[0].loaded);
    const expired = Number(rows[0]?.expired ?? 0);
    const taken = rows.filter((r) => r.id !== null);
    if (taken.length > 0) {
      const outcomes = await Promise.all(taken.map(send));
      await Promise.all([
        tx`insert into net._http_response ${tx(outcomes.map((o) => ({ ...o, headers: o.headers && tx.json(o.headers) })))}`,
        tx`commit`,
      ]);
    } else {
      await tx`commit`;
    }
    return { consumed: taken.length, expired };
  } catch (error) {
    await tx`rollback`.catch(() => {});
    throw error;
  } finally {
    tx.release();
  }
}

/**
 * pg_net's worker handles a configuration reload (pg_reload_conf(), net.worker_restart()) as a signal
 * that sets its latch: its 1 s wait between batches ends at once, and the next batch reads the new
 * pg_net.ttl and pg_net.batch_size. The stand-in sees a reload through pg_conf_load_time(), which
 * each backend sets when it takes the reload (before its next statement): a connection's value
 * changed since its last statement means a reload came in between. Looked at every RELOAD_POLL_MS,
 * only during those 1 s waits (a reload during the wait for a wake changes nothing in pg_net either).
 */
interface ConfigLoad {
  backend: number;
  loaded: string;
}
const RELOAD_POLL_MS = 25;
const configLoads = new Map<number, string>();

function reloaded({ backend, loaded }: ConfigLoad) {
  const before = configLoads.get(backend);
  configLoads.set(backend, loaded);
  return before !== undefined && before !== loaded;
}

/** The wait between batches: up to 1 s, shorter if the latch is set or the configuration reloaded. */
async function waitBetweenBatches() {
  let waiting = true;
  void (async () => {
    while (waiting) {
      await sleep(RELOAD_POLL_MS);
      if (!waiting) return;
      const [load] = await sql<ConfigLoad[]>`
        select pg_backend_pid() as backend, pg_conf_load_time()::text as loaded`.catch(() => []);
      if (waiting && load && reloaded(load)) setLatch();
    }
  })();
  await waitLatch(1000);
  waiting = false;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

// pg_net's worker sleeps on a latch; a commit that flips its "should wake" flag sets it. Set while the
// worker is busy, the latch cuts its next wait short. Set when the worker starts, as every PostgreSQL
// process's latch is: the wait after a new worker's first batch ends at once.
let latchSet = true;
let wakeLatch: (() => void) | undefined;
// The worker waits for a wake without a timeout (its queue was empty).
let idle = false;

function setLatch() {
  latchSet = true;
  wakeLatch?.();
}

/** Waits until the latch is set (at once if it already is), or for `timeoutMs`; then resets it. */
function waitLatch(timeoutMs?: number) {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      wakeLatch = undefined;
      latchSet = false;
      resolve();
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
    if (latchSet) done();
    else wakeLatch = done;
  });
}

/**
 * The "should wake" flag, as pg_net keeps it in shared memory. Up (true) when the worker starts. The
 * transactions see it through net._worker_state.awaiting_wake (true while it is down), written here
 * in the order the flag changes; only a commit that finds it down notifies (stand-in version local-4).
 */
let shouldWake = true;
let flagWrites: Promise<unknown> = Promise.resolve();

function publishFlag() {
  const awaiting = !shouldWake;
  flagWrites = flagWrites
    .then(() => sql`update net._worker_state set awaiting_wake = ${awaiting}`)
    .catch((error) => console.error('flag write failed:', message(error)));
  return flagWrites;
}

/**
 * A commit found the flag down and notified (or net.wake() was called): raise it and set the latch.
 * Published even when already up (the table then disagreed: a notification only comes from a commit
 * that read the flag down, e.g. after the extension was dropped and created again), except while the
 * worker waits for a wake: it lowers the flag again at once, with its first batch.
 */
function woken() {
  shouldWake = true;
  if (!idle) void publishFlag();
  setLatch();
}

/**
 * net.worker_restart() was called: the worker restarts, as pg_net's: at once if it is waiting on its
 * latch, else after its current batch. While the worker is down (its 1 s before PostgreSQL starts it
 * again) a restart is remembered but sets no latch, as pg_net's worker has none then.
 */
let restartRequested = false;
let up = true;
let inBatch = false;

function requestRestart() {
  restartRequested = true;
  if (!up) return;
  // Published here rather than when the loop comes round: net.wait_until_running(), called right
  // after net.worker_restart(), is to find the worker gone, as it finds pg_net's.
  if (!inBatch) void exit();
  setLatch();
}

/** pg_net's worker exits: net.wait_until_running() waits from now. */
let exited: { at: number; written: Promise<unknown> } | undefined;

function exit() {
  up = false;
  exited ??= {
    at: performance.now(),
    written: sql`update net._worker_state set running = false`.catch(() => {}),
  };
  return exited.written;
}

/**
 * PostgreSQL starts pg_net's worker again bgw_restart_time (1 s) after it exited, connected, with its
 * flag up (pg_net raises it on exit) and its latch set (as every new PostgreSQL process's is).
 */
async function restart() {
  restartRequested = false;
  await exit();
  await sleep(1000 - (performance.now() - exited!.at));
  await listening;
  exited = undefined;
  shouldWake = true;
  latchSet = true;
  up = true;
  await flagWrites;
  await sql`update net._worker_state set running = true, awaiting_wake = false`.catch(() => {});
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** pg_net's worker loop (src/worker.c): wait for a wake; then batches, each followed by a wait of up to 1 s. */
async function work() {
  for (;;) {
    if (restartRequested) await restart();
    if (!shouldWake) {
      idle = true;
      await waitLatch();
      idle = false;
      continue;
    }
    shouldWake = false;
    // Lowered with the first batch, before its snapshot: a transaction committing after the
    // snapshot notifies. After any write of the flag still under way (woken() between batches).
    await flagWrites;
    let lowerFlag = true;
    let consumed = 0;
    let expired = 0;
    do {
      inBatch = true;
      try {
        ({ consumed, expired } = await batch(lowerFlag));
      } catch (error) {
        console.error('batch failed:', message(error));
        consumed = 0;
        expired = 0;
      } finally {
        inBatch = false;
      }
      lowerFlag = false;
      // "slow down queue processing to avoid using too much CPU" (pg_net): up to 1 s, shorter only
      // if a commit raised the flag since the worker lowered it.
      await waitBetweenBatches();
    } while (!restartRequested && (consumed > 0 || expired > 0));
  }
}

/**
 * The listening connection: wake-ups (NOTIFY pg_net_local from a commit that found the flag down) and
 * the restart signal. net.worker_restart() ends the connection whose last statement is `listen
 * "pg_net_local_restart"` (a signal that does not wait for its transaction to commit, as pg_net's does
 * not); the worker restarts as soon as that connection closes, and it listens again at once. Any loss
 * of the connection restarts the worker: wake-ups may have been lost with it, and a restarted worker
 * starts with its flag up. Kept by hand rather than with sql.listen(), which would tell only once it
 * had connected again.
 */
let stopping = false;
let closes = 0;
let relistening = false;
// When the PostgreSQL this worker started with started (pg_postmaster_start_time()).
let postmasterStarted: string | undefined;
const listener = postgres(databaseUrl, {
  max: 1,
  // Never ended by postgres.js itself (its default ends a connection after 30 to 60 minutes).
  max_lifetime: null,
  fetch_types: false,
  onnotice: () => {},
  backoff: () => RECONNECT_S,
  connection: { application_name: WORKER },
  // Not in postgres.js's types; what its sql.listen() uses underneath.
  ...({ onnotify: (channel: string) => channel === 'pg_net_local' && woken() } as object),
  onclose: () => {
    if (stopping) return;
    closes += 1;
    requestRestart();
    if (!relistening) listening = listen();
  },
});

/** LISTEN on both channels, the restart one last (its text is what net.worker_restart() looks for). */
async function listen(): Promise<void> {
  relistening = true;
  try {
    for (;;) {
      const before = closes;
      try {
        // Asked before listening: net.worker_restart() finds this connection by its last statement.
        // PostgreSQL restarted (not net.worker_restart()): its background workers, pg_net's among them,
        // end with it and start again with the new postmaster. This process exits likewise and the
        // stack's loop starts a fresh one, rather than resuming with state (its flag, a write under
        // way on a connection that died) from before the restart.
        const [{ started }] = await listener<{ started: string }[]>`select pg_postmaster_start_time()::text as started`;
        if (postmasterStarted !== undefined && started !== postmasterStarted) {
          console.log('net dispatcher: PostgreSQL restarted; the worker exits to start again with it');
          process.exit(1);
        }
        postmasterStarted = started;
        await listener.unsafe('listen "pg_net_local"');
        await listener.unsafe('listen "pg_net_local_restart"');
        // Both on the same connection: not lost in between.
        if (closes !== before) continue;
        // A net.worker_restart() that ended no connection (it came while this one listened again) is
        // still recorded (net._worker_restart_asked, stand-in local-5); its exit, if one is under way,
        // acknowledges what came before it.
        await exited?.written;
        const missed = await sql`
          select from net._worker_restart_asked as a, net._worker_state as w where a.last_value > w.restart_seen`
          // The extension may not exist yet (pg_net's tests create it after the worker started).
          .catch(() => []);
        if (missed.length > 0) requestRestart();
        return;
      } catch (error) {
        if (stopping) return;
        console.error('listen failed:', message(error));
        await sleep(250);
      }
    }
  } finally {
    relistening = false;
  }
}

// A new worker: restarts asked for before it started are behind it, and it runs.
await sql`
  update net._worker_state
  set running = true, restart_seen = greatest(restart_seen, (select last_value from net._worker_restart_asked))`
  // The extension may not exist yet (pg_net's tests create it after the worker started).
  .catch(() => {});
let listening = listen();
await listening;
console.log("net dispatcher: sending committed net.http_* requests with pg_net 0.19.5's timing");
void work();

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, async () => {
    stopping = true;
    await Promise.all([sql.end({ timeout: 2 }), listener.end({ timeout: 2 })]);
    process.exit(0);
  });
}

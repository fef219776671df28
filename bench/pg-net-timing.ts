// Benchmark 8: from the commit of a booking to the moment SALTO holds the permission, with pg_net's
// own timing (the stand-in follows pg_net 0.19.5's worker loop: woken at commit only when its flag is
// down, batches of up to 200, a wait of up to 1 s after each batch), for a quiet building and a busy one.
import type { Sql } from 'postgres';
import { grants, startOf } from './booking-latency.ts';
import {
  type BenchBuilding,
  type BenchResult,
  bookAsApp,
  createBuildings,
  dropBuildings,
  futureBase,
  HOUR,
  ms,
  percentile,
  sleep,
} from './support.ts';

const HOURS = 10;
const TIMETABLES = 20;
/** Quiet: bookings one at a time, 4 to 6 s apart (see the method for why not one a minute). */
const QUIET_BOOKINGS = 20;
const QUIET_GAP_MS = [4_000, 6_000] as const;
/** Busy: 20 bookings a second, for 30 s. */
const BUSY_BOOKINGS = 600;
const BUSY_PER_SECOND = 20;
const APARTMENTS = (QUIET_BOOKINGS + BUSY_BOOKINGS) / HOURS + TIMETABLES / HOURS;

interface Committed {
  accessLevelId: string;
  zoneId: string;
  /** Epoch ms, when the client saw COMMIT return. */
  at: number;
  /** Whether pg_net's flag was down (its worker waiting for a wake) just before the booking. */
  workerIdle?: boolean;
}

const finite = (values: number[]) => values.filter(Number.isFinite);
const now = () => performance.timeOrigin + performance.now();

async function book(sql: Sql, building: BenchBuilding, pair: number, base: number) {
  const apartment = building.apartments[Math.floor(pair / HOURS)]!;
  const facility = building.facilities[pair % HOURS]!;
  const startsAt = startOf(base, pair);
  await bookAsApp(sql, 'public.bookings', {
    facilityId: facility.id,
    apartmentId: apartment.id,
    startsAt,
    endsAt: new Date(startsAt.getTime() + HOUR),
  });
  return { accessLevelId: apartment.accessLevelId, zoneId: facility.zoneId, at: now() };
}

/** Each booking's latency: until the simulator answered the first applied write granting it. */
async function latencies(building: BenchBuilding, committed: Committed[]) {
  const found: number[] = [];
  for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
    const writes = building.simulator.requests({ requestName: 'SaltoDBGroup.Update' });
    found.length = 0;
    for (const booking of committed) {
      const write = writes.find((w) => w.atMs > booking.at - 1 && grants(w, booking.accessLevelId, booking.zoneId));
      if (write) found.push(write.atMs - booking.at);
    }
    if (found.length === committed.length || Date.now() > deadline) break;
  }
  if (found.length < committed.length)
    throw new Error(`only ${found.length} of ${committed.length} permissions reached SALTO within a minute`);
  return found;
}

/**
 * When pg_net's worker started each batch that sent a salto-sync wake-up: net._http_response.created
 * is now() of the worker's batch transaction. For each booking, the wait until the next batch began.
 */
async function queueWaits(sql: Sql, committed: Committed[]) {
  const from = new Date(Math.min(...committed.map((c) => c.at)) - 1000);
  const batches = (
    await sql<{ started: Date }[]>`
      select distinct created as started from net._http_response where created >= ${from} order by 1`
  ).map((b) => b.started.getTime());
  // The batch that takes a request starts after its commit, which the client sees a moment later:
  // the notification and the COMMIT's answer race (hence the 20 ms of slack).
  const waits: number[] = [];
  for (const booking of committed) {
    const next = batches.find((b) => b >= booking.at - 20);
    waits.push(next === undefined ? Number.NaN : next - booking.at);
  }
  const gaps = batches.slice(1).map((b, i) => b - batches[i]!);
  return { waits, gaps };
}

export async function pgNetTiming(sql: Sql): Promise<BenchResult> {
  const [building] = await createBuildings(sql, 1, APARTMENTS, HOURS);
  try {
    const base = futureBase();
    // Warm-up, not measured: one booking per weekly timetable the run uses (every measured booking
    // then needs one SALTO read and one write) and the function compiled.
    let pair = 0;
    for (; pair < TIMETABLES; pair++) {
      const booking = await book(sql, building!, pair, base);
      for (const until = Date.now() + 30_000; Date.now() < until; await sleep(20)) {
        const writes = building!.simulator.requests({ requestName: 'SaltoDBGroup.Update' });
        if (writes.some((w) => w.atMs > booking.at && grants(w, booking.accessLevelId, booking.zoneId))) break;
      }
    }
    building!.simulator.clearRequests();
    await sleep(3_000); // pg_net's worker back to waiting for a wake

    // Quiet: one booking at a time, the worker's state read just before each.
    const quiet: Committed[] = [];
    for (let i = 0; i < QUIET_BOOKINGS; i++, pair++) {
      await sleep(QUIET_GAP_MS[0] + Math.random() * (QUIET_GAP_MS[1] - QUIET_GAP_MS[0]));
      const [state] = await sql<{ idle: boolean }[]>`select awaiting_wake as idle from net._worker_state`;
      quiet.push({ ...(await book(sql, building!, pair, base)), workerIdle: state!.idle });
    }
    const quietLatencies = await latencies(building!, quiet);
    const quietQueue = await queueWaits(sql, quiet);
    await sleep(3_000);

    // Busy: a steady 20 bookings a second, each committed in its own transaction.
    const busy: Committed[] = [];
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < BUSY_BOOKINGS; i++, pair++) {
      const due = started + (i * 1000) / BUSY_PER_SECOND;
      if (due > Date.now()) await sleep(due - Date.now());
      inFlight.push(book(sql, building!, pair, base).then((c) => void busy.push(c)));
    }
    await Promise.all(inFlight);
    await sleep(1000);
    const busyLatencies = await latencies(building!, busy);
    const busyQueue = await queueWaits(sql, busy);

    const quietP95 = percentile(quietLatencies, 95);
    const busyP95 = percentile(busyLatencies, 95);
    const idle = quiet.filter((q) => q.workerIdle).length;
    /** Bookings whose permission SALTO held before their own wake-up was sent: a round already running took them. */
    const takenEarlier = (all: number[], waits: number[]) => all.filter((l, i) => l < (waits[i] ?? 0)).length;
    return {
      name: "8. Booking to SALTO with pg_net's timing, quiet and busy",
      figure: `quiet p95 ${ms(quietP95)}, busy p95 ${ms(busyP95)}`,
      goal: 'p95 at most 1.5 s quiet, at most 0.5 s busy',
      met: quietP95 <= 1500 && busyP95 <= 500,
      method:
        `One building, each booking its own apartment and facility, committed one per transaction as the app writes them, after a warm-up of ` +
        `${TIMETABLES} bookings (one per weekly timetable, so each measured booking needs one SALTO read and one write). Latency = from the client ` +
        `seeing COMMIT return to the simulator answering the first applied SaltoDBGroup.Update granting it, through the real pipeline (trigger, pg_net ` +
        `stand-in with pg_net 0.19.5's timing, gateway, Deno salto-sync, in-process simulator). Quiet: ${QUIET_BOOKINGS} bookings one at a time, ` +
        `${QUIET_GAP_MS[0] / 1000} to ${QUIET_GAP_MS[1] / 1000} s apart: what makes a building quiet for pg_net is that its worker waits for a wake when ` +
        `a booking commits, which it does again at most about 2 s after its last batch (one batch, 1 s, one empty batch, 1 s); one booking a minute ` +
        `finds it the same way, apart from the minutes when a pg_cron job's wake-up has just run. Busy: ${BUSY_BOOKINGS} bookings at a steady ` +
        `${BUSY_PER_SECOND} a second. Queue wait = from the commit to the start of the next batch of pg_net's worker (net._http_response.created is ` +
        `now() of the batch's transaction).`,
      details: [
        `quiet: p50 ${ms(percentile(quietLatencies, 50))}, p95 ${ms(quietP95)}, max ${ms(Math.max(...quietLatencies))}; ` +
          `${idle} of ${QUIET_BOOKINGS} bookings found pg_net's worker waiting for a wake; queue wait p50 ${ms(percentile(finite(quietQueue.waits), 50))}, ` +
          `p95 ${ms(percentile(finite(quietQueue.waits), 95))}`,
        `busy: p50 ${ms(percentile(busyLatencies, 50))}, p95 ${ms(busyP95)}, max ${ms(Math.max(...busyLatencies))}; queue wait p50 ` +
          `${ms(percentile(finite(busyQueue.waits), 50))}, p95 ${ms(percentile(finite(busyQueue.waits), 95))}; ${takenEarlier(busyLatencies, busyQueue.waits)} of ` +
          `${BUSY_BOOKINGS} bookings were in SALTO before their own wake-up left (a sync round already running took them); ` +
          `${busyQueue.gaps.length + 1} batches, from one batch's start to the next p50 ${ms(percentile(busyQueue.gaps, 50))}, ` +
          `p95 ${ms(percentile(busyQueue.gaps, 95))} (pg_net's 1 s wait plus the batch's own requests)`,
      ],
    };
  } finally {
    await dropBuildings(sql, [building!]);
  }
}

// Benchmark 2: from the commit of a booking to the moment SALTO holds the permission, through the
// real pipeline: trigger -> pg_net (the local dispatcher) -> gateway -> the Deno salto-sync function
// -> the building's SALTO simulator (no added latency).
import type { Sql } from 'postgres';
import { createSaltoClient } from '../src/shared/salto/index.ts';
import type { LoggedRequest } from '../src/simulator/engine.ts';
import {
  type BenchResult,
  bookAsApp,
  createBuildings,
  DAY,
  dropBuildings,
  futureBase,
  HOUR,
  median,
  ms,
  percentile,
  sleep,
} from './support.ts';

const BOOKINGS = 500;
const PER_SECOND = 20;
const LEAST_WORK_SAMPLES = 100;
/** The weekdays and hours the bookings use: 4 days x 10 hours, so 20 distinct weekly timetables. */
const DAYS = 4;
const HOURS = 10;
const TIMETABLES = 20;
/** The warm-up books one apartment per HOURS of its TIMETABLES bookings, each at another facility. */
const WARM_UP_APARTMENTS = TIMETABLES / HOURS;
const MEASURED_APARTMENTS = 50;

/** Booking i's hour: one of DAYS days from `base`, starting at one of HOURS hours from 08:00. */
export const startOf = (base: number, i: number) => new Date(base + (i % DAYS) * DAY + (8 + (i % HOURS)) * HOUR);

/** The request names the access level (an update's ExtGroupID, a read's StartingFromExtGroupID). */
export const namesLevel = (r: LoggedRequest, accessLevelId: string) => r.request.includes(`>${accessLevelId}<`);

/** An applied write of the access level naming the zone: SALTO holds that permission from then on. */
export const grants = (r: LoggedRequest, accessLevelId: string, zoneId: string) =>
  r.requestName === 'SaltoDBGroup.Update' &&
  r.applied &&
  namesLevel(r, accessLevelId) &&
  r.request.includes(`>${zoneId}<`);

export async function bookingLatency(sql: Sql): Promise<BenchResult> {
  // 50 apartments x 10 facilities: one booking per pair, so each lands in a permission of its own.
  const [building] = await createBuildings(sql, 1, MEASURED_APARTMENTS + WARM_UP_APARTMENTS + 1, HOURS);
  const spare = building!.apartments.pop()!; // the least-work access level, never booked
  const warmUpApartments = building!.apartments.splice(-WARM_UP_APARTMENTS);
  try {
    const client = createSaltoClient(building!.simulator.endpoint('http'));
    // The least work a booking needs, done as a booking is: one at a time at the bookings' steady rate
    // (paced), and, as measured until session 7, back to back. Back to back it takes half to two thirds
    // of the time: no process waits idle between calls, and on this machine waking one costs more than
    // the work.
    const leastWork = async (paced: boolean) => {
      const samples: number[] = [];
      for (let i = 0; i < LEAST_WORK_SAMPLES; i++) {
        if (paced) await sleep(1000 / PER_SECOND);
        const t0 = performance.now();
        const level = await client.readAccessLevel(spare.accessLevelId);
        await client.replaceZonePermissions(spare.accessLevelId, level.zonePermissions);
        samples.push(performance.now() - t0);
      }
      return samples;
    };
    const before = await leastWork(true);
    const backToBackBefore = await leastWork(false);
    const base = futureBase();

    // Warm-up, not measured: a booking for each of the 20 weekly timetables the run uses, so that every
    // measured booking needs exactly the least work (one read and one write; a new timetable is one
    // SALTO call more, which a running building makes only for its first booking of a weekday and
    // hour), and the function has run before (its first calls compile it).
    const warmUp: number[] = [];
    for (let i = 0; i < TIMETABLES; i++) {
      const a = warmUpApartments[Math.floor(i / HOURS)]!;
      const f = building!.facilities[i % HOURS]!;
      const startsAt = startOf(base, i);
      await bookAsApp(sql, 'public.bookings', {
        facilityId: f.id,
        apartmentId: a.id,
        startsAt,
        endsAt: new Date(startsAt.getTime() + HOUR),
      });
      const at = performance.timeOrigin + performance.now();
      for (const until = Date.now() + 30_000; Date.now() < until; await sleep(5)) {
        const write = building!.simulator
          .requests({ requestName: 'SaltoDBGroup.Update' })
          .find((w) => w.atMs > at && grants(w, a.accessLevelId, f.zoneId));
        if (write) {
          warmUp.push(write.atMs - at);
          break;
        }
      }
    }
    if (warmUp.length < TIMETABLES)
      throw new Error(`only ${warmUp.length} of ${TIMETABLES} warm-up bookings reached SALTO within 30 s each`);
    const timetableWrites = building!.simulator.requests({ requestName: 'SaltoDBTimezoneTable.Update' }).length;
    building!.simulator.clearRequests();

    const pairs = building!.apartments.flatMap((a) => building!.facilities.map((f) => ({ a, f })));
    const committed: { accessLevelId: string; zoneId: string; at: number }[] = [];
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < BOOKINGS; i++) {
      // A steady rate: booking i is made at started + i / rate, whatever the previous ones took.
      const due = started + (i * 1000) / PER_SECOND;
      if (due > Date.now()) await sleep(due - Date.now());
      const { a, f } = pairs[i]!;
      const startsAt = startOf(base, i);
      inFlight.push(
        bookAsApp(sql, 'public.bookings', {
          facilityId: f.id,
          apartmentId: a.id,
          startsAt,
          endsAt: new Date(startsAt.getTime() + HOUR),
        }).then(() => {
          // The simulator runs in this process: its log's epoch milliseconds are on this clock.
          committed.push({
            accessLevelId: a.accessLevelId,
            zoneId: f.zoneId,
            at: performance.timeOrigin + performance.now(),
          });
        }),
      );
    }
    await Promise.all(inFlight);

    // The simulator answers in this process: scanning its log while the last bookings are still on
    // their way would hold their SALTO calls back (the scan is synchronous).
    await sleep(1000);
    // When did SALTO first hold each permission? The first applied write of the access level that
    // names the zone (the simulator records when it answered, after applying).
    const latencies: number[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const writes = building!.simulator.requests({ requestName: 'SaltoDBGroup.Update' });
      latencies.length = 0;
      for (const booking of committed) {
        const write = writes.find((w) => grants(w, booking.accessLevelId, booking.zoneId));
        if (write) latencies.push(write.atMs - booking.at);
      }
      if (latencies.length === committed.length || Date.now() > deadline) break;
      await sleep(200);
    }
    if (latencies.length < committed.length)
      throw new Error(`only ${latencies.length} of ${committed.length} permissions reached SALTO within a minute`);
    // Where the time goes, from the simulator's log: until SALTO is asked for the access level (the
    // wake-up, the function's authentication, the fold and lease, the building's reads), then until
    // the write is answered (SALTO's read and write, and the merge between them).
    const requests = building!.simulator.requests();
    const untilRead: number[] = [];
    const readToWrite: number[] = [];
    for (const booking of committed) {
      const write = requests.find((r) => grants(r, booking.accessLevelId, booking.zoneId));
      const read =
        write &&
        requests
          .filter(
            (r) =>
              r.requestName === 'SaltoDBGroupList.Read' && r.seq < write.seq && namesLevel(r, booking.accessLevelId),
          )
          .at(-1);
      if (!write || !read || read.receivedAtMs < booking.at) continue;
      untilRead.push(read.receivedAtMs - booking.at);
      readToWrite.push(write.atMs - read.receivedAtMs);
    }
    const after = await leastWork(true);
    const backToBack = [...backToBackBefore, ...(await leastWork(false))];
    const least = median([...before, ...after]);
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    return {
      name: '2. Booking to SALTO latency',
      figure: `p50 ${ms(p50)}, p95 ${ms(p95)} = ${(p95 / least).toFixed(1)}x the least work (${ms(least)})`,
      goal: 'p95 at most 5x the least work',
      met: p95 <= 5 * least,
      method:
        `${BOOKINGS} bookings at a steady ${PER_SECOND} per second, each its own apartment and facility of one building (50 apartments x 10 facilities), ` +
        `after a warm-up of ${TIMETABLES} bookings one at a time (not measured; one per weekly timetable the run uses, so each measured booking needs ` +
        `exactly one read and one write, as in a building already running, and the function has run before), ` +
        `committed one per transaction as the app writes them; latency = from the client seeing COMMIT return to the simulator answering the ` +
        `first applied SaltoDBGroup.Update of that access level naming that zone, through the real pipeline (trigger, pg_net stand-in ` +
        `dispatcher, gateway, Deno salto-sync, in-process simulator without added latency). Least work = one readAccessLevel plus one ` +
        `replaceZonePermissions by the SHIP client directly against the same simulator, median of ${2 * LEAST_WORK_SAMPLES} samples taken before and after, ` +
        `one every ${1000 / PER_SECOND} ms like the bookings (done back to back instead, the same work takes half to two thirds of the time on this machine: see the details).`,
      details: [
        `warm-up: ${TIMETABLES} bookings, ${timetableWrites} new timetables written: p50 ${ms(median(warmUp))}, max ${ms(Math.max(...warmUp))}`,
        `least work p50 ${ms(least)}, p95 ${ms(percentile([...before, ...after], 95))}; booking latency max ${ms(Math.max(...latencies))}`,
        `the same least work back to back (the yardstick until session 7): p50 ${ms(median(backToBack))}; the booking latency's p95 is ` +
          `${(p95 / median(backToBack)).toFixed(1)}x that`,
        `commit until SALTO is asked for the access level p50 ${ms(percentile(untilRead, 50))}, p95 ${ms(percentile(untilRead, 95))}; ` +
          `then until the write is answered p50 ${ms(percentile(readToWrite, 50))}, p95 ${ms(percentile(readToWrite, 95))}`,
      ],
    };
  } finally {
    await dropBuildings(sql, [building!]);
  }
}

// Benchmark 2: from the commit of a booking to the moment SALTO holds the permission, through the
// real pipeline: trigger -> pg_net (the local dispatcher) -> gateway -> the Deno salto-sync function
// -> the building's SALTO simulator (no added latency).
import type { Sql } from 'postgres';
import { createSaltoClient } from '../src/shared/salto/index.ts';
import { bookAsApp, createBuildings, dropBuildings, futureBase, HOUR, DAY, median, ms, percentile, sleep, type BenchResult } from './support.ts';

const BOOKINGS = 500;
const PER_SECOND = 20;
const LEAST_WORK_SAMPLES = 100;

export async function bookingLatency(sql: Sql): Promise<BenchResult> {
  // 50 apartments x 10 facilities: one booking per pair, so each lands in a permission of its own.
  const [building] = await createBuildings(sql, 1, 51, 10);
  const spare = building!.apartments.pop()!; // the least-work access level, never booked
  try {
    const client = createSaltoClient(building!.simulator.endpoint('http'));
    const leastWork = async () => {
      const samples: number[] = [];
      for (let i = 0; i < LEAST_WORK_SAMPLES; i++) {
        const t0 = performance.now();
        const level = await client.readAccessLevel(spare.accessLevelId);
        await client.replaceZonePermissions(spare.accessLevelId, level.zonePermissions);
        samples.push(performance.now() - t0);
      }
      return samples;
    };
    const before = await leastWork();

    const base = futureBase();
    const pairs = building!.apartments.flatMap((a) => building!.facilities.map((f) => ({ a, f })));
    const committed: { accessLevelId: string; zoneId: string; at: number }[] = [];
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < BOOKINGS; i++) {
      // A steady rate: booking i is made at started + i / rate, whatever the previous ones took.
      const due = started + (i * 1000) / PER_SECOND;
      if (due > Date.now()) await sleep(due - Date.now());
      const { a, f } = pairs[i]!;
      const startsAt = new Date(base + (i % 4) * DAY + (8 + (i % 10)) * HOUR);
      inFlight.push(
        bookAsApp(sql, 'public.bookings', { facilityId: f.id, apartmentId: a.id, startsAt, endsAt: new Date(startsAt.getTime() + HOUR) }).then(() => {
          committed.push({ accessLevelId: a.accessLevelId, zoneId: f.zoneId, at: Date.now() });
        }),
      );
    }
    await Promise.all(inFlight);

    // When did SALTO first hold each permission? The first applied write of the access level that
    // names the zone (the simulator records when it answered, after applying).
    const latencies: number[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const writes = building!.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).filter((r) => r.applied);
      latencies.length = 0;
      for (const booking of committed) {
        const write = writes.find((w) => w.request.includes(`<ExtGroupID>${booking.accessLevelId}</ExtGroupID>`) && w.request.includes(`>${booking.zoneId}<`));
        if (write) latencies.push(Date.parse(write.at) - booking.at);
      }
      if (latencies.length === committed.length || Date.now() > deadline) break;
      await sleep(200);
    }
    if (latencies.length < committed.length) throw new Error(`only ${latencies.length} of ${committed.length} permissions reached SALTO within a minute`);
    // Where the time goes, from the simulator's log: until SALTO is asked for the access level (the
    // wake-up, the function's authentication, the fold and lease, the building's reads), then until
    // the write is answered (SALTO's read and write, and the merge between them).
    const requests = building!.simulator.requests();
    const untilRead: number[] = [];
    const readToWrite: number[] = [];
    for (const booking of committed) {
      const names = (r: (typeof requests)[number]) => r.request.includes(`<ExtGroupID>${booking.accessLevelId}</ExtGroupID>`) || r.request.includes(`>${booking.accessLevelId}<`);
      const write = requests.find((r) => r.requestName === 'SaltoDBGroup.Update' && r.applied && names(r) && r.request.includes(`>${booking.zoneId}<`));
      const read = write && requests.filter((r) => r.requestName === 'SaltoDBGroupList.Read' && r.seq < write.seq && names(r)).at(-1);
      if (!write || !read || Date.parse(read.receivedAt) < booking.at) continue;
      untilRead.push(Date.parse(read.receivedAt) - booking.at);
      readToWrite.push(Date.parse(write.at) - Date.parse(read.receivedAt));
    }
    const after = await leastWork();
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
        `committed one per transaction as the app writes them; latency = from the client seeing COMMIT return to the simulator answering the ` +
        `first applied SaltoDBGroup.Update of that access level naming that zone, through the real pipeline (trigger, pg_net stand-in ` +
        `dispatcher, gateway, Deno salto-sync, in-process simulator without added latency). Least work = one readAccessLevel plus one ` +
        `replaceZonePermissions by the SHIP client directly against the same simulator, median of ${2 * LEAST_WORK_SAMPLES} samples taken before and after.`,
      details: [
        `least work p50 ${ms(least)}, p95 ${ms(percentile([...before, ...after], 95))}; booking latency max ${ms(Math.max(...latencies))}`,
        `commit until SALTO is asked for the access level p50 ${ms(percentile(untilRead, 50))}, p95 ${ms(percentile(untilRead, 95))}; ` +
          `then until the write is answered p50 ${ms(percentile(readToWrite, 50))}, p95 ${ms(percentile(readToWrite, 95))}`,
      ],
    };
  } finally {
    await dropBuildings(sql, [building!]);
  }
}

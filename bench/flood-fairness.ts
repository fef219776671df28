// Benchmark 7: one building's flood does not delay another building. Building Y books at a steady
// rate; its commit-to-SALTO latency is measured while nothing else happens (quiet), then while
// building X commits 10,000 bookings in one statement (flood) and the pipeline folds and writes them.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import { freePort, repoRoot } from '../local/config.ts';
import {
  type BenchBuilding,
  type BenchResult,
  bookAsApp,
  createBuildings,
  DAY,
  dropBuildings,
  futureBase,
  HOUR,
  ms,
  percentile,
  sleep,
  stackEnv,
} from './support.ts';

const FLOOD_APARTMENTS = 1_000;
const FLOOD_FACILITIES = 10;
const Y_APARTMENTS = 40;
const Y_FACILITIES = 5;
/** Building Y's steady rate: one booking every 500 ms, in each phase. */
const Y_GAP_MS = 500;
const Y_BOOKINGS_PER_PHASE = 40;

interface SyncWorker {
  id: number;
  cpuMs: number;
  endedBy: string | null;
}

/** The local edge runtime's salto-sync workers, live and ended (GET /_runtime/workers). */
async function syncWorkers(): Promise<SyncWorker[]> {
  const response = await fetch(`${new URL(stackEnv().FUNCTIONS_URL).origin}/_runtime/workers`);
  const { workers } = (await response.json()) as { workers: (SyncWorker & { functionName: string })[] };
  return workers.filter((w) => w.functionName === 'salto-sync');
}

/**
 * Watches the salto-sync workers started from now on, every 50 ms, until stop(): how each ended and
 * the most CPU it was seen with.
 */
async function watchSyncWorkers() {
  const before = Math.max(0, ...(await syncWorkers()).map((w) => w.id));
  const seen = new Map<number, SyncWorker>();
  let watching = true;
  const read = async () => {
    for (const w of await syncWorkers()) {
      if (w.id <= before) continue;
      seen.set(w.id, { ...w, cpuMs: Math.max(w.cpuMs, seen.get(w.id)?.cpuMs ?? 0) });
    }
  };
  const loop = (async () => {
    while (watching) {
      await read().catch(() => {});
      await sleep(50);
    }
  })();
  return async () => {
    watching = false;
    await loop;
    await read();
    return [...seen.values()];
  };
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** X's SALTO runs in a process of its own, so its 1,000 writes do not share a thread with Y's. */
async function startSimulatorProcess(building: BenchBuilding, key: string) {
  const port = await freePort();
  const seedFile = join(tmpdir(), `flood-seed-${building.tag}.json`);
  writeFileSync(
    seedFile,
    JSON.stringify({
      timeZone: 'Australia/Sydney',
      zones: [...building.permanentZones, ...building.facilities.map((f) => f.zoneId)].map((id) => ({ id, name: id })),
      accessLevels: building.apartments.map((a) => ({
        id: a.accessLevelId,
        name: a.accessLevelId,
        zonePermissions: building.permanentZones.map((zoneId) => ({ zoneId, timetableId: 0, usePeriod: false })),
      })),
    }),
  );
  const child: ChildProcess = spawn(
    join(repoRoot, 'node_modules', '.bin', 'tsx'),
    [
      join(repoRoot, 'src', 'simulator', 'main.ts'),
      `--http-port=${port}`,
      '--no-stp',
      '--auth=key',
      `--seed=${seedFile}`,
    ],
    { env: { ...process.env, SALTO_SIM_KEY: key }, stdio: 'ignore' },
  );
  for (const until = Date.now() + 30_000; ; await sleep(100)) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/_simulator/state`)).ok) break;
    } catch {
      if (Date.now() > until) throw new Error('the flood building’s simulator did not start');
    }
  }
  return {
    port,
    /** Update requests the simulator answered (its control API's request log). */
    writes: async () => {
      const reply = await fetch(`http://127.0.0.1:${port}/_simulator/requests?requestName=SaltoDBGroup.Update`);
      return ((await reply.json()) as unknown[]).length;
    },
    stop: () => {
      child.kill('SIGTERM');
      rmSync(seedFile, { force: true });
    },
  };
}

/**
 * Books Y at its steady rate and returns each booking's commit-to-SALTO latency. Booking i is the only
 * booking of its apartment and facility (120 of the 200 pairs are used), so each gets a permission at once.
 */
async function bookSteadily(sql: Sql, y: BenchBuilding, first: number, base: number) {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = first; i < first + Y_BOOKINGS_PER_PHASE; i++) {
    const a = y.apartments[i % Y_APARTMENTS]!;
    const f = y.facilities[Math.floor(i / Y_APARTMENTS) % Y_FACILITIES]!;
    // 4 days x 5 hours: 20 weekly timetables, all made by the warm-up, well inside the reserved range.
    const startsAt = new Date(base + (i % 4) * DAY + (8 + (i % 5)) * HOUR);
    const booked = bookAsApp(sql, 'public.bookings', {
      facilityId: f.id,
      apartmentId: a.id,
      startsAt,
      endsAt: new Date(startsAt.getTime() + HOUR),
    }).then(async () => {
      const committed = performance.timeOrigin + performance.now();
      for (const until = Date.now() + 120_000; Date.now() < until; await sleep(10)) {
        const write = y.simulator
          .requests({ requestName: 'SaltoDBGroup.Update' })
          .find(
            (r) =>
              r.applied &&
              r.atMs > committed &&
              r.request.includes(`>${a.accessLevelId}<`) &&
              r.request.includes(`>${f.zoneId}<`),
          );
        if (write) {
          latencies.push(write.atMs - committed);
          return;
        }
      }
      latencies.push(Number.POSITIVE_INFINITY);
    });
    pending.push(booked);
    await sleep(Y_GAP_MS);
  }
  await Promise.all(pending);
  return latencies;
}

export async function floodFairness(sql: Sql): Promise<BenchResult> {
  const [y] = await createBuildings(sql, 1, Y_APARTMENTS, Y_FACILITIES);
  const [x] = await createBuildings(sql, 1, FLOOD_APARTMENTS, FLOOD_FACILITIES, { withSalto: false });
  const key = randomBytes(18).toString('base64url');
  const xSalto = await startSimulatorProcess(x!, key);
  let stopWatching: (() => Promise<SyncWorker[]>) | undefined;
  try {
    await sql.begin(async (tx) => {
      await tx`select vault.create_secret(${key}, ${`salto_ship_key:${x!.id}`})`;
      await tx`insert into integration.salto_servers (building_id, transport, host, port, auth_mode, credential_secret_name, writes)
        values (${x!.id}, 'http', '127.0.0.1', ${xSalto.port}, 'key', ${`salto_ship_key:${x!.id}`}, 'live')`;
    });
    await sql`analyze public.bookings, public.apartments, public.facilities`;
    const base = futureBase();
    // Warm-up (not measured): the function has run, Y's timetables exist.
    await bookSteadily(sql, y!, 2 * Y_BOOKINGS_PER_PHASE, base);
    y!.simulator.clearRequests();

    const loadBefore = loadAverage();
    stopWatching = await watchSyncWorkers();
    const quiet = await bookSteadily(sql, y!, 0, base);

    // X's flood: every apartment books every facility, one statement, as the service role.
    const floodStarted = performance.now();
    const flood = sql.begin(async (tx) => {
      await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true)`;
      await tx`
        insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
        select f.id, a.id, ${new Date(base + 2 * DAY)}::timestamptz + (a.n % 10) * interval '1 hour',
          ${new Date(base + 2 * DAY)}::timestamptz + (a.n % 10) * interval '1 hour' + interval '1 hour'
        from (select id, row_number() over (order by id) as n from public.apartments where building_id = ${x!.id}) as a
        cross join public.facilities as f where f.building_id = ${x!.id}`;
    });
    await flood;
    const floodCommitMs = performance.now() - floodStarted;
    const during = await bookSteadily(sql, y!, Y_BOOKINGS_PER_PHASE, base);
    const [left] = await sql<{ n: number }[]>`
      select count(*)::int as n from integration.booking_changes where building_id = ${x!.id}`;
    const xWrites = await xSalto.writes();
    const loadAfter = loadAverage();
    const workers = await stopWatching();
    stopWatching = undefined;
    const ended = new Map<string, number>();
    for (const w of workers)
      ended.set(w.endedBy ?? 'still serving', (ended.get(w.endedBy ?? 'still serving') ?? 0) + 1);

    const quietP95 = percentile(quiet, 95);
    const floodP95 = percentile(during, 95);
    const times = floodP95 / quietP95;
    return {
      name: '7. One building’s flood and another building’s bookings',
      figure: `Y's p95 ${ms(floodP95)} during X's flood, ${ms(quietP95)} quiet: ${times.toFixed(2)}x`,
      goal: "Y's commit-to-SALTO p95 during the flood at most 2x its quiet p95",
      met: times <= 2,
      method:
        `Building Y (${Y_APARTMENTS} apartments x ${Y_FACILITIES} facilities, in-process simulator) books one booking every ${Y_GAP_MS} ms, ` +
        `${Y_BOOKINGS_PER_PHASE} per phase, each through the real pipeline; latency = from COMMIT returning to Y's simulator answering the applied ` +
        `SaltoDBGroup.Update naming that access level and zone. Quiet phase first, then building X (${FLOOD_APARTMENTS} apartments x ` +
        `${FLOOD_FACILITIES} facilities, its simulator in a process of its own) commits ${FLOOD_APARTMENTS * FLOOD_FACILITIES} bookings in one ` +
        "statement as the service role, and Y's second phase starts at once.",
      details: [
        `quiet p50 ${ms(percentile(quiet, 50))}, p95 ${ms(quietP95)}; during the flood p50 ${ms(percentile(during, 50))}, p95 ${ms(floodP95)}, max ${ms(Math.max(...during))}`,
        `X's flood: ${FLOOD_APARTMENTS * FLOOD_FACILITIES} bookings committed in ${ms(floodCommitMs)}; when Y's phase ended, ${left!.n} of X's ` +
          `booking changes were still to fold and X's SALTO had answered ${xWrites} access level writes`,
        `salto-sync workers over both phases: ${workers.length}, ${[...ended].map(([why, n]) => `${why} ${n}`).join(', ')}; ` +
          `the most CPU any was seen with ${Math.max(0, ...workers.map((w) => w.cpuMs))} ms (retired at 1000, killed at 2000; ` +
          `all: ${workers.map((w) => w.cpuMs).join(', ')} ms); load average ${loadBefore} before, ${loadAfter} after`,
      ],
    };
  } finally {
    await stopWatching?.();
    xSalto.stop();
    await dropBuildings(sql, [x!, y!]);
  }
}

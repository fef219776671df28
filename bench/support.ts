// What every benchmark shares: the result shape, the stack's database, timing and percentiles,
// bench buildings with their own in-process SALTO simulators, and bulk booking set-ups.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { paths, readEnvFile, repoRoot } from '../local/config.ts';
import { seededRandom } from '../src/simulator/faults.ts';
import { type SimulatorHandle, startSimulator } from '../src/simulator/simulator.ts';
import type { SiteSeed } from '../src/simulator/state.ts';

export interface BenchResult {
  name: string;
  /** The measured figure, as printed (with its unit). */
  figure: string;
  /** The goal, as printed. */
  goal: string;
  met: boolean;
  /** How it was measured, one paragraph (goes to BENCHMARKS.md). */
  method: string;
  /** Supporting numbers (printed, and kept in BENCHMARKS.md). */
  details?: string[];
}

export function stackEnv() {
  const env = readEnvFile(paths.envFile);
  if (!env.DATABASE_URL) throw new Error('The local stack is not up (no .local/stack.env)');
  return env as Record<string, string> & { DATABASE_URL: string; FUNCTIONS_URL: string; FUNCTIONS_SECRET: string };
}

export function connect(max = 4): Sql {
  return postgres(stackEnv().DATABASE_URL, { max, onnotice: () => {} });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: number[]) => percentile(values, 50);
export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
export const ratio = (value: number) => `${value.toFixed(2)}x`;

/** A bench building: the database rows and its own SALTO simulator (every apartment's access level seeded). */
export interface BenchBuilding {
  id: string;
  tag: string;
  simulator: SimulatorHandle;
  apartments: { id: string; accessLevelId: string }[];
  facilities: { id: string; zoneId: string }[];
  permanentZones: string[];
}

/**
 * Creates `count` buildings with `apartments` x `facilities` each, in bulk (set-based SQL), each with a
 * simulator in this process and its integration.salto_servers row. Names carry "Bench" and a tag, and
 * dropBuildings() removes every trace.
 */
export async function createBuildings(
  sql: Sql,
  count: number,
  apartments: number,
  facilities: number,
  {
    withSalto = true,
    transport = 'http',
    timeZone = 'Australia/Sydney',
    extraPermissions = () => [],
    timetables = [],
  }: {
    withSalto?: boolean;
    /** How the functions reach the building's simulator: SHIP over HTTP, or over TCP (STP). */
    transport?: 'http' | 'stp';
    timeZone?: string;
    /** Zone permissions each access level holds besides the permanent one (say, last night's bookings). */
    extraPermissions?: (zoneIds: string[]) => NonNullable<SiteSeed['accessLevels']>[number]['zonePermissions'];
    timetables?: SiteSeed['timetables'];
  } = {},
): Promise<BenchBuilding[]> {
  const result: BenchBuilding[] = [];
  for (let b = 0; b < count; b++) {
    const tag = randomBytes(4).toString('hex').toUpperCase();
    const id = randomUUID();
    const key = randomBytes(18).toString('base64url');
    const permanentZones = [`MAIN-${tag}`];
    const accessLevelIds = Array.from({ length: apartments }, (_, i) => `B-${tag}-${i + 1}`);
    const zoneIds = Array.from({ length: facilities }, (_, i) => `Z-${tag}-${i + 1}`);
    const simulator = withSalto
      ? await startSimulator({
          timeZone,
          auth: { mode: 'key', key },
          stpPort: transport === 'stp' ? 0 : null,
          maxLogEntries: 100_000,
          seed: {
            timeZone,
            zones: [...permanentZones, ...zoneIds].map((z) => ({ id: z, name: z })),
            accessLevels: accessLevelIds.map((a) => ({
              id: a,
              name: a,
              zonePermissions: [
                ...permanentZones.map((zoneId) => ({ zoneId, timetableId: 0, usePeriod: false })),
                ...(extraPermissions(zoneIds) ?? []),
              ],
            })),
            timetables,
          },
        })
      : (undefined as unknown as SimulatorHandle);
    await sql.begin(async (tx) => {
      await tx`insert into public.buildings (id, name, timezone) values (${id}, ${`Bench building ${tag}`}, ${timeZone})`;
      if (withSalto) {
        await tx`select vault.create_secret(${key}, ${`salto_ship_key:${id}`})`;
        await tx`
          insert into integration.salto_servers (building_id, transport, host, port, auth_mode, credential_secret_name, connect_timeout_ms, reply_timeout_ms, writes)
          values (${id}, ${transport}, '127.0.0.1', ${transport === 'stp' ? simulator.stpPort! : simulator.httpPort},
            -- SHIP over TCP carries no credentials.
            ${transport === 'stp' ? 'none' : 'key'}, ${`salto_ship_key:${id}`}, 2000, 10000, 'live')`;
      }
      await tx`
        insert into public.facilities (building_id, name, access_control_facility_id)
        select ${id}, 'Facility ' || i, ${`Z-${tag}-`} || i from generate_series(1, ${facilities}) as i`;
      await tx`
        insert into public.apartments (building_id, label, access_control_id)
        select ${id}, 'A' || i, ${`B-${tag}-`} || i from generate_series(1, ${apartments}) as i`;
    });
    const apartmentRows = await sql<{ id: string; access_control_id: string }[]>`
      select id, access_control_id from public.apartments where building_id = ${id} order by (substring(label from 2))::int`;
    const facilityRows = await sql<{ id: string; access_control_facility_id: string }[]>`
      select id, access_control_facility_id from public.facilities where building_id = ${id} order by (substring(name from 10))::int`;
    result.push({
      id,
      tag,
      simulator,
      apartments: apartmentRows.map((r) => ({ id: r.id, accessLevelId: r.access_control_id })),
      facilities: facilityRows.map((r) => ({ id: r.id, zoneId: r.access_control_facility_id })),
      permanentZones,
    });
  }
  // A building's apartments and facilities are months old when its bookings come: the planner knows
  // them (autovacuum analyzes a table after its first few hundred rows). Just inserted and not
  // analyzed, 10,000 apartments were estimated at 492 rows and joined by a scan of all of them.
  await sql`analyze public.buildings, public.apartments, public.facilities, integration.salto_servers`;
  return result;
}

/** Removes the buildings and everything of them (the integration's rows cascade), and stops their simulators. */
export async function dropBuildings(sql: Sql, buildings: BenchBuilding[]) {
  const ids = buildings.map((b) => b.id);
  if (ids.length === 0) return;
  // A fold deciding these buildings' bookings locks them against deletion; a bulk delete that meets
  // one in the other order is the one PostgreSQL aborts (deadlock): it is tried again.
  for (let attempt = 1; ; attempt++) {
    try {
      await deleteBuildings(sql, ids);
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt === 5) throw error;
    }
  }
  await Promise.all(buildings.map((b) => b.simulator?.close()));
}

async function deleteBuildings(sql: Sql, ids: string[]) {
  await sql.begin(async (tx) => {
    // Deleting in bulk: the per-row triggers would only queue work for buildings about to vanish.
    await tx`alter table public.bookings disable trigger sync_salto_access`;
    await tx`delete from public.bookings where building_id = any (${ids}::uuid[])`;
    await tx`alter table public.bookings enable trigger sync_salto_access`;
    await tx`delete from public.apartments where building_id = any (${ids}::uuid[])`;
    await tx`delete from public.facilities where building_id = any (${ids}::uuid[])`;
    await tx`delete from public.buildings where id = any (${ids}::uuid[])`;
    await tx`delete from vault.secrets where name = any (${ids.map((id) => `salto_ship_key:${id}`)})`;
    // Changes the bench's bookings left unfolded (their wake-ups went nowhere) must not hold up the next benchmark.
    await tx`delete from integration.booking_changes where building_id = any (${ids}::uuid[])`;
  });
}

/** One booking transaction as the connecX app writes it (service role, single-row insert). */
export async function bookAsApp(
  sql: Sql,
  table: 'public.bookings' | 'bench.bookings',
  booking: { facilityId: string; apartmentId: string; startsAt: Date; endsAt: Date },
  { wakeUp = true }: { wakeUp?: boolean } = {},
) {
  await sql.begin(async (tx) => {
    await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true),
      set_config('integration.sync_woken', ${wakeUp ? '' : 'yes'}, true)`;
    if (table === 'public.bookings') {
      await tx`insert into public.bookings (facility_id, apartment_id, starts_at, ends_at) values (${booking.facilityId}, ${booking.apartmentId}, ${booking.startsAt}, ${booking.endsAt})`;
    } else {
      await tx`insert into bench.bookings (facility_id, apartment_id, starts_at, ends_at) values (${booking.facilityId}, ${booking.apartmentId}, ${booking.startsAt}, ${booking.endsAt})`;
    }
  });
}

/** Runs `work` over `items` with `connections` workers, in order of the items. */
export async function pool<T>(items: T[], connections: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let i = next++; i < items.length; i = next++) await work(items[i]!);
    }),
  );
}

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
/** Midnight UTC of the day after tomorrow: bookings from there on are in the future for the whole run. */
export const futureBase = () => Math.ceil(Date.now() / DAY) * DAY + DAY;

/**
 * The burst of benchmarks 3 and 4: `total` bookings spread over the buildings' apartment x facility
 * pairs (random pairs, one booking per pair, so no double bookings), whole hours on the next days, at most 40
 * distinct timetables per building.
 */
export function burstPlan(buildings: BenchBuilding[], total: number) {
  const base = futureBase();
  const perBuilding = Math.floor(total / buildings.length);
  const plan: {
    building: BenchBuilding;
    facilityId: string;
    apartmentId: string;
    accessLevelId: string;
    zoneId: string;
    startsAt: Date;
    endsAt: Date;
  }[] = [];
  const random = seededRandom(2026);
  for (const building of buildings) {
    const pairs = building.apartments.length * building.facilities.length;
    // Pairs drawn at random, without repetition (a second booking of a pair would be a double booking).
    const order = Array.from({ length: pairs }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let k = 0; k < perBuilding; k++) {
      const pair = order[k % pairs]!;
      const apartment = building.apartments[pair % building.apartments.length]!;
      const facility = building.facilities[Math.floor(pair / building.apartments.length)]!;
      const startsAt = new Date(base + (k % 4) * DAY + (8 + (k % 10)) * HOUR);
      plan.push({
        building,
        facilityId: facility.id,
        apartmentId: apartment.id,
        accessLevelId: apartment.accessLevelId,
        zoneId: facility.zoneId,
        startsAt,
        endsAt: new Date(startsAt.getTime() + HOUR),
      });
    }
  }
  return plan;
}

/** While `work` runs, the database's wake-ups go nowhere (the benchmark drives the sync itself). */
export async function withoutWakeUps<T>(sql: Sql, work: () => Promise<T>): Promise<T> {
  const [original] = await sql<
    { url: string }[]
  >`select decrypted_secret as url from vault.decrypted_secrets where name = 'project_url'`;
  await sql`update vault.secrets set secret = 'http://127.0.0.1:9' where name = 'project_url'`;
  try {
    return await work();
  } finally {
    await sql`update vault.secrets set secret = ${original!.url} where name = 'project_url'`;
  }
}

/**
 * CPU time used so far by this stack's processes (working in the checkout or in its PostgreSQL data
 * directory: the bench with its simulators, the functions, the dispatcher, every PostgreSQL process),
 * grouped by program, from /proc. Two snapshots around a measured stretch say which part was busy: on
 * a 2-core machine they all share the same cores.
 */
export function cpuSnapshot(): Map<string, number> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const byProgram = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (!cwd.startsWith(repoRoot) && !cwd.startsWith(paths.dataDir)) continue;
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile, or not ours to read
    }
    const close = stat.lastIndexOf(')');
    const program = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime + stime
    byProgram.set(program, (byProgram.get(program) ?? 0) + seconds);
  }
  return byProgram;
}

/** CPU seconds per program between two snapshots, busiest first, as "postgres 3.1 s, deno 1.2 s". */
export function cpuUsedBetween(before: Map<string, number>, after: Map<string, number>): string {
  return [...after]
    .map(([program, seconds]) => [program, seconds - (before.get(program) ?? 0)] as const)
    .filter(([, seconds]) => seconds >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([program, seconds]) => `${program} ${seconds.toFixed(1)} s`)
    .join(', ');
}

/**
 * Runs `work` while the local pg_net stand-in sends nothing, then lets it send what was queued and
 * waits until it has. Hosted, pg_net's worker is C inside the database server; locally it is a Node
 * process on the same two cores as everything measured, and costlier per request than the booking
 * transaction that queued it. The queueing itself (net.http_post in the transaction) is still measured.
 */
export async function withDispatcherHeld<T>(sql: Sql, work: () => Promise<T>): Promise<T> {
  // The stack starts each service detached, as a process group (tsx and the node it starts): signal the group.
  const group = -Number(readFileSync(join(paths.pidsDir, 'net-dispatcher.pid'), 'utf8'));
  process.kill(group, 'SIGSTOP');
  try {
    return await work();
  } finally {
    process.kill(group, 'SIGCONT');
    for (let waited = 0; waited < 120_000; waited += 50) {
      const [row] = await sql<{ queued: boolean }[]>`select exists (select from net.http_request_queue) as queued`;
      if (!row?.queued) break;
      await sleep(50);
    }
  }
}

/**
 * Waits until the cleanup run of each of these buildings is completed (a failed attempt counts once
 * the database has run it again and it completed), asking every `pollMs`. Gives up, throwing, when
 * no further run has completed for `stallMs` (the fan-out stopped) or `timeoutMs` after the call (the
 * night took too long); the error counts the runs by status and quotes the latest errors.
 */
export async function untilCleanupRunsComplete(
  sql: Sql,
  buildingIds: string[],
  {
    pollMs,
    stallMs = Number.POSITIVE_INFINITY,
    timeoutMs = Number.POSITIVE_INFINITY,
  }: {
    pollMs: number;
    stallMs?: number;
    timeoutMs?: number;
  },
) {
  const started = Date.now();
  let lastProgress = started;
  let lastCompleted = -1;
  for (;;) {
    const [row] = await sql<{ completed: number }[]>`
      select count(*)::int as completed from integration.cleanup_runs
      where building_id = any (${buildingIds}::uuid[]) and status = 'completed'`;
    const completed = row!.completed;
    if (completed === buildingIds.length) return;
    const now = Date.now();
    if (completed !== lastCompleted) [lastCompleted, lastProgress] = [completed, now];
    const why =
      now - lastProgress > stallMs
        ? `none for ${Math.round(stallMs / 1000)} s`
        : now - started > timeoutMs
          ? `after ${Math.round(timeoutMs / 1000)} s`
          : undefined;
    if (why) {
      const runs = await sql<{ status: string; n: number; errors: string[] }[]>`
        select status, count(*)::int as n,
          (array_agg(errors -> -1 ->> 'message') filter (where jsonb_array_length(errors) > 0))[1:3] as errors
        from integration.cleanup_runs where building_id = any (${buildingIds}::uuid[]) group by status`;
      throw new Error(
        `${completed} of ${buildingIds.length} cleanup runs completed, ${why}: ` +
          runs.map((r) => `${r.status} ${r.n}${r.errors?.length ? ` (${r.errors.join('; ')})` : ''}`).join(', '),
      );
    }
    await sleep(pollMs);
  }
}

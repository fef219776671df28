// What the nightly cleanup tests share: local wall times as instants, moving the integration's clock
// to an exact instant, calling the salto-cleanup function as pg_cron would, and reading its reports.
import type { Sql } from 'postgres';
import type { CleanupCounts } from '../../src/shared/cleanup/store.ts';
import { instantAtLocal, parseLocalDateTime } from '../../src/shared/time/local-time.ts';
import type { TestBuilding } from '../support/fixtures.ts';
import { eventually, functionAuthorization, stackEnv } from '../support/stack.ts';

/** A building-local wall time (`yyyy-MM-ddTHH:mm:ss`) as an instant. */
export function local(building: Pick<TestBuilding, 'timeZone'>, wallTime: string): Date {
  return instantAtLocal(parseLocalDateTime(wallTime), building.timeZone);
}

/** Moves integration.now() to `instant` (it then runs on with real time). Reset with setClockShift(sql, 0). */
export async function setClockTo(sql: Sql, instant: Date) {
  const seconds = (instant.getTime() - Date.now()) / 1000;
  await sql`
    insert into integration.clock_offset (id, shift) values (true, make_interval(secs => ${seconds}))
    on conflict (id) do update set shift = excluded.shift`;
}

/**
 * The minute job (integration.tick) hands waiting bookings their permission at the start of every
 * minute. A test that wants the cleanup, not the minute job, to do a hand-over moves the clock well
 * inside a minute.
 */
export async function awayFromMinuteBoundary() {
  for (;;) {
    const second = new Date().getUTCSeconds();
    if (second >= 2 && second <= 40) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** A row of integration.cleanup_runs: the run's counts are the cleanup's own (CleanupCounts). */
export interface RunReport extends CleanupCounts {
  id: string;
  local_date: string;
  status: 'running' | 'completed' | 'failed' | 'unreachable';
  attempts: number;
  started_at: Date;
  finished_at: Date | null;
  details: Record<string, Record<string, unknown>[]>;
  errors: { attempt: number; status: string; message: string }[];
}

/**
 * Calls the salto-cleanup function for these buildings and waits until none of their runs is in
 * progress (the five-minute job may have started one at the same time: the database gives each run
 * to one caller, and this waits for whoever has it). Returns the function's answer.
 */
export async function cleanupNow(sql: Sql, buildingIds: string[]) {
  const { functionsUrl, functionsSecret } = stackEnv();
  const response = await fetch(`${functionsUrl}/salto-cleanup?wait=true`, {
    method: 'POST',
    headers: {
      Authorization: await functionAuthorization('salto-cleanup', { secret: functionsSecret }),
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ building_ids: buildingIds }),
  });
  if (!response.ok) throw new Error(`salto-cleanup answered ${response.status}: ${await response.text()}`);
  const answer = (await response.json()) as { runs: { buildingId: string; localDate: string; status: string }[] };
  await eventually(
    async () => {
      const [row] = await sql`
        select count(*)::int as n from integration.cleanup_runs
        where building_id = any (${buildingIds}::uuid[]) and status = 'running'`;
      return row!.n === 0 ? true : undefined;
    },
    30_000,
    'cleanup runs to finish',
  );
  return answer;
}

/** Every run of a building, oldest local date first. */
export async function runsOf(sql: Sql, buildingId: string): Promise<RunReport[]> {
  return sql<RunReport[]>`
    select id, local_date::text as local_date, status, attempts, started_at, finished_at, cleared, handed_over,
      repaired, synced, failed, slots_recycled, unknown_ids, access_levels_checked, salto_calls, details, errors
    from integration.cleanup_runs where building_id = ${buildingId} order by local_date`;
}

export async function runFor(sql: Sql, buildingId: string, localDate: string): Promise<RunReport | undefined> {
  return (await runsOf(sql, buildingId)).find((r) => r.local_date === localDate);
}

/**
 * Makes a building's cleanup due (`makeDue`: move the clock, backdate the building) and leases its
 * run in the same transaction, as integration.dispatch_cleanups does: no dispatch (the five-minute
 * job, a run finishing elsewhere) calls the stack's function for it, and this process cleans it with
 * runCleanup({ dispatched }).
 */
export async function dueAndDispatched(sql: Sql, buildingId: string, makeDue: (tx: Sql) => Promise<unknown>) {
  const dispatch = crypto.randomUUID();
  const runId = await sql.begin(async (tx) => {
    await makeDue(tx as unknown as Sql);
    const [run] = await tx<{ run_id: string }[]>`
      select run_id from integration.lease_cleanup_runs(${dispatch}, interval '2 minutes', ${[buildingId]}::uuid[], 1)`;
    if (!run) throw new Error(`building ${buildingId} is not due`);
    return run.run_id;
  });
  return { runId, dispatch };
}

/** Makes the building look as if it had existed since `instant` (it is first cleaned after the next local midnight). */
export async function existsSince(sql: Sql, building: TestBuilding, instant: Date) {
  await sql`update public.buildings set created_at = ${instant} where id = ${building.id}`;
}

export async function accessState(sql: Sql, bookingId: string) {
  const [row] = await sql<{ state: string; reason: string | null }[]>`
    select state, reason from integration.booking_access where booking_id = ${bookingId}`;
  return row;
}

export function untilState(sql: Sql, bookingId: string, state: string) {
  return eventually(
    async () => ((await accessState(sql, bookingId))?.state === state ? true : undefined),
    20_000,
    `booking ${state}`,
  );
}

/** The zone permissions SALTO holds for an access level, as the simulator stores them. */
export function storedPermissions(building: TestBuilding, accessLevelId: string) {
  return building.simulator.snapshot().accessLevels.find((l) => l.id === accessLevelId)?.zonePermissions ?? [];
}

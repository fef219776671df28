// Test buildings: a building in the database with its own SALTO simulator (started in this process,
// on a loopback port the OS picks, in the building's time zone), wired up the way an operator would:
// an integration.salto_servers row and the SHIP key in Vault. Each building gets unique SALTO IDs, so
// tests never see each other's data.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import { callFunction } from '../../local/functions-client.ts';
import { type SimulatorHandle, startSimulator } from '../../src/simulator/simulator.ts';
import { eventually } from './stack.ts';

export interface TestBuilding {
  id: string;
  timeZone: string;
  simulator: SimulatorHandle;
  /** Facility label -> { id, zoneId } */
  facilities: Record<string, { id: string; zoneId: string }>;
  /** Apartment label -> { id, accessLevelId, residentId } */
  apartments: Record<string, { id: string; accessLevelId: string; residentId: string }>;
  managerId: string;
  /** Permanent zones every access level holds (main entrance, lifts), which must survive every write. */
  permanentZones: string[];
  close(): Promise<void>;
}

export interface BuildingSpec {
  timeZone?: string;
  facilities?: { name: string; beforeMinutes?: number; afterMinutes?: number; zoneInSalto?: boolean }[];
  apartments?: { label: string; inSalto?: boolean }[];
  /** The SALTO timetables reserved for this project; integration.salto_servers' defaults when absent. */
  timetableRange?: { first: number; last: number };
  transport?: 'http' | 'stp';
  /** integration.salto_servers.writes: 'live' unless a test needs shadow mode. */
  writes?: 'live' | 'shadow';
}

export async function createTestBuilding(sql: Sql, spec: BuildingSpec = {}): Promise<TestBuilding> {
  const tag = randomBytes(4).toString('hex').toUpperCase();
  const timeZone = spec.timeZone ?? 'Australia/Sydney';
  const facilitySpecs = spec.facilities ?? [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }];
  const apartmentSpecs = spec.apartments ?? [{ label: '501/56' }];
  const key = randomBytes(18).toString('base64url');
  const permanentZones = [`MAIN-${tag}`, `LIFTS-${tag}`];

  const zoneId = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}-${tag}`;
  const accessLevelId = (label: string) => `APT-${label.replace('/', '-')}-${tag}`;

  const simulator = await startSimulator({
    timeZone,
    auth: { mode: 'key', key },
    seed: {
      timeZone,
      zones: [
        ...permanentZones.map((id) => ({ id, name: id })),
        ...facilitySpecs.filter((f) => f.zoneInSalto !== false).map((f) => ({ id: zoneId(f.name), name: f.name })),
      ],
      accessLevels: apartmentSpecs
        .filter((a) => a.inSalto !== false)
        .map((a) => ({
          id: accessLevelId(a.label),
          name: `Apartment ${a.label}`,
          zonePermissions: permanentZones.map((zone) => ({ zoneId: zone, timetableId: 0, usePeriod: false })),
        })),
    },
  });

  const buildingId = randomUUID();
  const managerId = randomUUID();
  await sql`insert into auth.users (id, email) values (${managerId}, ${`manager-${tag.toLowerCase()}@example.test`})`;
  await sql`insert into public.buildings (id, name, timezone) values (${buildingId}, ${`Test building ${tag}`}, ${timeZone})`;
  await sql`insert into public.building_managers (building_id, user_id) values (${buildingId}, ${managerId})`;
  const secretName = `salto_ship_key:${buildingId}`;
  await sql`select vault.create_secret(${key}, ${secretName})`;
  const transport = spec.transport ?? 'http';
  const server = {
    building_id: buildingId,
    transport,
    host: '127.0.0.1',
    port: transport === 'http' ? simulator.httpPort : simulator.stpPort!,
    auth_mode: 'key',
    credential_secret_name: secretName,
    connect_timeout_ms: 2000,
    reply_timeout_ms: 5000,
    // A new server starts in shadow mode in the database; test buildings write unless a test says not.
    writes: spec.writes ?? 'live',
    ...(spec.timetableRange && {
      timetable_first: spec.timetableRange.first,
      timetable_last: spec.timetableRange.last,
    }),
  };
  await sql`insert into integration.salto_servers ${sql(server)}`;

  const facilities: TestBuilding['facilities'] = {};
  for (const f of facilitySpecs) {
    const [row] = await sql<{ id: string }[]>`
      insert into public.facilities (building_id, name, access_control_facility_id, access_buffer_before, access_buffer_after)
      values (${buildingId}, ${f.name}, ${zoneId(f.name)}, make_interval(mins => ${f.beforeMinutes ?? 0}), make_interval(mins => ${f.afterMinutes ?? 0}))
      returning id`;
    facilities[f.name] = { id: row!.id, zoneId: zoneId(f.name) };
  }
  const apartments: TestBuilding['apartments'] = {};
  for (const a of apartmentSpecs) {
    const residentId = randomUUID();
    await sql`insert into auth.users (id, email) values (${residentId}, ${`resident-${a.label.replace('/', '-')}-${tag.toLowerCase()}@example.test`})`;
    const [row] = await sql<{ id: string }[]>`
      insert into public.apartments (building_id, label, access_control_id)
      values (${buildingId}, ${a.label}, ${accessLevelId(a.label)}) returning id`;
    await sql`insert into public.apartment_residents (apartment_id, user_id) values (${row!.id}, ${residentId})`;
    apartments[a.label] = { id: row!.id, accessLevelId: accessLevelId(a.label), residentId };
  }
  // Saving the IDs had them checked against SALTO within seconds (reads, under the building's lease).
  // A test building is an established one: its checks are done before the test begins, so they
  // neither take a fault a test sets up nor hold the lease a test's sync needs.
  await untilIdsChecked(sql, buildingId);

  return {
    id: buildingId,
    timeZone,
    simulator,
    facilities,
    apartments,
    managerId,
    permanentZones,
    // Removes the building and everything of it (the integration's rows cascade), so no work for a
    // simulator that is gone stays queued.
    // A bulk delete that meets a fold deciding the same bookings in the other order may be the one
    // PostgreSQL aborts (deadlock): it is tried again.
    close: async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await sql.begin(async (tx) => {
            await tx`delete from public.bookings where building_id = ${buildingId}`;
            await tx`delete from public.apartments where building_id = ${buildingId}`;
            await tx`delete from public.facilities where building_id = ${buildingId}`;
            await tx`delete from public.buildings where id = ${buildingId}`;
            await tx`delete from vault.secrets where name = ${secretName}`;
          });
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== '40P01' || attempt === 5) throw error;
        }
      }
      await simulator.close();
    },
  };
}

/** Waits until no saved ID of the building is still being checked against SALTO (at most 60 s). */
export async function untilIdsChecked(sql: Sql, buildingId: string) {
  await eventually(
    async () => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from integration.salto_id_checks where building_id = ${buildingId} and status = 'pending'`;
      return row!.n === 0 ? true : undefined;
    },
    60_000,
    `the IDs of building ${buildingId} checked`,
  );
}

export type Actor = { as: 'resident' | 'manager'; userId: string } | { as: 'service_role' };

/** Runs `work` in a transaction as the connecX app would: with a user's JWT claims, or the service role. */
export async function actingAs<T>(sql: Sql, actor: Actor, work: (tx: Sql) => Promise<T>): Promise<T> {
  return (await sql.begin(async (tx) => {
    if (actor.as === 'service_role') {
      await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true)`;
    } else {
      const claims = JSON.stringify({ sub: actor.userId, role: 'authenticated' });
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
    }
    return work(tx as unknown as Sql);
  })) as T;
}

export async function book(
  sql: Sql,
  actor: Actor,
  booking: { facilityId: string; apartmentId: string; startsAt: Date; endsAt: Date },
): Promise<string> {
  return actingAs(sql, actor, async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      values (${booking.facilityId}, ${booking.apartmentId}, ${booking.startsAt}, ${booking.endsAt})
      returning id`;
    return row!.id;
  });
}

/** Moves the integration's clock (integration.now()) forward by `minutes` from real time. */
export async function setClockShift(sql: Sql, minutes: number) {
  if (minutes === 0) {
    await sql`delete from integration.clock_offset`;
    return;
  }
  await sql`
    insert into integration.clock_offset (id, shift) values (true, make_interval(mins => ${minutes}))
    on conflict (id) do update set shift = excluded.shift`;
}

/**
 * Time moved rather than waited for: the retry backoff of these buildings' access level work has run
 * out. One row per statement: the sync updates the same rows meanwhile, and one statement locking
 * many rows in its own order could deadlock with it.
 */
export async function endBackoff(sql: Sql, buildingIds: string[]) {
  const waiting = await sql<{ building_id: string; access_level_id: string }[]>`
    select building_id, access_level_id from integration.access_level_work
    where building_id = any (${buildingIds}::uuid[]) and not_before > now()`;
  for (const w of waiting)
    await sql`update integration.access_level_work set not_before = now()
      where building_id = ${w.building_id} and access_level_id = ${w.access_level_id} and not_before > now()`;
}

/** Asks the stack's salto-sync function for one pass and waits for its report. */
export function syncNow(functionsUrl: string, secret: string) {
  return callFunction({ FUNCTIONS_URL: functionsUrl, FUNCTIONS_SECRET: secret }, 'salto-sync', { query: 'wait=true' });
}

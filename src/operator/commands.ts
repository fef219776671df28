/**
 * What an operator asks of a running installation: how each building is doing (status), whether a
 * building's SALTO configuration is right (doctor), and bringing access levels in line again (resync,
 * and waiting for its outcome). Each command returns plain data; cli.ts prints it for people or as JSON.
 */
import type { Sql } from 'postgres';
import { createSaltoClient, type SaltoClient, type SaltoEndpointInput } from '../shared/salto/index.ts';
import { closestSaltoIds } from '../shared/sync/id-checks.ts';
import { createSyncStore } from '../shared/sync/store.ts';
import { nodeStpConnector } from '../simulator/node-stp-connector.ts';
import { editDistance } from './args.ts';
import { CliError, ExitCode } from './errors.ts';
import { missingCredential, type SaltoProblem, type SaltoServerRow, saltoProblem } from './salto-problems.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** ": did you mean "POOL"?" when SALTO lists IDs close to the one saved (same letters in another case first). */
function didYouMean(saved: string, known: Iterable<string>): string {
  const close = closestSaltoIds(saved, known);
  return close.length === 0 ? '' : `; did you mean ${close.map((id) => `"${id}"`).join(' or ')}?`;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export interface Building {
  id: string;
  name: string;
}

/**
 * A building named on the command line by its id or by its name (case-insensitive, exact). Unknown
 * or ambiguous names are usage errors that list what there is to choose from.
 */
export async function resolveBuilding(sql: Sql, reference: string): Promise<Building> {
  const wanted = reference.trim();
  if (isUuid(wanted)) {
    const [byId] = await sql<Building[]>`select id, name from public.buildings where id = ${wanted}`;
    if (byId) return byId;
    throw new CliError(
      ExitCode.usage,
      'not_found',
      `No building has the id ${wanted}. \`npx connecx-salto status\` lists every building with its id.`,
    );
  }
  const named = await sql<Building[]>`
    select id, name from public.buildings where lower(name) = lower(${wanted}) order by name, id`;
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    throw new CliError(
      ExitCode.usage,
      'ambiguous_building',
      `${named.length} buildings are named "${wanted}":\n${named.map((b) => `  ${b.id}  ${b.name}`).join('\n')}\nName one by its id: --building <id>.`,
    );
  }
  // Names that contain what was typed, or differ from it by a few letters: what may have been meant.
  const all = await sql<Building[]>`select id, name from public.buildings order by name limit 10000`;
  const typed = wanted.toLowerCase();
  const similar = all
    .filter((b) => {
      const name = b.name.toLowerCase();
      return name.includes(typed) || typed.includes(name) || editDistance(name, typed) <= 3;
    })
    .slice(0, 5);
  const suggestion = similar.length
    ? ` Buildings with a similar name: ${similar.map((b) => `"${b.name}"`).join(', ')}.`
    : ' `npx connecx-salto status` lists every building.';
  throw new CliError(ExitCode.usage, 'not_found', `No building named "${wanted}".${suggestion}`);
}

export interface SaltoStatus {
  configured: boolean;
  /** True when SALTO answered GetInfo; false when it could not be reached or refused; null when not configured. */
  reachable: boolean | null;
  detail: string;
  /** Why SALTO did not answer, and the fix for that cause; null when it answered or none is configured. */
  problem: SaltoProblem | null;
}

export interface BuildingStatus {
  id: string;
  name: string;
  timeZone: string;
  pendingAccessLevels: number;
  /** Access levels whose last attempt failed and that are tried again after a backoff. */
  retryingAccessLevels: number;
  oldestPendingSince: string | null;
  lastError: string | null;
  /** Bookings that have not ended and whose access could not be written. */
  failedBookings: { bookingId: string; apartment: string; facility: string; reason: string | null }[];
  lastCleanup: {
    localDate: string;
    status: string;
    finishedAt: string | null;
    cleared: number;
    handedOver: number;
    repaired: number;
    failed: number;
  } | null;
  salto: SaltoStatus;
  /** integration.salto_servers.writes: 'shadow' while the sync only plans; null without a SALTO server. */
  writes: 'live' | 'shadow' | null;
}

function openSalto(endpoint: SaltoEndpointInput): SaltoClient {
  return createSaltoClient(endpoint, { connector: nodeStpConnector });
}

interface SaltoServer {
  row: SaltoServerRow;
  credentialPresent: boolean;
  endpoint: SaltoEndpointInput;
}

/** The building's SALTO server (its integration.salto_servers row and endpoint), when one is configured. */
async function saltoServer(sql: Sql, buildingId: string): Promise<SaltoServer | undefined> {
  const [row] = await sql<
    {
      transport: string;
      host: string;
      port: number;
      auth_mode: string;
      credential_secret_name: string | null;
      credential_present: boolean;
    }[]
  >`
    select s.transport, s.host, s.port, s.auth_mode, s.credential_secret_name,
      coalesce((select v.decrypted_secret <> '' from vault.decrypted_secrets as v
                where v.name = s.credential_secret_name limit 1), false) as credential_present
    from integration.salto_servers as s where s.building_id = ${buildingId}`;
  if (!row) return undefined;
  const context = await createSyncStore(sql).building(buildingId);
  if (!context.endpoint) return undefined;
  return {
    row: {
      transport: row.transport,
      host: row.host,
      port: row.port,
      authMode: row.auth_mode,
      credentialSecretName: row.credential_secret_name,
    },
    credentialPresent: row.auth_mode === 'none' || row.credential_present,
    endpoint: context.endpoint,
  };
}

/** Asks the building's SALTO for GetInfo, with short timeouts (at most those configured). */
async function probeSalto(server: SaltoServer | undefined): Promise<SaltoStatus> {
  if (!server) {
    return {
      configured: false,
      reachable: null,
      detail: 'no SALTO server configured (integration.salto_servers)',
      problem: null,
    };
  }
  if (!server.credentialPresent) {
    const problem = missingCredential(server.row);
    return { configured: true, reachable: false, detail: problem.detail, problem };
  }
  const started = Date.now();
  let client: SaltoClient | undefined;
  try {
    client = openSalto({
      ...server.endpoint,
      connectTimeoutMs: Math.min(server.endpoint.connectTimeoutMs ?? 3000, 3000),
      replyTimeoutMs: Math.min(server.endpoint.replyTimeoutMs ?? 5000, 5000),
    });
    const info = await client.getInfo();
    return {
      configured: true,
      reachable: true,
      detail: `SHIP ${info.protocolVersion}, answered in ${Date.now() - started} ms`,
      problem: null,
    };
  } catch (error) {
    const problem = saltoProblem(error, server.row);
    return { configured: true, reachable: false, detail: problem.detail, problem };
  } finally {
    await client?.close().catch(() => {});
  }
}

/** Each building (or the one named), how it is doing. */
export async function buildingStatus(sql: Sql, buildingId?: string): Promise<BuildingStatus[]> {
  const buildings = await sql<{ id: string; name: string; timezone: string }[]>`
    select id, name, timezone from public.buildings
    where ${buildingId ?? null}::uuid is null or id = ${buildingId ?? null}::uuid
    order by name`;
  return Promise.all(
    buildings.map(async (b) => {
      const [work] = await sql<{ pending: number; retrying: number; oldest: Date | null; last_error: string | null }[]>`
        select count(*)::int as pending, (count(*) filter (where attempts > 0))::int as retrying,
          min(requested_at) as oldest,
          (select w2.last_error from integration.access_level_work as w2
           where w2.building_id = ${b.id} and w2.last_error is not null order by w2.attempts desc limit 1) as last_error
        from integration.access_level_work where building_id = ${b.id}`;
      const failed = await sql<{ booking_id: string; label: string; name: string; reason: string | null }[]>`
        select ba.booking_id, a.label, f.name, ba.reason
        from integration.booking_access as ba
        join public.bookings as bk on bk.id = ba.booking_id
        join public.apartments as a on a.id = ba.apartment_id
        join public.facilities as f on f.id = ba.facility_id
        where ba.building_id = ${b.id} and ba.state = 'failed' and bk.ends_at > integration.now()
        order by ba.updated_at desc limit 50`;
      const [cleanup] = await sql<
        {
          local_date: string;
          status: string;
          finished_at: Date | null;
          cleared: number;
          handed_over: number;
          repaired: number;
          failed: number;
        }[]
      >`
        select local_date::text, status, finished_at, cleared, handed_over, repaired, failed
        from integration.cleanup_runs where building_id = ${b.id} order by local_date desc limit 1`;
      return {
        id: b.id,
        name: b.name,
        timeZone: b.timezone,
        pendingAccessLevels: work?.pending ?? 0,
        retryingAccessLevels: work?.retrying ?? 0,
        oldestPendingSince: work?.oldest?.toISOString() ?? null,
        lastError: work?.last_error ?? null,
        failedBookings: failed.map((f) => ({
          bookingId: f.booking_id,
          apartment: f.label,
          facility: f.name,
          reason: f.reason,
        })),
        lastCleanup: cleanup
          ? {
              localDate: cleanup.local_date,
              status: cleanup.status,
              finishedAt: cleanup.finished_at?.toISOString() ?? null,
              cleared: cleanup.cleared,
              handedOver: cleanup.handed_over,
              repaired: cleanup.repaired,
              failed: cleanup.failed,
            }
          : null,
        salto: await probeSalto(await saltoServer(sql, b.id)),
        writes:
          (
            await sql<{ writes: 'live' | 'shadow' }[]>`
            select writes from integration.salto_servers where building_id = ${b.id}`
          )[0]?.writes ?? null,
      };
    }),
  );
}

/**
 * The exit code status ends with: 3 when a building's SALTO server cannot be reached, 1 when a
 * building needs attention (SALTO refuses or is not configured, failed bookings, access level work
 * retrying after an error), else 0.
 */
export function statusExitCode(buildings: BuildingStatus[]): ExitCode {
  if (buildings.some((b) => b.salto.problem?.unreachable)) return ExitCode.unreachable;
  const attention = buildings.some(
    (b) => b.salto.reachable !== true || b.failedBookings.length > 0 || b.retryingAccessLevels > 0 || b.lastError,
  );
  return attention ? ExitCode.problem : ExitCode.ok;
}

export interface DoctorFinding {
  severity: 'problem' | 'warning';
  what: string;
  /** Where a manager or operator fixes it. */
  fix: string;
}

export interface DoctorReport {
  buildingId: string;
  name: string;
  salto: SaltoStatus;
  zonesInSalto: number;
  accessLevelsInSalto: number;
  findings: DoctorFinding[];
}

/** Checks a building's SALTO connection and every Zone ID and Access Control ID against SALTO. */
export async function doctor(sql: Sql, building: Building): Promise<DoctorReport> {
  const buildingId = building.id;
  const server = await saltoServer(sql, buildingId);
  const salto = await probeSalto(server);
  const findings: DoctorFinding[] = [];
  const report: DoctorReport = {
    buildingId,
    name: building.name,
    salto,
    zonesInSalto: 0,
    accessLevelsInSalto: 0,
    findings,
  };
  if (!server) {
    findings.push({
      severity: 'problem',
      what: 'No SALTO server is configured for this building, so no booking can be written.',
      fix: 'Insert a row into integration.salto_servers (transport, host, port, auth_mode, credential_secret_name) and store the SHIP key in Vault; see README "Configuration reference".',
    });
    return report;
  }
  if (salto.problem) {
    const where = `${server.row.transport}://${server.row.host}:${server.row.port}`;
    findings.push({
      severity: 'problem',
      what: salto.problem.unreachable
        ? `SALTO does not answer at ${where}: ${salto.problem.detail}`
        : salto.problem.cause === 'credential' || salto.problem.cause === 'configuration'
          ? `The SALTO server at ${where} cannot be used: ${salto.problem.detail}`
          : `SALTO at ${where} refuses: ${salto.problem.detail}`,
      fix: salto.problem.fix,
    });
    return report;
  }
  const client = openSalto(server.endpoint);
  try {
    const [zones, levels] = await Promise.all([client.listZones(), client.listAccessLevels()]);
    report.zonesInSalto = zones.length;
    report.accessLevelsInSalto = levels.length;
    const zoneIds = new Set(zones.map((z) => z.id));
    const levelIds = new Set(levels.map((l) => l.id));
    const facilities = await sql<{ name: string; zone: string | null }[]>`
      select name, access_control_facility_id as zone from public.facilities where building_id = ${buildingId} order by name`;
    for (const f of facilities) {
      if (f.zone === null) {
        findings.push({
          severity: 'warning',
          what: `The facility "${f.name}" has no Access Control Facility ID: its bookings open no door.`,
          fix: `Settings > Facilities > ${f.name} (Studio: public.facilities.access_control_facility_id): set it to its Zone ID in SALTO ProAccess SPACE.`,
        });
      } else if (!zoneIds.has(f.zone)) {
        findings.push({
          severity: 'problem',
          what: `The facility "${f.name}" has the Access Control Facility ID "${f.zone}", but SALTO has no zone with that ID.`,
          fix: `Settings > Facilities > ${f.name} (Studio: public.facilities.access_control_facility_id): set it to exactly the Zone ID in SALTO, case included${didYouMean(f.zone, zoneIds)} (zones SALTO knows: ${[...zoneIds].slice(0, 12).join(', ')}${zoneIds.size > 12 ? ', ...' : ''}).`,
        });
      }
    }
    const apartments = await sql<{ label: string; level: string | null }[]>`
      select label, access_control_id as level from public.apartments where building_id = ${buildingId} order by label`;
    for (const a of apartments) {
      if (a.level === null) {
        findings.push({
          severity: 'warning',
          what: `Apartment ${a.label} has no Access Control ID: its bookings open no door.`,
          fix: `Building > Apartments > ${a.label} (Studio: public.apartments.access_control_id): set it to the User Access Level EXT ID of its access level in SALTO, then Save Access Control ID.`,
        });
      } else if (!levelIds.has(a.level)) {
        findings.push({
          severity: 'problem',
          what: `Apartment ${a.label} has the Access Control ID "${a.level}", but SALTO has no user access level with that EXT ID.`,
          fix: `Building > Apartments > ${a.label} (Studio: public.apartments.access_control_id): set it to exactly the User Access Level EXT ID in SALTO ProAccess SPACE, case included${didYouMean(a.level, levelIds)}, then Save Access Control ID.`,
        });
      }
    }
  } catch (error) {
    // SALTO answered GetInfo but failed listing zones or access levels: one problem, with its cause's fix.
    const problem = saltoProblem(error, server.row);
    report.salto = { ...salto, reachable: false, detail: problem.detail, problem };
    findings.push({
      severity: 'problem',
      what: `Listing SALTO's zones and access levels failed: ${problem.detail}`,
      fix: problem.fix,
    });
  } finally {
    await client.close().catch(() => {});
  }
  return report;
}

/** The exit code doctor ends with: 3 when SALTO cannot be reached, 1 on any problem, else 0. */
export function doctorExitCode(report: DoctorReport): ExitCode {
  if (report.salto.problem?.unreachable) return ExitCode.unreachable;
  return report.findings.some((f) => f.severity === 'problem') ? ExitCode.problem : ExitCode.ok;
}

export type ResyncTarget = { booking: string } | { apartment: string } | { building: Building };

interface WorkSnapshot {
  generation: string;
  attempts: number;
  lastError: string | null;
  notBefore: number;
}

export interface ResyncResult {
  buildingId: string;
  accessLevels: string[];
  /** Each queued access level's work row right after queueing: what waitForResync compares with. */
  queued: Map<string, WorkSnapshot>;
}

async function workRows(sql: Sql, buildingId: string, accessLevels: string[]): Promise<Map<string, WorkSnapshot>> {
  const rows = await sql<
    {
      access_level_id: string;
      generation: string;
      attempts: number;
      last_error: string | null;
      not_before: Date | number;
    }[]
  >`
    select access_level_id, generation::text, attempts, last_error,
      case when not_before = '-infinity' then null else not_before end as not_before
    from integration.access_level_work
    where building_id = ${buildingId} and access_level_id = any (${accessLevels}::text[])`;
  return new Map(
    rows.map((r) => [
      r.access_level_id,
      {
        generation: r.generation,
        attempts: r.attempts,
        lastError: r.last_error,
        notBefore: r.not_before === null ? Number.NEGATIVE_INFINITY : new Date(r.not_before).getTime(),
      },
    ]),
  );
}

/**
 * Queues access levels for the sync function (which the queueing wakes): those of one booking, one
 * apartment, or a whole building. The sync is level-triggered, so asking again is always safe.
 */
export async function resync(sql: Sql, target: ResyncTarget): Promise<ResyncResult> {
  return sql.begin(async (tx) => {
    let pairs: { apartment_id: string; facility_id: string }[] = [];
    let levels: { access_level_id: string }[] = [];
    let buildingId: string;
    if ('booking' in target) {
      const [booking] = await tx<{ building_id: string; apartment_id: string; facility_id: string }[]>`
        select building_id, apartment_id, facility_id from public.bookings where id = ${target.booking}`;
      if (!booking) throw new CliError(ExitCode.usage, 'not_found', `There is no booking with id ${target.booking}.`);
      buildingId = booking.building_id;
      pairs = [booking];
    } else if ('apartment' in target) {
      const [apartment] = await tx<{ building_id: string }[]>`
        select building_id from public.apartments where id = ${target.apartment}`;
      if (!apartment)
        throw new CliError(ExitCode.usage, 'not_found', `There is no apartment with id ${target.apartment}.`);
      buildingId = apartment.building_id;
      pairs =
        await tx`select distinct apartment_id, facility_id from public.bookings where apartment_id = ${target.apartment}`;
    } else {
      buildingId = target.building.id;
      pairs =
        await tx`select distinct apartment_id, facility_id from public.bookings where building_id = ${buildingId}`;
      levels = await tx`
        select access_level_id from integration.written_permissions where building_id = ${buildingId}
        union
        select access_control_id from public.apartments where building_id = ${buildingId} and access_control_id is not null`;
    }
    for (const pair of pairs) await tx`select integration.pair_changed(${pair.apartment_id}, ${pair.facility_id})`;
    for (const level of levels) await tx`select integration.request_sync(${buildingId}, ${level.access_level_id})`;
    const apartments = [...new Set(pairs.map((p) => p.apartment_id))];
    const fromApartments = await tx<{ access_control_id: string }[]>`
      select access_control_id from public.apartments where id = any (${apartments}::uuid[]) and access_control_id is not null`;
    const accessLevels = [
      ...new Set([...fromApartments.map((a) => a.access_control_id), ...levels.map((l) => l.access_level_id)]),
    ].sort();
    return { buildingId, accessLevels, queued: await workRows(tx as unknown as Sql, buildingId, accessLevels) };
  });
}

export interface AccessLevelOutcome {
  accessLevelId: string;
  /** written: SALTO holds what the bookings ask; failed: the sync tried and could not; waiting: not done in time. */
  outcome: 'written' | 'failed' | 'waiting';
  /** Why it failed, or what it is still waiting for. */
  reason: string | null;
  /** When the sync tries a failed or waiting access level again, if it will. */
  nextAttemptAt: string | null;
  /** Its bookings (not ended) whose access could not be written, with their reasons. */
  failedBookings: { bookingId: string; apartment: string; facility: string; reason: string | null }[];
}

export interface ResyncOutcome {
  buildingId: string;
  accessLevels: string[];
  waitedSeconds: number;
  outcomes: AccessLevelOutcome[];
  /** The building's SALTO, probed when something was not written. */
  salto: SaltoStatus | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the sync has worked on each queued access level (its work row done, or a failed
 * attempt recorded on it) or `timeoutMs` passes, and says how each ended.
 */
export async function waitForResync(
  sql: Sql,
  queued: ResyncResult,
  { timeoutMs, pollMs = 250 }: { timeoutMs: number; pollMs?: number },
): Promise<ResyncOutcome> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const settled = new Map<string, AccessLevelOutcome>();
  let current = new Map<string, WorkSnapshot>();
  for (;;) {
    const open = queued.accessLevels.filter((level) => !settled.has(level));
    current = await workRows(sql, queued.buildingId, open);
    for (const level of open) {
      const before = queued.queued.get(level);
      const now = current.get(level);
      if (!now) {
        settled.set(level, await finished(sql, queued.buildingId, level));
        continue;
      }
      const attemptFailed =
        now.lastError !== null &&
        (!before ||
          now.attempts !== before.attempts ||
          now.lastError !== before.lastError ||
          now.notBefore !== before.notBefore ||
          // In backoff since before the resync, with the next attempt after the wait ends.
          now.notBefore > deadline);
      if (attemptFailed) {
        settled.set(level, {
          accessLevelId: level,
          outcome: 'failed',
          reason: now.lastError,
          nextAttemptAt: Number.isFinite(now.notBefore) ? new Date(now.notBefore).toISOString() : null,
          failedBookings: await failedBookings(sql, queued.buildingId, level),
        });
      }
    }
    if (settled.size === queued.accessLevels.length || Date.now() >= deadline) break;
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
  const outcomes = queued.accessLevels.map(
    (level): AccessLevelOutcome =>
      settled.get(level) ?? {
        accessLevelId: level,
        outcome: 'waiting',
        reason: 'the sync has not finished this access level yet',
        nextAttemptAt: (() => {
          const notBefore = current.get(level)?.notBefore;
          return notBefore !== undefined && Number.isFinite(notBefore) ? new Date(notBefore).toISOString() : null;
        })(),
        failedBookings: [],
      },
  );
  const allWritten = outcomes.every((o) => o.outcome === 'written');
  return {
    buildingId: queued.buildingId,
    accessLevels: queued.accessLevels,
    waitedSeconds: Math.round((Date.now() - started) / 100) / 10,
    outcomes,
    salto: allWritten ? null : await probeSalto(await saltoServer(sql, queued.buildingId)),
  };
}

async function failedBookings(sql: Sql, buildingId: string, accessLevelId: string) {
  const rows = await sql<{ booking_id: string; label: string; name: string; reason: string | null }[]>`
    select ba.booking_id, a.label, f.name, ba.reason
    from integration.booking_access as ba
    join public.bookings as bk on bk.id = ba.booking_id
    join public.apartments as a on a.id = ba.apartment_id
    join public.facilities as f on f.id = ba.facility_id
    where ba.building_id = ${buildingId} and ba.access_level_id = ${accessLevelId} and ba.state = 'failed'
      and bk.ends_at > integration.now()
    order by bk.starts_at limit 20`;
  return rows.map((r) => ({ bookingId: r.booking_id, apartment: r.label, facility: r.name, reason: r.reason }));
}

/** An access level whose work is done: written, unless some of its bookings failed. */
async function finished(sql: Sql, buildingId: string, accessLevelId: string): Promise<AccessLevelOutcome> {
  const failed = await failedBookings(sql, buildingId, accessLevelId);
  return {
    accessLevelId,
    outcome: failed.length ? 'failed' : 'written',
    reason: failed.length ? [...new Set(failed.map((f) => f.reason ?? 'no reason recorded'))].join(' / ') : null,
    nextAttemptAt: null,
    failedBookings: failed,
  };
}

/** The exit code resync --wait ends with: 0 all written, 3 SALTO unreachable, else 1 (failed or still waiting). */
export function resyncExitCode(outcome: ResyncOutcome): ExitCode {
  if (outcome.outcomes.every((o) => o.outcome === 'written')) return ExitCode.ok;
  if (outcome.salto?.problem?.unreachable) return ExitCode.unreachable;
  return ExitCode.problem;
}

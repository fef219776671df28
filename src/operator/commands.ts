/**
 * What an operator asks of a running installation: how each building is doing (status), whether a
 * building's SALTO configuration is right (doctor), and bringing access levels in line again (resync).
 * Each command returns plain data; cli.ts prints it for people or as JSON.
 */
import type { Sql } from 'postgres';
import { createSaltoClient, type SaltoClient, type SaltoEndpointInput } from '../shared/salto/index.ts';
import { createSyncStore } from '../shared/sync/store.ts';
import { nodeStpConnector } from '../simulator/node-stp-connector.ts';

export interface BuildingStatus {
  id: string;
  name: string;
  timeZone: string;
  pendingAccessLevels: number;
  oldestPendingSince: string | null;
  lastError: string | null;
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
  salto: { configured: boolean; reachable: boolean | null; detail: string };
}

function openSalto(endpoint: SaltoEndpointInput): SaltoClient {
  return createSaltoClient(endpoint, { connector: nodeStpConnector });
}

async function probeSalto(endpoint: SaltoEndpointInput | undefined): Promise<BuildingStatus['salto']> {
  if (!endpoint)
    return { configured: false, reachable: null, detail: 'no SALTO server configured (integration.salto_servers)' };
  const client = openSalto({ ...endpoint, connectTimeoutMs: 3000, replyTimeoutMs: 5000 });
  const started = Date.now();
  try {
    const info = await client.getInfo();
    return {
      configured: true,
      reachable: true,
      detail: `SHIP ${info.protocolVersion}, answered in ${Date.now() - started} ms`,
    };
  } catch (error) {
    return { configured: true, reachable: false, detail: (error as Error).message };
  } finally {
    await client.close().catch(() => {});
  }
}

export async function buildingStatus(sql: Sql, buildingId?: string): Promise<BuildingStatus[]> {
  const store = createSyncStore(sql);
  const buildings = await sql<{ id: string; name: string; timezone: string }[]>`
    select id, name, timezone from public.buildings
    where ${buildingId ?? null}::uuid is null or id = ${buildingId ?? null}::uuid
    order by name`;
  return Promise.all(
    buildings.map(async (b) => {
      const [work] = await sql<{ pending: number; oldest: Date | null; last_error: string | null }[]>`
        select count(*)::int as pending, min(requested_at) as oldest,
          (select w2.last_error from integration.access_level_work as w2
           where w2.building_id = ${b.id} and w2.last_error is not null order by w2.attempts desc limit 1) as last_error
        from integration.access_level_work where building_id = ${b.id}`;
      const failed = await sql<{ booking_id: string; label: string; name: string; reason: string | null }[]>`
        select ba.booking_id, a.label, f.name, ba.reason
        from integration.booking_access as ba
        join public.apartments as a on a.id = ba.apartment_id
        join public.facilities as f on f.id = ba.facility_id
        where ba.building_id = ${b.id} and ba.state = 'failed'
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
      const context = await store.building(b.id);
      return {
        id: b.id,
        name: b.name,
        timeZone: b.timezone,
        pendingAccessLevels: work?.pending ?? 0,
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
        salto: await probeSalto(context.endpoint),
      };
    }),
  );
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
  salto: BuildingStatus['salto'];
  zonesInSalto: number;
  accessLevelsInSalto: number;
  findings: DoctorFinding[];
}

/** Checks a building's SALTO connection and every Zone ID and Access Control ID against SALTO. */
export async function doctor(sql: Sql, buildingId: string): Promise<DoctorReport> {
  const store = createSyncStore(sql);
  const [building] = await sql<{ name: string }[]>`select name from public.buildings where id = ${buildingId}`;
  if (!building) throw new Error(`There is no building with id ${buildingId}.`);
  const context = await store.building(buildingId);
  const salto = await probeSalto(context.endpoint);
  const findings: DoctorFinding[] = [];
  const report: DoctorReport = {
    buildingId,
    name: building.name,
    salto,
    zonesInSalto: 0,
    accessLevelsInSalto: 0,
    findings,
  };
  if (!context.endpoint) {
    findings.push({
      severity: 'problem',
      what: 'No SALTO server is configured for this building, so no booking can be written.',
      fix: 'Insert a row into integration.salto_servers (transport, host, port, auth) and store the SHIP key in Vault; see README "Configuring a building\'s SALTO server".',
    });
    return report;
  }
  if (!salto.reachable) {
    findings.push({
      severity: 'problem',
      what: `SALTO ProAccess SPACE does not answer: ${salto.detail}`,
      fix: 'Check that the server is running, that HTTP(S) or TCP SHIP is enabled on it, the port forwarding and firewall, and the SHIP key (Vault secret named in integration.salto_servers.credential_secret_name).',
    });
    return report;
  }
  const client = openSalto(context.endpoint);
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
          fix: `Settings > Facilities > ${f.name}: set Access Control Facility ID to its Zone ID in SALTO ProAccess SPACE.`,
        });
      } else if (!zoneIds.has(f.zone)) {
        findings.push({
          severity: 'problem',
          what: `The facility "${f.name}" has the Access Control Facility ID "${f.zone}", but SALTO has no zone with that ID.`,
          fix: `Settings > Facilities > ${f.name}: set Access Control Facility ID to exactly the Zone ID in SALTO (zones SALTO knows: ${[...zoneIds].slice(0, 12).join(', ')}${zoneIds.size > 12 ? ', ...' : ''}).`,
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
          fix: `Building > Apartments > ${a.label}: set Access Control ID to the User Access Level EXT ID of its access level in SALTO, then Save Access Control ID.`,
        });
      } else if (!levelIds.has(a.level)) {
        findings.push({
          severity: 'problem',
          what: `Apartment ${a.label} has the Access Control ID "${a.level}", but SALTO has no user access level with that EXT ID.`,
          fix: `Building > Apartments > ${a.label}: set Access Control ID to exactly the User Access Level EXT ID in SALTO ProAccess SPACE, then Save Access Control ID.`,
        });
      }
    }
  } finally {
    await client.close().catch(() => {});
  }
  return report;
}

export interface ResyncResult {
  accessLevels: string[];
}

/**
 * Queues access levels for the sync function (which the queueing wakes): those of one booking, one
 * apartment, or a whole building. The sync is level-triggered, so asking again is always safe.
 */
export async function resync(
  sql: Sql,
  target: { booking?: string; apartment?: string; building?: string },
): Promise<ResyncResult> {
  return sql.begin(async (tx) => {
    let pairs: { apartment_id: string; facility_id: string }[] = [];
    let levels: { building_id: string; access_level_id: string }[] = [];
    if (target.booking) {
      pairs = await tx`select apartment_id, facility_id from public.bookings where id = ${target.booking}`;
      if (pairs.length === 0) throw new Error(`There is no booking with id ${target.booking}.`);
    } else if (target.apartment) {
      pairs =
        await tx`select distinct apartment_id, facility_id from public.bookings where apartment_id = ${target.apartment}`;
      const [apartment] = await tx`select 1 from public.apartments where id = ${target.apartment}`;
      if (!apartment) throw new Error(`There is no apartment with id ${target.apartment}.`);
    } else if (target.building) {
      const [building] = await tx`select 1 from public.buildings where id = ${target.building}`;
      if (!building) throw new Error(`There is no building with id ${target.building}.`);
      pairs =
        await tx`select distinct apartment_id, facility_id from public.bookings where building_id = ${target.building}`;
      levels = await tx`
        select building_id, access_level_id from integration.written_permissions where building_id = ${target.building}
        union
        select building_id, access_control_id from public.apartments where building_id = ${target.building} and access_control_id is not null`;
    } else {
      throw new Error('Say what to resync: --booking <id>, --apartment <id> or --building <id>.');
    }
    for (const pair of pairs) await tx`select integration.pair_changed(${pair.apartment_id}, ${pair.facility_id})`;
    for (const level of levels)
      await tx`select integration.request_sync(${level.building_id}, ${level.access_level_id})`;
    const apartments = [...new Set(pairs.map((p) => p.apartment_id))];
    const fromApartments = await tx<{ access_control_id: string }[]>`
      select access_control_id from public.apartments where id = any (${apartments}::uuid[]) and access_control_id is not null`;
    return {
      accessLevels: [
        ...new Set([...fromApartments.map((a) => a.access_control_id), ...levels.map((l) => l.access_level_id)]),
      ].sort(),
    };
  });
}

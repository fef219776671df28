/**
 * `plan`: what the next sync pass would write to a building's SALTO, written nowhere. Per access level
 * with work queued (integration.access_level_work, due or not), the zone permissions it would add,
 * change and remove, and the timetables it would write. It reconciles exactly as the sync does
 * (reconcileAccessLevel), through a client that reads SALTO and sends no write (shadow.ts) and a
 * store that records nothing; permanent permissions met on facilities' zones are the one thing it
 * notes in the database, as the sync would (they are facts read from SALTO, not writes to it).
 */
import type { Sql } from 'postgres';
import { createSaltoClient, isSaltoError, type ZonePermission } from '../shared/salto/index.ts';
import { reconcileAccessLevel } from '../shared/sync/engine.ts';
import { type PlannedWrite, shadowClient } from '../shared/sync/shadow.ts';
import { createSyncStore } from '../shared/sync/store.ts';
import { nodeStpConnector } from '../simulator/node-stp-connector.ts';
import type { Building } from './commands.ts';
import { CliError, ExitCode } from './errors.ts';

export interface PlannedPermission {
  zoneId: string;
  timetableId: number;
  period: string | null;
}

export interface AccessLevelPlan {
  accessLevelId: string;
  add: PlannedPermission[];
  change: { zoneId: string; from: PlannedPermission; to: PlannedPermission }[];
  remove: PlannedPermission[];
  /** Timetable slots the pass would write first (slot and its content key). */
  timetables: { slot: number; content: string }[];
  /** Bookings that would fail, and why. */
  failures: { bookingIds: string[]; reason: string }[];
  /** Set when the access level could not be planned (SALTO refused it, say). */
  error?: string;
}

export interface BuildingPlan {
  building: Building;
  writes: 'live' | 'shadow';
  accessLevels: AccessLevelPlan[];
}

const described = (p: ZonePermission): PlannedPermission => ({
  zoneId: p.zoneId,
  timetableId: p.timetableId,
  period: p.usePeriod && p.period ? `${p.period.startDate}..${p.period.endDate}` : null,
});

/** The plan for every access level of the building with queued work. Writes nothing to SALTO. */
export async function planBuilding(sql: Sql, building: Building): Promise<BuildingPlan> {
  const store = createSyncStore(sql);
  const context = await store.building(building.id);
  if (!context.endpoint) {
    throw new CliError(
      ExitCode.problem,
      'no_salto_server',
      `${building.name} has no SALTO server configured (integration.salto_servers): nothing to plan.`,
    );
  }
  const work = await sql<{ access_level_id: string }[]>`
    select access_level_id from integration.access_level_work
    where building_id = ${building.id} order by requested_at, access_level_id`;
  const ids = work.map((w) => w.access_level_id);
  const { desired, timetables } = await store.desiredAccessLevelsAndTimetables(building.id, ids);
  const client = createSaltoClient(context.endpoint, { connector: nodeStpConnector });
  const accessLevels: AccessLevelPlan[] = [];
  try {
    for (const accessLevelId of ids) {
      const planned: PlannedWrite[] = [];
      const plan: AccessLevelPlan = { accessLevelId, add: [], change: [], remove: [], timetables: [], failures: [] };
      try {
        const reconciliation = await reconcileAccessLevel(context, accessLevelId, desired.get(accessLevelId)!, {
          client: shadowClient(client, planned),
          store: {
            saveTimetableSlot: async () => {},
            recordPermanentPermissions: (...args) => store.recordPermanentPermissions(...args),
          },
          timetables,
        });
        const { result } = reconciliation;
        const before = new Map(result.before.map((p) => [p.zoneId, p]));
        const after = new Map(result.permissions.map((p) => [p.zoneId, p]));
        plan.add = result.added.map((zone) => described(after.get(zone)!));
        plan.change = result.updated.map((zone) => ({
          zoneId: zone,
          from: described(before.get(zone)!),
          to: described(after.get(zone)!),
        }));
        plan.remove = result.removed.map((zone) => described(before.get(zone)!));
        plan.failures = reconciliation.failures.map((f) => ({ bookingIds: f.bookingIds, reason: f.reason }));
        for (const write of planned.filter((w) => w.requestName === 'SaltoDBTimezoneTable.Update')) {
          const slot = /<TimezoneTableID>(\d+)<\/TimezoneTableID>/.exec(write.request)?.[1];
          const content = /<Name>connecX ([^<]*)<\/Name>/.exec(write.request)?.[1] ?? '';
          if (slot) plan.timetables.push({ slot: Number(slot), content });
        }
      } catch (error) {
        if (isSaltoError(error) && error.kind === 'transient') {
          throw new CliError(
            ExitCode.unreachable,
            'salto_unreachable',
            `${building.name}'s SALTO server cannot be reached: ${error.message}`,
          );
        }
        plan.error = error instanceof Error ? error.message : String(error);
      }
      accessLevels.push(plan);
    }
  } finally {
    await client.close().catch(() => {});
  }
  return { building, writes: context.writes ?? 'live', accessLevels };
}

/** 1 when an access level could not be planned or bookings would fail; else 0. */
export function planExitCode(plan: BuildingPlan): ExitCode {
  return plan.accessLevels.some((l) => l.error !== undefined || l.failures.length > 0) ? ExitCode.problem : ExitCode.ok;
}

const permissionText = (p: PlannedPermission) =>
  `${p.zoneId} (timetable ${p.timetableId}${p.period ? `, ${p.period}` : ', no period'})`;

export function formatPlan(plan: BuildingPlan): string {
  const lines = [
    `${plan.building.name}  ${plan.building.id}`,
    `  writes       ${plan.writes === 'shadow' ? 'shadow mode: planned, not sent (a manager switches the building live)' : 'live'}`,
    `  plan         ${plan.accessLevels.length} access level(s) with queued work; nothing was written`,
  ];
  for (const level of plan.accessLevels) {
    lines.push(`  ${level.accessLevelId}`);
    if (level.error) lines.push(`    cannot plan: ${level.error}`);
    for (const t of level.timetables) lines.push(`    timetable ${t.slot} := ${t.content}`);
    for (const p of level.add) lines.push(`    + ${permissionText(p)}`);
    for (const c of level.change) lines.push(`    ~ ${permissionText(c.from)} -> ${permissionText(c.to)}`);
    for (const p of level.remove) lines.push(`    - ${permissionText(p)}`);
    for (const f of level.failures) lines.push(`    ! ${f.reason}`);
    if (!level.error && level.add.length + level.change.length + level.remove.length === 0)
      lines.push('    (no change)');
  }
  return `${lines.join('\n')}\n`;
}

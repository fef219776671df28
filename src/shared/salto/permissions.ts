/**
 * "Set this access level's permission for these zones, leave every other zone untouched."
 *
 * SHIP replaces an access level's whole zone list on update, so changing one zone is read-modify-write.
 * The pure merge decides the new list: zones we do not manage (main entrance, car park, lifts...) are
 * carried over exactly as read, unknown XML children included; zones we manage take the desired value
 * or are dropped. SHIP offers no compare-and-set, so callers must not run two writers for one access
 * level at once (the sync engine holds a lease per access level).
 */
import { assertOneEntryPerZone, type CallOptions, type SaltoClient } from './client.ts';
import type { ZonePermission } from './model.ts';

export interface ZonePermissionMerge {
  /** The complete list to write: unmanaged entries as read, in their order, then managed ones. */
  readonly permissions: readonly ZonePermission[];
  /** False when the current list already matches: no write needed. */
  readonly changed: boolean;
  readonly added: readonly string[];
  readonly updated: readonly string[];
  readonly removed: readonly string[];
}

/** Two permissions grant the same access (the fields we manage; unknown children not compared). */
export function samePermission(a: ZonePermission, b: ZonePermission): boolean {
  return (
    a.zoneId === b.zoneId &&
    a.timetableId === b.timetableId &&
    a.usePeriod === b.usePeriod &&
    (a.usePeriod ? a.period?.startDate === b.period?.startDate && a.period?.endDate === b.period?.endDate : true)
  );
}

/**
 * The new zone list of an access level.
 * - `current`: the list read from SALTO.
 * - `desired`: the permissions we want for managed zones (a managed zone absent here is removed).
 * - `managedZoneIds`: the zones this product manages; zones named in `desired` count as managed too.
 * Every entry for an unmanaged zone is kept as the same object, so it is written back as it was read.
 * Throws SaltoError (input, code 7) when `desired` names a zone twice.
 */
export function mergeZonePermissions(
  current: readonly ZonePermission[],
  desired: readonly ZonePermission[],
  managedZoneIds: Iterable<string>,
): ZonePermissionMerge {
  assertOneEntryPerZone(desired);
  const managed = new Set(managedZoneIds);
  for (const permission of desired) managed.add(permission.zoneId);
  const wanted = new Map(desired.map((p) => [p.zoneId, p]));

  const kept: ZonePermission[] = [];
  const before = new Map<string, ZonePermission>();
  for (const permission of current) {
    if (managed.has(permission.zoneId)) before.set(permission.zoneId, permission);
    else kept.push(permission);
  }

  const added: string[] = [];
  const updated: string[] = [];
  const removed: string[] = [];
  const managedEntries: ZonePermission[] = [];
  for (const permission of desired) {
    const existing = before.get(permission.zoneId);
    if (!existing) {
      added.push(permission.zoneId);
      managedEntries.push(permission);
    } else if (samePermission(existing, permission)) {
      managedEntries.push(existing);
    } else {
      updated.push(permission.zoneId);
      managedEntries.push(permission);
    }
  }
  for (const zoneId of before.keys()) if (!wanted.has(zoneId)) removed.push(zoneId);
  // A server list holding one managed zone twice is not ours to trust: rewrite it cleanly.
  const duplicatesInCurrent = current.filter((p) => managed.has(p.zoneId)).length !== before.size;

  return {
    permissions: [...kept, ...managedEntries],
    changed: added.length + updated.length + removed.length > 0 || duplicatesInCurrent,
    added,
    updated,
    removed,
  };
}

export interface SetZonePermissionsResult extends ZonePermissionMerge {
  /** The list read from SALTO before the write. */
  readonly before: readonly ZonePermission[];
  /** True when an update was sent. */
  readonly written: boolean;
}

/**
 * Reads the access level, merges, and writes the new list only when something changed. Rejects with
 * SaltoError (code 11 when SALTO does not know the access level).
 */
export async function setZonePermissions(
  client: SaltoClient,
  accessLevelId: string,
  desired: readonly ZonePermission[],
  managedZoneIds: Iterable<string>,
  options?: CallOptions,
): Promise<SetZonePermissionsResult> {
  const level = await client.readAccessLevel(accessLevelId, options);
  return writeZonePermissions(client, accessLevelId, level.zonePermissions, desired, managedZoneIds, options);
}

/**
 * Like setZonePermissions, for a caller that has just read the access level (say, with
 * listAccessLevels for a whole site): merges with `current` and writes only when something changed.
 * `current` must be fresh: SHIP has no compare-and-set.
 */
export async function writeZonePermissions(
  client: SaltoClient,
  accessLevelId: string,
  current: readonly ZonePermission[],
  desired: readonly ZonePermission[],
  managedZoneIds: Iterable<string>,
  options?: CallOptions,
): Promise<SetZonePermissionsResult> {
  const merge = mergeZonePermissions(current, desired, managedZoneIds);
  if (!merge.changed) return { ...merge, before: current, written: false };
  await client.replaceZonePermissions(accessLevelId, merge.permissions, options);
  return { ...merge, before: current, written: true };
}

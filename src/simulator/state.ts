/**
 * The state of one simulated SALTO site: zones, doors, access levels with their zone permissions, the
 * fixed timetable pool, holidays. Loaded from a seed (JSON), snapshotted as JSON for the control API.
 */
import { z } from 'zod';
import {
  type DayTypes,
  DayTypesSchema,
  ExtIdSchema,
  ShipDateTimeSchema,
  ShipTextSchema,
  ShipTimeSchema,
} from '../shared/salto/model.ts';
import type { XmlElement } from '../shared/salto/xml.ts';
import { isValidTimeZone } from '../shared/time/local-time.ts';

export interface SimZone {
  id: string;
  name: string;
  description: string;
}

export interface SimDoor {
  id: string;
  name: string;
  zoneIds: string[];
}

export interface SimPermission {
  zoneId: string;
  timetableId: number;
  usePeriod: boolean;
  startDate?: string;
  endDate?: string;
  /** Permission children the simulator stores without interpreting (see README: "server-only fields"). */
  extra: XmlElement[];
}

export interface SimAccessLevel {
  id: string;
  name: string;
  description: string;
  permissions: SimPermission[];
}

export interface SimInterval {
  start: string;
  end: string;
  days: DayTypes;
}

export interface SimTimetable {
  id: number;
  name: string;
  intervals: SimInterval[];
}

export interface SiteState {
  timeZone: string;
  zones: Map<string, SimZone>;
  doors: Map<string, SimDoor>;
  accessLevels: Map<string, SimAccessLevel>;
  /** Every slot 1..poolSize exists; an empty slot has no intervals (never opens). */
  timetables: Map<number, SimTimetable>;
  /** Local dates (yyyy-MM-dd) that use the Holiday day type instead of their weekday. */
  holidays: Set<string>;
}

const XmlElementSchema: z.ZodType<XmlElement> = z.lazy(() =>
  z.object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/),
    text: z.string().optional(),
    children: z.array(XmlElementSchema).optional(),
  }),
);

const SeedPermissionSchema = z.object({
  zoneId: ExtIdSchema,
  timetableId: z.number().int().min(0),
  usePeriod: z.boolean().default(false),
  period: z.object({ startDate: ShipDateTimeSchema, endDate: ShipDateTimeSchema }).optional(),
  extra: z.array(XmlElementSchema).default([]),
});

export const SiteSeedSchema = z.object({
  timeZone: z.string().refine(isValidTimeZone, 'unknown IANA time zone').default('UTC'),
  zones: z
    .array(z.object({ id: ExtIdSchema, name: ShipTextSchema.default(''), description: ShipTextSchema.default('') }))
    .default([]),
  doors: z
    .array(z.object({ id: z.string().min(1), name: ShipTextSchema.default(''), zones: z.array(ExtIdSchema) }))
    .default([]),
  accessLevels: z
    .array(
      z.object({
        id: ExtIdSchema,
        name: ShipTextSchema.default(''),
        description: ShipTextSchema.default(''),
        zonePermissions: z.array(SeedPermissionSchema).default([]),
      }),
    )
    .default([]),
  timetables: z
    .array(
      z.object({
        id: z.number().int().min(1),
        name: ShipTextSchema.default(''),
        intervals: z.array(z.object({ start: ShipTimeSchema, end: ShipTimeSchema, days: DayTypesSchema })).default([]),
      }),
    )
    .default([]),
  holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]),
});
export type SiteSeed = z.input<typeof SiteSeedSchema>;

/** Builds a site from a seed. Throws with a readable message when the seed is inconsistent. */
export function siteFromSeed(seedInput: unknown, poolSize: number, timeZoneOverride?: string): SiteState {
  const seed = SiteSeedSchema.parse(seedInput);
  const timeZone = timeZoneOverride ?? seed.timeZone;
  if (!isValidTimeZone(timeZone)) throw new Error(`unknown IANA time zone ${timeZone}`);
  const zones = new Map(seed.zones.map((z) => [z.id, { ...z }]));
  const problems: string[] = [];
  const timetables = new Map<number, SimTimetable>();
  for (let id = 1; id <= poolSize; id++) timetables.set(id, { id, name: '', intervals: [] });
  for (const t of seed.timetables) {
    if (!timetables.has(t.id)) problems.push(`timetable ${t.id} is outside the pool 1..${poolSize}`);
    timetables.set(t.id, { id: t.id, name: t.name, intervals: t.intervals.map((i) => ({ ...i })) });
  }
  const doors = new Map<string, SimDoor>();
  for (const door of seed.doors) {
    for (const zoneId of door.zones) if (!zones.has(zoneId)) problems.push(`door ${door.id}: unknown zone ${zoneId}`);
    doors.set(door.id, { id: door.id, name: door.name, zoneIds: [...door.zones] });
  }
  const accessLevels = new Map<string, SimAccessLevel>();
  for (const level of seed.accessLevels) {
    const seen = new Set<string>();
    const permissions: SimPermission[] = level.zonePermissions.map((p) => {
      if (!zones.has(p.zoneId)) problems.push(`access level ${level.id}: unknown zone ${p.zoneId}`);
      if (seen.has(p.zoneId)) problems.push(`access level ${level.id}: zone ${p.zoneId} twice`);
      seen.add(p.zoneId);
      if (p.timetableId !== 0 && !timetables.has(p.timetableId))
        problems.push(`access level ${level.id}: unknown timetable ${p.timetableId}`);
      if (p.usePeriod && !p.period)
        problems.push(`access level ${level.id}: zone ${p.zoneId} uses a period but has none`);
      return {
        zoneId: p.zoneId,
        timetableId: p.timetableId,
        usePeriod: p.usePeriod,
        ...(p.period ? { startDate: p.period.startDate, endDate: p.period.endDate } : {}),
        extra: p.extra,
      };
    });
    accessLevels.set(level.id, { id: level.id, name: level.name, description: level.description, permissions });
  }
  if (problems.length > 0) throw new Error(`inconsistent SALTO seed:\n- ${problems.join('\n- ')}`);
  return { timeZone, zones, doors, accessLevels, timetables, holidays: new Set(seed.holidays) };
}

/** The site as plain JSON, in the seed's shape (so a snapshot can be fed back as a seed). */
export function snapshotSite(site: SiteState, options: { includeEmptyTimetables?: boolean } = {}) {
  return {
    timeZone: site.timeZone,
    zones: [...site.zones.values()].map((z) => ({ ...z })),
    doors: [...site.doors.values()].map((d) => ({ id: d.id, name: d.name, zones: [...d.zoneIds] })),
    accessLevels: [...site.accessLevels.values()].map((level) => ({
      id: level.id,
      name: level.name,
      description: level.description,
      zonePermissions: level.permissions.map((p) => ({
        zoneId: p.zoneId,
        timetableId: p.timetableId,
        usePeriod: p.usePeriod,
        ...(p.startDate !== undefined && p.endDate !== undefined
          ? { period: { startDate: p.startDate, endDate: p.endDate } }
          : {}),
        ...(p.extra.length > 0 ? { extra: p.extra } : {}),
      })),
    })),
    timetables: [...site.timetables.values()]
      .filter((t) => options.includeEmptyTimetables || t.intervals.length > 0 || t.name !== '')
      .map((t) => ({ id: t.id, name: t.name, intervals: t.intervals.map((i) => ({ ...i, days: { ...i.days } })) })),
    holidays: [...site.holidays].sort(),
  };
}
export type SiteSnapshot = ReturnType<typeof snapshotSite>;

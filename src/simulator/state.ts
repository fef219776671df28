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
  /** Fields real zones carry; stored and returned, not interpreted (README: "fields real servers send"). */
  isLow?: boolean;
  isFreeAssignment?: boolean;
  freeAssignmentGroup?: number;
}

export interface SimDoor {
  id: string;
  name: string;
  zoneIds: string[];
  /** The lock's calendar (used for a card whose user has UseLockCalendar=1). */
  calendarId?: number;
}

/** An access level -> door permission (SaltoDB.AccessPermission.Group_Door). */
export interface SimDoorPermission {
  doorId: string;
  timetableId: number;
  usePeriod: boolean;
  startDate?: string;
  endDate?: string;
}

/** The day types a calendar can give a date instead of its weekday. */
export type SpecialDay = 'holiday' | 'special1' | 'special2';

/** A SALTO calendar (SaltoDBCalendar) and the dates its year calendars mark. */
export interface SimCalendar {
  id: number;
  name: string;
  description: string;
  /** Local date (yyyy-MM-dd) -> the day type it has; dates absent are ordinary (their weekday). */
  marks: Map<string, SpecialDay>;
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
  doorPermissions?: SimDoorPermission[];
  /** ExtUserIDs of the users (cards) in the access level (SaltoDB.MembershipList.User_Group). */
  users?: string[];
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
  /** The site's calendars by CalendarID. Calendar 1 is the default one (see README). */
  calendars: Map<number, SimCalendar>;
}

/** The calendar effective access uses when none is named. */
export const DEFAULT_CALENDAR_ID = 1;

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

const LocalDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

const SeedDoorPermissionSchema = z.object({
  doorId: ExtIdSchema,
  timetableId: z.number().int().min(0),
  usePeriod: z.boolean().default(false),
  period: z.object({ startDate: ShipDateTimeSchema, endDate: ShipDateTimeSchema }).optional(),
});

export const SiteSeedSchema = z.object({
  timeZone: z.string().refine(isValidTimeZone, 'unknown IANA time zone').default('UTC'),
  zones: z
    .array(
      z.object({
        id: ExtIdSchema,
        name: ShipTextSchema.default(''),
        description: ShipTextSchema.default(''),
        isLow: z.boolean().default(false),
        isFreeAssignment: z.boolean().default(false),
        freeAssignmentGroup: z.number().int().min(0).default(1),
      }),
    )
    .default([]),
  doors: z
    .array(
      z.object({
        id: z.string().min(1),
        name: ShipTextSchema.default(''),
        zones: z.array(ExtIdSchema),
        calendarId: z.number().int().min(1).optional(),
      }),
    )
    .default([]),
  accessLevels: z
    .array(
      z.object({
        id: ExtIdSchema,
        name: ShipTextSchema.default(''),
        description: ShipTextSchema.default(''),
        zonePermissions: z.array(SeedPermissionSchema).default([]),
        doorPermissions: z.array(SeedDoorPermissionSchema).default([]),
        users: z.array(ExtIdSchema).default([]),
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
  /** Dates of calendar 1 (the default calendar) with the Holiday day type: shorthand for `calendars`. */
  holidays: z.array(LocalDateSchema).default([]),
  calendars: z
    .array(
      z.object({
        id: z.number().int().min(1),
        name: ShipTextSchema.default(''),
        description: ShipTextSchema.default(''),
        holidays: z.array(LocalDateSchema).default([]),
        special1: z.array(LocalDateSchema).default([]),
        special2: z.array(LocalDateSchema).default([]),
      }),
    )
    .default([]),
});
export type SiteSeed = z.input<typeof SiteSeedSchema>;

/** Builds a site from a seed. Throws with a readable message when the seed is inconsistent. */
export function siteFromSeed(seedInput: unknown, poolSize: number, timeZoneOverride?: string): SiteState {
  const seed = SiteSeedSchema.parse(seedInput);
  const timeZone = timeZoneOverride ?? seed.timeZone;
  if (!isValidTimeZone(timeZone)) throw new Error(`unknown IANA time zone ${timeZone}`);
  const zones = new Map<string, SimZone>(seed.zones.map((z) => [z.id, { ...z }]));
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
    doors.set(door.id, {
      id: door.id,
      name: door.name,
      zoneIds: [...door.zones],
      ...(door.calendarId === undefined ? {} : { calendarId: door.calendarId }),
    });
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
    const doorPermissions: SimDoorPermission[] = level.doorPermissions.map((p) => {
      if (!doors.has(p.doorId)) problems.push(`access level ${level.id}: unknown door ${p.doorId}`);
      return {
        doorId: p.doorId,
        timetableId: p.timetableId,
        usePeriod: p.usePeriod,
        ...(p.period ? { startDate: p.period.startDate, endDate: p.period.endDate } : {}),
      };
    });
    accessLevels.set(level.id, {
      id: level.id,
      name: level.name,
      description: level.description,
      permissions,
      doorPermissions,
      users: [...level.users],
    });
  }
  const calendars = new Map<number, SimCalendar>();
  for (const c of seed.calendars) {
    const marks = new Map<string, SpecialDay>();
    for (const date of c.holidays) marks.set(date, 'holiday');
    for (const date of c.special1) marks.set(date, 'special1');
    for (const date of c.special2) marks.set(date, 'special2');
    calendars.set(c.id, { id: c.id, name: c.name, description: c.description, marks });
  }
  if (seed.holidays.length > 0 || !calendars.has(DEFAULT_CALENDAR_ID)) {
    const calendar = calendars.get(DEFAULT_CALENDAR_ID) ?? {
      id: DEFAULT_CALENDAR_ID,
      name: 'Default',
      description: '',
      marks: new Map<string, SpecialDay>(),
    };
    for (const date of seed.holidays) calendar.marks.set(date, 'holiday');
    calendars.set(DEFAULT_CALENDAR_ID, calendar);
  }
  for (const door of doors.values()) {
    if (door.calendarId !== undefined && !calendars.has(door.calendarId))
      problems.push(`door ${door.id}: unknown calendar ${door.calendarId}`);
  }
  if (problems.length > 0) throw new Error(`inconsistent SALTO seed:\n- ${problems.join('\n- ')}`);
  return { timeZone, zones, doors, accessLevels, timetables, calendars };
}

/** The site as plain JSON, in the seed's shape (so a snapshot can be fed back as a seed). */
export function snapshotSite(site: SiteState, options: { includeEmptyTimetables?: boolean } = {}) {
  return {
    timeZone: site.timeZone,
    zones: [...site.zones.values()].map((z) => ({
      ...z,
      isLow: z.isLow ?? false,
      isFreeAssignment: z.isFreeAssignment ?? false,
      freeAssignmentGroup: z.freeAssignmentGroup ?? 1,
    })),
    doors: [...site.doors.values()].map((d) => ({
      id: d.id,
      name: d.name,
      zones: [...d.zoneIds],
      ...(d.calendarId === undefined ? {} : { calendarId: d.calendarId }),
    })),
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
      doorPermissions: (level.doorPermissions ?? []).map((p) => ({
        doorId: p.doorId,
        timetableId: p.timetableId,
        usePeriod: p.usePeriod,
        ...(p.startDate !== undefined && p.endDate !== undefined
          ? { period: { startDate: p.startDate, endDate: p.endDate } }
          : {}),
      })),
      users: [...(level.users ?? [])],
    })),
    timetables: [...site.timetables.values()]
      .filter((t) => options.includeEmptyTimetables || t.intervals.length > 0 || t.name !== '')
      .map((t) => ({ id: t.id, name: t.name, intervals: t.intervals.map((i) => ({ ...i, days: { ...i.days } })) })),
    holidays: [] as string[],
    calendars: [...site.calendars.values()]
      .sort((a, b) => a.id - b.id)
      .map((c) => {
        const of = (type: SpecialDay) =>
          [...c.marks]
            .filter(([, t]) => t === type)
            .map(([date]) => date)
            .sort();
        return {
          id: c.id,
          name: c.name,
          description: c.description,
          holidays: of('holiday'),
          special1: of('special1'),
          special2: of('special2'),
        };
      }),
  };
}
export type SiteSnapshot = ReturnType<typeof snapshotSite>;

/**
 * The SALTO entities this product touches, as TypeScript values, with their zod schemas.
 *
 * Dates and times stay SHIP strings, verbatim as SALTO wrote them: the building's local wall time, no
 * offset (`yyyy-MM-ddTHH:mm:ss`, where an end of `T24:00:00` is allowed). Periods are date-granular in
 * SALTO; `periodForDates` builds the canonical form `first T00:00:00 .. last T24:00:00`. Converting to
 * and from instants is the caller's business (see src/shared/time/local-time.ts).
 */
import { z } from 'zod';
import { isXmlText, type XmlElement } from './xml.ts';

/** Text SHIP can carry: no characters that XML 1.0 forbids. */
export const ShipTextSchema = z.string().refine(isXmlText, 'contains a character XML cannot carry');

/** ExtIDs (access level, zone): 1..32 characters. */
export const ExtIdSchema = ShipTextSchema.pipe(z.string().min(1).max(32));

/** `yyyy-MM-ddTHH:mm:ss`, local to the SALTO server; `T24:00:00` allowed (end of that day). */
export const ShipDateTimeSchema = z
  .string()
  .regex(
    /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T(([01]\d|2[0-3]):[0-5]\d:[0-5]\d|24:00:00)$/,
    'expected yyyy-MM-ddTHH:mm:ss',
  );

/** `HH:mm:ss`; `24:00:00` allowed as an interval end. */
export const ShipTimeSchema = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d:[0-5]\d|24:00:00)$/, 'expected HH:mm:ss');

/** TimezoneTableID: 0 means "always"; other ids name a slot of the server's fixed pool. */
export const TimetableIdSchema = z.number().int().min(0).max(65_535);

export const PeriodSchema = z
  .object({ startDate: ShipDateTimeSchema, endDate: ShipDateTimeSchema })
  .refine((p) => p.startDate.slice(0, 10) <= p.endDate.slice(0, 10), 'period ends before it starts');
export type Period = z.infer<typeof PeriodSchema>;

const ExtraSchema = z.array(z.custom<XmlElement>((v) => typeof v === 'object' && v !== null && 'name' in v)).readonly();

/**
 * One access level -> zone permission. `extra` keeps the children of the permission that this client
 * does not model, exactly as read, so writing back a permission we do not manage reproduces it.
 */
export const ZonePermissionSchema = z
  .object({
    zoneId: ExtIdSchema,
    timetableId: TimetableIdSchema,
    usePeriod: z.boolean(),
    period: PeriodSchema.optional(),
    extra: ExtraSchema.optional(),
  })
  .refine((p) => !p.usePeriod || p.period !== undefined, 'usePeriod needs a period');
export type ZonePermission = z.infer<typeof ZonePermissionSchema>;

/** A SALTO user access level (SaltoDBGroup) with its zone permissions. */
export interface AccessLevel {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly zonePermissions: readonly ZonePermission[];
}

export const AccessLevelInputSchema = z.object({
  id: ExtIdSchema,
  name: ShipTextSchema.optional(),
  description: ShipTextSchema.optional(),
  zonePermissions: z.array(ZonePermissionSchema).readonly().optional(),
});
export type AccessLevelInput = z.input<typeof AccessLevelInputSchema>;

/** A SALTO zone (SaltoDBZone). */
export interface Zone {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
}
export const ZoneInputSchema = z.object({
  id: ExtIdSchema,
  name: ShipTextSchema.optional(),
  description: ShipTextSchema.optional(),
});

export const DayTypesSchema = z.object({
  monday: z.boolean(),
  tuesday: z.boolean(),
  wednesday: z.boolean(),
  thursday: z.boolean(),
  friday: z.boolean(),
  saturday: z.boolean(),
  sunday: z.boolean(),
  holiday: z.boolean(),
  special1: z.boolean(),
  special2: z.boolean(),
});
export type DayTypes = z.infer<typeof DayTypesSchema>;
export const DAY_TYPES = Object.keys(DayTypesSchema.shape) as (keyof DayTypes)[];

/** SHIP's element name for each day type. */
export const DAY_TYPE_ELEMENTS: Record<keyof DayTypes, string> = {
  monday: 'Monday',
  tuesday: 'Tuesday',
  wednesday: 'Wednesday',
  thursday: 'Thursday',
  friday: 'Friday',
  saturday: 'Saturday',
  sunday: 'Sunday',
  holiday: 'Holiday',
  special1: 'Special1',
  special2: 'Special2',
};

/** One interval of a timetable: [start, end) on each ticked day type. */
export const TimetableIntervalSchema = z
  .object({ start: ShipTimeSchema, end: ShipTimeSchema, days: DayTypesSchema })
  .refine((i) => i.start !== '24:00:00' && i.start < i.end, 'interval must end after it starts');
export type TimetableInterval = z.infer<typeof TimetableIntervalSchema>;

/** A numbered timetable (SaltoDBTimezoneTable). An empty interval list never opens. */
export const TimetableSchema = z.object({
  id: TimetableIdSchema.refine((id) => id > 0, 'timetable 0 is "always" and cannot be written'),
  name: ShipTextSchema,
  intervals: z.array(TimetableIntervalSchema).readonly(),
});
export type Timetable = z.infer<typeof TimetableSchema>;

export interface ServerInfo {
  readonly protocolId: string;
  readonly protocolVersion: string;
  /** The server's local wall time, `yyyy-MM-ddTHH:mm:ss`. */
  readonly dateTime: string;
  readonly defaultLanguage: string;
}

/** The canonical date-granular period covering the local dates `first`..`last` (`yyyy-MM-dd`). */
export function periodForDates(first: string, last: string): Period {
  return PeriodSchema.parse({ startDate: `${first}T00:00:00`, endDate: `${last}T24:00:00` });
}

/** Every day type ticked or not. */
export function allDays(ticked: boolean): DayTypes {
  return Object.fromEntries(DAY_TYPES.map((d) => [d, ticked])) as DayTypes;
}

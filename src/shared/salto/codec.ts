/**
 * SHIP messages <-> entities. Requests are built as element trees (escaping is total); replies are parsed,
 * checked against the request, and each entity validated with zod. Anything unexpected in a reply becomes
 * SaltoError 'malformed'; a SHIP Exception becomes SaltoError 'ship'.
 */
import { z } from 'zod';
import { SaltoError } from './errors.ts';
import {
  type AccessLevel,
  DAY_TYPE_ELEMENTS,
  DAY_TYPES,
  ExtIdSchema,
  PeriodSchema,
  ShipDateTimeSchema,
  ShipTextSchema,
  type Timetable,
  type TimetableInterval,
  TimetableIntervalSchema,
  type Zone,
  type ZonePermission,
} from './model.ts';
import {
  branch,
  childOf,
  childrenOf,
  childText,
  leaf,
  parseDocument,
  serializeDocument,
  type XmlElement,
  XmlError,
} from './xml.ts';

export const PERMISSION_LIST = 'SaltoDB.AccessPermissionList.Group_Zone';
export const PERMISSION = 'SaltoDB.AccessPermission.Group_Zone';

export function buildRequest(requestName: string, params: readonly (XmlElement | undefined)[]): string {
  return serializeDocument(branch('RequestCall', [leaf('RequestName', requestName), branch('Params', params)]));
}

const ExceptionCode = z.coerce.number().int().min(0);

/**
 * Parses a reply and returns its Params (an empty element when the reply has none). Throws SaltoError.
 */
export function readReply(xml: string, requestName: string): XmlElement {
  let root: XmlElement;
  try {
    root = parseDocument(xml);
  } catch (error) {
    throw SaltoError.malformed(
      `reply to ${requestName} is not well-formed XML: ${(error as Error).message}`,
      error,
      requestName,
    );
  }
  return within(requestName, () => {
    if (root.name !== 'RequestResponse')
      throw new XmlError(`root element is <${root.name}>, expected <RequestResponse>`);
    const echoed = childText(root, 'RequestName');
    if (echoed !== undefined && echoed.trim() !== requestName) {
      throw new XmlError(`reply names ${JSON.stringify(echoed)}, expected ${requestName}`);
    }
    const exception = childOf(root, 'Exception');
    if (exception) {
      const code = ExceptionCode.safeParse((childText(exception, 'Code') ?? '').trim());
      if (!code.success || (childText(exception, 'Code') ?? '').trim() === '')
        throw new XmlError('Exception without a numeric Code');
      throw SaltoError.ship(code.data, (childText(exception, 'Message') ?? '').trim() || '(no message)', requestName);
    }
    return childOf(root, 'Params') ?? { name: 'Params', children: [] };
  });
}

/** Runs a decoding step, turning XmlError / zod errors into SaltoError 'malformed'. */
export function within<T>(requestName: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof SaltoError) throw error;
    if (error instanceof XmlError || error instanceof z.ZodError) {
      const detail = error instanceof z.ZodError ? z.prettifyError(error) : error.message;
      throw SaltoError.malformed(`unexpected reply to ${requestName}: ${detail}`, error, requestName);
    }
    throw SaltoError.malformed(`unexpected reply to ${requestName}: ${String(error)}`, error, requestName);
  }
}

// ---------- scalar fields ----------

const Bool01 = z.enum(['0', '1']).transform((v) => v === '1');
const Text = z.string();
const UInt = z
  .string()
  .regex(/^\d{1,9}$/, 'expected a whole number')
  .transform(Number);

/** Trimmed text of a leaf child, for scalar fields (SALTO pads values with spaces). */
function scalar(element: XmlElement, name: string): string | undefined {
  return childText(element, name)?.trim();
}

function required<T>(schema: z.ZodType<T>, element: XmlElement, name: string): T {
  const value = scalar(element, name);
  if (value === undefined) throw new XmlError(`<${element.name}> lacks <${name}>`);
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new XmlError(`<${name}> ${JSON.stringify(value)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

function optional<T>(schema: z.ZodType<T>, element: XmlElement, name: string): T | undefined {
  return scalar(element, name) === undefined ? undefined : required(schema, element, name);
}

/** Free text (names): kept as written, only literal padding already trimmed by the parser. */
function optionalText(element: XmlElement, name: string): string | undefined {
  return childText(element, name);
}

// ---------- permissions ----------

// Real servers repeat the access level's ExtGroupID inside each of its zone permissions: redundant, so
// read past rather than kept as an unknown field.
const PERMISSION_FIELDS = new Set(['ExtGroupID', 'ExtZoneID', 'TimezoneTableID', 'UsePeriod', 'Period']);

export function encodePermission(permission: ZonePermission): XmlElement {
  return branch(PERMISSION, [
    leaf('ExtZoneID', permission.zoneId),
    leaf('TimezoneTableID', permission.timetableId),
    leaf('UsePeriod', permission.usePeriod),
    permission.period &&
      branch('Period', [leaf('StartDate', permission.period.startDate), leaf('EndDate', permission.period.endDate)]),
    ...(permission.extra ?? []),
  ]);
}

export function decodePermission(element: XmlElement): ZonePermission {
  const periodElement = childOf(element, 'Period');
  const period = periodElement
    ? PeriodSchema.parse({
        startDate: required(ShipDateTimeSchema, periodElement, 'StartDate'),
        endDate: required(ShipDateTimeSchema, periodElement, 'EndDate'),
      })
    : undefined;
  const usePeriod = required(Bool01, element, 'UsePeriod');
  if (usePeriod && !period)
    throw new XmlError(`permission for ${scalar(element, 'ExtZoneID')} has UsePeriod=1 and no Period`);
  const extra = (element.children ?? []).filter((c) => !PERMISSION_FIELDS.has(c.name));
  return {
    zoneId: required(ExtIdSchema, element, 'ExtZoneID'),
    timetableId: required(UInt, element, 'TimezoneTableID'),
    usePeriod,
    ...(period ? { period } : {}),
    ...(extra.length > 0 ? { extra } : {}),
  };
}

export function encodePermissionList(permissions: readonly ZonePermission[]): XmlElement {
  return branch(PERMISSION_LIST, permissions.map(encodePermission));
}

// ---------- access levels ----------

export function encodeAccessLevel(level: {
  id: string;
  name?: string | undefined;
  description?: string | undefined;
  zonePermissions?: readonly ZonePermission[] | undefined;
}): XmlElement {
  return branch('SaltoDBGroup', [
    leaf('ExtGroupID', level.id),
    level.name === undefined ? undefined : leaf('Name', level.name),
    level.description === undefined ? undefined : leaf('Description', level.description),
    level.zonePermissions && encodePermissionList(level.zonePermissions),
  ]);
}

export function decodeAccessLevel(element: XmlElement): AccessLevel {
  const list = childOf(element, PERMISSION_LIST);
  const name = optionalText(element, 'Name');
  const description = optionalText(element, 'Description');
  return {
    id: required(ExtIdSchema, element, 'ExtGroupID'),
    ...(name === undefined ? {} : { name }),
    ...(description === undefined ? {} : { description }),
    zonePermissions: list ? childrenOf(list, PERMISSION).map(decodePermission) : [],
  };
}

// ---------- zones ----------

export function encodeZone(zone: Zone): XmlElement {
  return branch('SaltoDBZone', [
    leaf('ExtZoneID', zone.id),
    zone.name === undefined ? undefined : leaf('Name', zone.name),
    zone.description === undefined ? undefined : leaf('Description', zone.description),
  ]);
}

export function decodeZone(element: XmlElement): Zone {
  const name = optionalText(element, 'Name');
  const description = optionalText(element, 'Description');
  return {
    id: required(ExtIdSchema, element, 'ExtZoneID'),
    ...(name === undefined ? {} : { name: ShipTextSchema.parse(name) }),
    ...(description === undefined ? {} : { description }),
  };
}

// ---------- timetables ----------

function encodeInterval(interval: TimetableInterval, index: number): XmlElement {
  return branch('SaltoDBTimezone', [
    leaf('TimezoneID', index + 1),
    leaf('StartTime', interval.start),
    leaf('EndTime', interval.end),
    ...DAY_TYPES.map((day) => leaf(DAY_TYPE_ELEMENTS[day], interval.days[day])),
  ]);
}

export function encodeTimetable(timetable: Timetable): XmlElement {
  return branch('SaltoDBTimezoneTable', [
    leaf('TimezoneTableID', timetable.id),
    leaf('Name', timetable.name),
    branch('SaltoDBTimezoneList', timetable.intervals.map(encodeInterval)),
  ]);
}

export function decodeTimetable(element: XmlElement): Timetable {
  const list = childOf(element, 'SaltoDBTimezoneList');
  const intervals = (list ? childrenOf(list, 'SaltoDBTimezone') : [])
    .map((zone) => ({
      order: optional(UInt, zone, 'TimezoneID') ?? 0,
      interval: TimetableIntervalSchema.parse({
        start: required(Text, zone, 'StartTime'),
        end: required(Text, zone, 'EndTime'),
        // A day type SALTO leaves out is not ticked.
        days: Object.fromEntries(
          DAY_TYPES.map((day) => [day, optional(Bool01, zone, DAY_TYPE_ELEMENTS[day]) ?? false]),
        ),
      }),
    }))
    .sort((a, b) => a.order - b.order)
    .map((entry) => entry.interval);
  return {
    id: required(UInt, element, 'TimezoneTableID'),
    name: optionalText(element, 'Name') ?? '',
    intervals,
  };
}

// ---------- paging ----------

/** The entities of one list page and whether it says it is the last (undefined when EOF is absent). */
export function readPage(
  params: XmlElement,
  listName: string,
  entityName: string,
): { entities: XmlElement[]; eof: boolean | undefined } {
  const list = childOf(params, listName);
  const eof = optional(Bool01, params, 'EOF');
  return { entities: list ? childrenOf(list, entityName) : [], eof };
}

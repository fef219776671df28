/**
 * The SHIP operations the simulator implements, with the semantics of docs/salto-ship.md (every inferred
 * point is listed in README.md). Each handler validates the whole request before changing anything, so
 * a refused request leaves the site exactly as it was.
 */
import { DAY_TYPE_ELEMENTS, DAY_TYPES } from '../shared/salto/model.ts';
import { branch, childOf, childrenOf, leaf, type XmlElement } from '../shared/salto/xml.ts';
import { formatLocalDateTime, localDateTimeAt } from '../shared/time/local-time.ts';
import {
  boolean01,
  dateTime,
  expectOnly,
  extId,
  integer,
  requiredScalar,
  ShipException,
  scalar,
  text,
  timeOfDay,
} from './ship-protocol.ts';
import type { SimAccessLevel, SimInterval, SimPermission, SimTimetable, SiteState } from './state.ts';

/** The behaviours docs/salto-ship.md leaves open, chosen here (see README.md). */
export interface ShipRules {
  /** Largest page a list read returns; a larger MaxCount is clamped. */
  maxPageSize: number;
  /** Page size when MaxCount is absent. */
  defaultPageSize: number;
  /** Code for a zone list naming a zone twice. */
  duplicateZoneCode: number;
  /** Timetable slots are 1..poolSize. */
  timetablePoolSize: number;
  /** Intervals one timetable may hold (code 7 beyond). */
  maxIntervalsPerTimetable: number;
  /** Whether StartingFrom<Key> includes the entity with that key. */
  startingFromInclusive: boolean;
  /** 'keep': unknown children of a zone permission are stored and echoed; 'reject': code 501. */
  unknownPermissionFields: 'keep' | 'reject';
  /** Pad reply values with spaces (`<Code> 11 </Code>`), as some SALTO versions do. */
  padValues: boolean;
  ProtocolVersion: string;
  DefaultLanguage: string;
}

export const DEFAULT_RULES: ShipRules = {
  maxPageSize: 1000,
  defaultPageSize: 100,
  duplicateZoneCode: 7,
  timetablePoolSize: 255,
  maxIntervalsPerTimetable: 8,
  startingFromInclusive: true,
  unknownPermissionFields: 'keep',
  padValues: false,
  ProtocolVersion: '1.0',
  DefaultLanguage: 'en-GB',
};

export interface OperationContext {
  readonly site: SiteState;
  readonly rules: ShipRules;
  readonly now: () => Date;
}

type Handler = (params: XmlElement, context: OperationContext) => (XmlElement | undefined)[];

const PERMISSION_LIST = 'SaltoDB.AccessPermissionList.Group_Zone';
const PERMISSION = 'SaltoDB.AccessPermission.Group_Zone';

// ---------- paging ----------

function page<T>(
  params: XmlElement,
  context: OperationContext,
  startingFromName: string,
  all: T[],
  keyOf: (entity: T) => string | number,
  numericKey = false,
): { entities: T[]; eof: boolean } {
  const maxCountText = scalar(params, 'MaxCount');
  let maxCount = context.rules.defaultPageSize;
  if (maxCountText !== undefined) {
    maxCount = integer(maxCountText, 'MaxCount');
    if (maxCount < 1) throw new ShipException(12, 'MaxCount must be at least 1');
  }
  maxCount = Math.min(maxCount, context.rules.maxPageSize);
  const from = scalar(params, startingFromName);
  let rest = all;
  if (from !== undefined && from !== '') {
    const start: string | number = numericKey ? integer(from, startingFromName) : from;
    rest = all.filter((entity) => {
      const key = keyOf(entity);
      return context.rules.startingFromInclusive ? key >= start : key > start;
    });
  }
  return { entities: rest.slice(0, maxCount), eof: rest.length <= maxCount };
}

/** Keys in ordinal (code unit) order: the simulator's listing order. */
const byKey = <T extends { id: string | number }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// ---------- encoding ----------

function encodePermission(p: SimPermission): XmlElement {
  return branch(PERMISSION, [
    leaf('ExtZoneID', p.zoneId),
    leaf('TimezoneTableID', p.timetableId),
    leaf('UsePeriod', p.usePeriod),
    p.startDate !== undefined && p.endDate !== undefined
      ? branch('Period', [leaf('StartDate', p.startDate), leaf('EndDate', p.endDate)])
      : undefined,
    ...p.extra,
  ]);
}

function encodeGroup(level: SimAccessLevel, withPermissions: boolean): XmlElement {
  return branch('SaltoDBGroup', [
    leaf('ExtGroupID', level.id),
    leaf('Name', level.name),
    leaf('Description', level.description),
    withPermissions ? branch(PERMISSION_LIST, level.permissions.map(encodePermission)) : undefined,
  ]);
}

function encodeTimetable(t: SimTimetable): XmlElement {
  return branch('SaltoDBTimezoneTable', [
    leaf('TimezoneTableID', t.id),
    leaf('Name', t.name),
    branch(
      'SaltoDBTimezoneList',
      t.intervals.map((interval, index) =>
        branch('SaltoDBTimezone', [
          leaf('TimezoneID', index + 1),
          leaf('StartTime', interval.start),
          leaf('EndTime', interval.end),
          ...DAY_TYPES.map((day) => leaf(DAY_TYPE_ELEMENTS[day], interval.days[day])),
        ]),
      ),
    ),
  ]);
}

// ---------- decoding ----------

function decodePermissions(list: XmlElement, context: OperationContext): SimPermission[] {
  const permissions: SimPermission[] = [];
  const seen = new Set<string>();
  for (const element of list.children ?? []) {
    if (element.name !== PERMISSION)
      throw new ShipException(501, `Unexpected node <${element.name}> in <${PERMISSION_LIST}>`);
    const known = ['ExtZoneID', 'TimezoneTableID', 'UsePeriod', 'Period'];
    const extra = (element.children ?? []).filter((c) => !known.includes(c.name));
    if (extra.length > 0 && context.rules.unknownPermissionFields === 'reject') {
      throw new ShipException(501, `Unexpected node <${extra[0]!.name}> in <${PERMISSION}>`);
    }
    const zoneId = extId(element, 'ExtZoneID');
    if (!context.site.zones.has(zoneId)) throw new ShipException(11, `Zone ${zoneId} not found`);
    if (seen.has(zoneId)) {
      throw new ShipException(
        context.rules.duplicateZoneCode,
        `Zone ${zoneId} appears more than once in the access level's zone list`,
      );
    }
    seen.add(zoneId);
    const timetableText = scalar(element, 'TimezoneTableID');
    const timetableId =
      timetableText === undefined || timetableText === '' ? 0 : integer(timetableText, 'TimezoneTableID');
    if (timetableId !== 0 && !context.site.timetables.has(timetableId)) {
      throw new ShipException(11, `Timetable ${timetableId} not found`);
    }
    const usePeriodText = scalar(element, 'UsePeriod');
    const usePeriod =
      usePeriodText === undefined || usePeriodText === '' ? false : boolean01(usePeriodText, 'UsePeriod');
    const periodElement = childOf(element, 'Period');
    let startDate: string | undefined;
    let endDate: string | undefined;
    if (periodElement) {
      expectOnly(periodElement, ['StartDate', 'EndDate']);
      startDate = dateTime(requiredScalar(periodElement, 'StartDate'), 'StartDate');
      endDate = dateTime(requiredScalar(periodElement, 'EndDate'), 'EndDate');
      if (endDate.slice(0, 10) < startDate.slice(0, 10)) throw new ShipException(12, 'Period ends before it starts');
    } else if (usePeriod) {
      throw new ShipException(12, `Missing mandatory field Period for zone ${zoneId}`);
    }
    permissions.push({
      zoneId,
      timetableId,
      usePeriod,
      ...(startDate !== undefined && endDate !== undefined ? { startDate, endDate } : {}),
      extra: [...extra],
    });
  }
  return permissions;
}

function decodeGroup(params: XmlElement, context: OperationContext) {
  const group = childOf(params, 'SaltoDBGroup');
  if (!group) throw new ShipException(12, 'Missing mandatory field SaltoDBGroup');
  expectOnly(params, ['SaltoDBGroup']);
  expectOnly(group, ['ExtGroupID', 'Name', 'Description', PERMISSION_LIST]);
  const list = childOf(group, PERMISSION_LIST);
  return {
    id: extId(group, 'ExtGroupID'),
    name: text(group, 'Name'),
    description: text(group, 'Description'),
    // Present list replaces, absent list keeps.
    permissions: list ? decodePermissions(list, context) : undefined,
  };
}

function decodeInterval(element: XmlElement): SimInterval {
  expectOnly(element, ['TimezoneID', 'StartTime', 'EndTime', ...DAY_TYPES.map((d) => DAY_TYPE_ELEMENTS[d])]);
  const start = timeOfDay(requiredScalar(element, 'StartTime'), 'StartTime');
  const end = timeOfDay(requiredScalar(element, 'EndTime'), 'EndTime');
  if (start === '24:00:00' || end <= start)
    throw new ShipException(12, `Interval ${start}-${end} must end after it starts`);
  const days = Object.fromEntries(
    DAY_TYPES.map((day) => {
      const value = scalar(element, DAY_TYPE_ELEMENTS[day]);
      return [day, value === undefined || value === '' ? false : boolean01(value, DAY_TYPE_ELEMENTS[day])];
    }),
  ) as SimInterval['days'];
  return { start, end, days };
}

// ---------- handlers ----------

const handlers: Record<string, Handler> = {
  GetInfo(params, context) {
    expectOnly(params, []);
    return [
      leaf('ProtocolID', 'SHIP'),
      leaf('ProtocolVersion', context.rules.ProtocolVersion),
      leaf('DateTime', formatLocalDateTime(localDateTimeAt(context.now(), context.site.timeZone))),
      leaf('DefaultLanguage', context.rules.DefaultLanguage),
    ];
  },

  'SaltoDBZoneList.Read'(params, context) {
    expectOnly(params, ['MaxCount', 'StartingFromExtZoneID']);
    const zones = [...context.site.zones.values()].sort(byKey);
    const { entities, eof } = page(params, context, 'StartingFromExtZoneID', zones, (z) => z.id);
    return [
      branch(
        'SaltoDBZoneList',
        entities.map((z) =>
          branch('SaltoDBZone', [leaf('ExtZoneID', z.id), leaf('Name', z.name), leaf('Description', z.description)]),
        ),
      ),
      leaf('EOF', eof),
    ];
  },

  'SaltoDBZone.InsertOrUpdate'(params, context) {
    expectOnly(params, ['SaltoDBZone']);
    const zone = childOf(params, 'SaltoDBZone');
    if (!zone) throw new ShipException(12, 'Missing mandatory field SaltoDBZone');
    expectOnly(zone, ['ExtZoneID', 'Name', 'Description']);
    const id = extId(zone, 'ExtZoneID');
    const existing = context.site.zones.get(id);
    context.site.zones.set(id, {
      id,
      name: text(zone, 'Name') ?? existing?.name ?? '',
      description: text(zone, 'Description') ?? existing?.description ?? '',
    });
    return [leaf('ExtZoneID', id)];
  },

  'SaltoDBZone.Delete'(params, context) {
    expectOnly(params, ['ExtZoneID']);
    const id = extId(params, 'ExtZoneID');
    if (!context.site.zones.delete(id)) throw new ShipException(11, `Zone ${id} not found`);
    // The zone's permissions and door memberships go with it.
    for (const level of context.site.accessLevels.values())
      level.permissions = level.permissions.filter((p) => p.zoneId !== id);
    for (const door of context.site.doors.values()) door.zoneIds = door.zoneIds.filter((z) => z !== id);
    return [leaf('ExtZoneID', id)];
  },

  'SaltoDBGroupList.Read'(params, context) {
    expectOnly(params, ['MaxCount', 'StartingFromExtGroupID', 'ReturnAccessPermissions_Group_Zone']);
    const flag = scalar(params, 'ReturnAccessPermissions_Group_Zone');
    const withPermissions =
      flag === undefined || flag === '' ? false : boolean01(flag, 'ReturnAccessPermissions_Group_Zone');
    const levels = [...context.site.accessLevels.values()].sort(byKey);
    const { entities, eof } = page(params, context, 'StartingFromExtGroupID', levels, (l) => l.id);
    return [
      branch(
        'SaltoDBGroupList',
        entities.map((l) => encodeGroup(l, withPermissions)),
      ),
      leaf('EOF', eof),
    ];
  },

  'SaltoDBGroup.Insert'(params, context) {
    const group = decodeGroup(params, context);
    if (context.site.accessLevels.has(group.id)) throw new ShipException(10, `Access level ${group.id} already exists`);
    context.site.accessLevels.set(group.id, {
      id: group.id,
      name: group.name ?? '',
      description: group.description ?? '',
      permissions: group.permissions ?? [],
    });
    return [leaf('ExtGroupID', group.id)];
  },

  'SaltoDBGroup.Update'(params, context) {
    const group = decodeGroup(params, context);
    const level = context.site.accessLevels.get(group.id);
    if (!level) throw new ShipException(11, `Access level ${group.id} not found`);
    if (group.name !== undefined) level.name = group.name;
    if (group.description !== undefined) level.description = group.description;
    if (group.permissions !== undefined) level.permissions = group.permissions;
    return [leaf('ExtGroupID', group.id)];
  },

  'SaltoDBGroup.Delete'(params, context) {
    expectOnly(params, ['ExtGroupID']);
    const id = extId(params, 'ExtGroupID');
    if (!context.site.accessLevels.delete(id)) throw new ShipException(11, `Access level ${id} not found`);
    return [leaf('ExtGroupID', id)];
  },

  'SaltoDBTimezoneTableList.Read'(params, context) {
    expectOnly(params, ['MaxCount', 'StartingFromTimezoneTableID']);
    const tables = [...context.site.timetables.values()].sort(byKey);
    const { entities, eof } = page(params, context, 'StartingFromTimezoneTableID', tables, (t) => t.id, true);
    return [branch('SaltoDBTimezoneTableList', entities.map(encodeTimetable)), leaf('EOF', eof)];
  },

  'SaltoDBTimezoneTable.Update'(params, context) {
    expectOnly(params, ['SaltoDBTimezoneTable']);
    const table = childOf(params, 'SaltoDBTimezoneTable');
    if (!table) throw new ShipException(12, 'Missing mandatory field SaltoDBTimezoneTable');
    expectOnly(table, ['TimezoneTableID', 'Name', 'SaltoDBTimezoneList']);
    const id = integer(requiredScalar(table, 'TimezoneTableID'), 'TimezoneTableID');
    const slot = context.site.timetables.get(id);
    if (!slot)
      throw new ShipException(11, `Timetable ${id} not found (the pool is 1..${context.rules.timetablePoolSize})`);
    const list = childOf(table, 'SaltoDBTimezoneList');
    let intervals: SimInterval[] | undefined;
    if (list) {
      for (const child of list.children ?? []) {
        if (child.name !== 'SaltoDBTimezone')
          throw new ShipException(501, `Unexpected node <${child.name}> in <SaltoDBTimezoneList>`);
      }
      intervals = childrenOf(list, 'SaltoDBTimezone').map(decodeInterval);
      if (intervals.length > context.rules.maxIntervalsPerTimetable) {
        throw new ShipException(7, `A timetable holds at most ${context.rules.maxIntervalsPerTimetable} intervals`);
      }
    }
    const name = text(table, 'Name');
    if (name !== undefined) slot.name = name;
    if (intervals !== undefined) slot.intervals = intervals;
    return [leaf('TimezoneTableID', id)];
  },
};

export const SUPPORTED_REQUESTS = Object.keys(handlers);

/** Runs one request against the site. Throws ShipException for every refusal. */
export function runOperation(
  requestName: string,
  params: XmlElement,
  context: OperationContext,
): (XmlElement | undefined)[] {
  const handler = Object.hasOwn(handlers, requestName) ? handlers[requestName] : undefined;
  if (!handler) throw new ShipException(502, `Unknown request ${requestName}`);
  return handler(params, context);
}

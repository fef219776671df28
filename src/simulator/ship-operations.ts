/**
 * The SHIP operations the simulator implements, with the semantics of docs/salto-ship.md (every inferred
 * point is listed in README.md). Each handler validates the whole request before changing anything, so
 * a refused request leaves the site exactly as it was.
 */
import type { SpecialDayType } from '../shared/access/timetable.ts';
import { decodeMonth, encodeMonth } from '../shared/salto/calendar.ts';
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
import type {
  SimAccessLevel,
  SimCalendar,
  SimDoorPermission,
  SimInterval,
  SimPermission,
  SimTimetable,
  SimZone,
  SiteState,
  SpecialDay,
} from './state.ts';

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
  /**
   * 'real': replies as captured from real servers (single-quoted declaration, indented, CRLF,
   * self-closed empty elements), and reads return the fields real entities carry (a zone permission's
   * ExtGroupID, an access level's door permissions and users, an interval's TimezoneTableID).
   * 'compact': one line, the fields this project uses.
   */
  replyShape: 'real' | 'compact';
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
  replyShape: 'real',
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
const DOOR_PERMISSION_LIST = 'SaltoDB.AccessPermissionList.Group_Door';
const DOOR_PERMISSION = 'SaltoDB.AccessPermission.Group_Door';
const USER_LIST = 'SaltoDB.MembershipList.User_Group';
const USER_MEMBER = 'SaltoDB.Membership.User_Group';
const DOOR_ZONE_LIST = 'SaltoDB.MembershipList.Door_Zone';
const DOOR_ZONE = 'SaltoDB.Membership.Door_Zone';
const ZONE_FLAGS = ['IsLow', 'IsFreeAssignment', 'FreeAssignmentGroup'] as const;

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

function encodePeriod(p: { startDate?: string; endDate?: string }): XmlElement | undefined {
  return p.startDate !== undefined && p.endDate !== undefined
    ? branch('Period', [leaf('StartDate', p.startDate), leaf('EndDate', p.endDate)])
    : undefined;
}

function encodePermission(p: SimPermission, groupId: string | undefined): XmlElement {
  return branch(PERMISSION, [
    groupId === undefined ? undefined : leaf('ExtGroupID', groupId),
    leaf('ExtZoneID', p.zoneId),
    leaf('TimezoneTableID', p.timetableId),
    leaf('UsePeriod', p.usePeriod),
    p.startDate !== undefined && p.endDate !== undefined
      ? branch('Period', [leaf('StartDate', p.startDate), leaf('EndDate', p.endDate)])
      : undefined,
    ...p.extra,
  ]);
}

function encodeDoorPermission(p: SimDoorPermission, groupId: string): XmlElement {
  return branch(DOOR_PERMISSION, [
    leaf('ExtGroupID', groupId),
    leaf('ExtDoorID', p.doorId),
    leaf('TimezoneTableID', p.timetableId),
    leaf('UsePeriod', p.usePeriod),
    encodePeriod(p),
  ]);
}

function encodeGroup(
  level: SimAccessLevel,
  lists: { zones: boolean; doors: boolean; users: boolean },
  real: boolean,
): XmlElement {
  const groupId = real ? level.id : undefined;
  return branch('SaltoDBGroup', [
    leaf('ExtGroupID', level.id),
    leaf('Name', level.name),
    leaf('Description', level.description),
    lists.zones
      ? branch(
          PERMISSION_LIST,
          level.permissions.map((p) => encodePermission(p, groupId)),
        )
      : undefined,
    lists.doors
      ? branch(
          DOOR_PERMISSION_LIST,
          (level.doorPermissions ?? []).map((p) => encodeDoorPermission(p, level.id)),
        )
      : undefined,
    lists.users
      ? branch(
          USER_LIST,
          (level.users ?? []).map((user) =>
            branch(USER_MEMBER, [leaf('ExtUserID', user), leaf('ExtGroupID', level.id)]),
          ),
        )
      : undefined,
  ]);
}

function encodeZone(zone: SimZone, site: SiteState): XmlElement {
  const doors = [...site.doors.values()].filter((d) => d.zoneIds.includes(zone.id)).sort(byKey);
  return branch('SaltoDBZone', [
    leaf('ExtZoneID', zone.id),
    leaf('Name', zone.name),
    leaf('Description', zone.description),
    leaf('IsLow', zone.isLow ?? false),
    leaf('IsFreeAssignment', zone.isFreeAssignment ?? false),
    leaf('FreeAssignmentGroup', zone.freeAssignmentGroup ?? 1),
    branch(
      DOOR_ZONE_LIST,
      doors.map((door) => branch(DOOR_ZONE, [leaf('ExtDoorID', door.id), leaf('ExtZoneID', zone.id)])),
    ),
  ]);
}

function encodeTimetable(t: SimTimetable, real: boolean): XmlElement {
  return branch('SaltoDBTimezoneTable', [
    leaf('TimezoneTableID', t.id),
    leaf('Name', t.name),
    branch(
      'SaltoDBTimezoneList',
      t.intervals.map((interval, index) =>
        branch('SaltoDBTimezone', [
          leaf('TimezoneID', index + 1),
          real ? leaf('TimezoneTableID', t.id) : undefined,
          leaf('StartTime', interval.start),
          leaf('EndTime', interval.end),
          ...DAY_TYPES.map((day) => leaf(DAY_TYPE_ELEMENTS[day], interval.days[day])),
        ]),
      ),
    ),
  ]);
}

// ---------- decoding ----------

function decodePeriod(element: XmlElement, usePeriod: boolean, what: string) {
  const periodElement = childOf(element, 'Period');
  if (!periodElement) {
    if (usePeriod) throw new ShipException(12, `Missing mandatory field Period for ${what}`);
    return {};
  }
  expectOnly(periodElement, ['StartDate', 'EndDate']);
  const startDate = dateTime(requiredScalar(periodElement, 'StartDate'), 'StartDate');
  const endDate = dateTime(requiredScalar(periodElement, 'EndDate'), 'EndDate');
  if (endDate.slice(0, 10) < startDate.slice(0, 10)) throw new ShipException(12, 'Period ends before it starts');
  return { startDate, endDate };
}

/** An optional ExtGroupID inside a permission or membership must name the access level it is in. */
function sameGroup(element: XmlElement, groupId: string): void {
  const echoed = scalar(element, 'ExtGroupID');
  if (echoed !== undefined && echoed !== '' && echoed !== groupId)
    throw new ShipException(12, `<${element.name}> names access level ${echoed} inside ${groupId}`);
}

function decodeDoorPermissions(list: XmlElement, groupId: string, context: OperationContext): SimDoorPermission[] {
  const seen = new Set<string>();
  return (list.children ?? []).map((element) => {
    if (element.name !== DOOR_PERMISSION)
      throw new ShipException(501, `Unexpected node <${element.name}> in <${DOOR_PERMISSION_LIST}>`);
    expectOnly(element, ['ExtGroupID', 'ExtDoorID', 'TimezoneTableID', 'UsePeriod', 'Period']);
    sameGroup(element, groupId);
    const doorId = extId(element, 'ExtDoorID');
    if (!context.site.doors.has(doorId)) throw new ShipException(11, `Door ${doorId} not found`);
    if (seen.has(doorId)) throw new ShipException(context.rules.duplicateZoneCode, `Door ${doorId} appears twice`);
    seen.add(doorId);
    const timetableText = scalar(element, 'TimezoneTableID');
    const timetableId =
      timetableText === undefined || timetableText === '' ? 0 : integer(timetableText, 'TimezoneTableID');
    if (timetableId !== 0 && !context.site.timetables.has(timetableId))
      throw new ShipException(11, `Timetable ${timetableId} not found`);
    const usePeriodText = scalar(element, 'UsePeriod');
    const usePeriod =
      usePeriodText === undefined || usePeriodText === '' ? false : boolean01(usePeriodText, 'UsePeriod');
    return { doorId, timetableId, usePeriod, ...decodePeriod(element, usePeriod, `door ${doorId}`) };
  });
}

function decodeUsers(list: XmlElement, groupId: string): string[] {
  const users = new Set<string>();
  for (const element of list.children ?? []) {
    if (element.name !== USER_MEMBER)
      throw new ShipException(501, `Unexpected node <${element.name}> in <${USER_LIST}>`);
    expectOnly(element, ['ExtUserID', 'ExtGroupID']);
    sameGroup(element, groupId);
    users.add(extId(element, 'ExtUserID'));
  }
  return [...users].sort();
}

function decodePermissions(list: XmlElement, groupId: string, context: OperationContext): SimPermission[] {
  const permissions: SimPermission[] = [];
  const seen = new Set<string>();
  for (const element of list.children ?? []) {
    if (element.name !== PERMISSION)
      throw new ShipException(501, `Unexpected node <${element.name}> in <${PERMISSION_LIST}>`);
    const known = ['ExtGroupID', 'ExtZoneID', 'TimezoneTableID', 'UsePeriod', 'Period'];
    const extra = (element.children ?? []).filter((c) => !known.includes(c.name));
    if (extra.length > 0 && context.rules.unknownPermissionFields === 'reject') {
      throw new ShipException(501, `Unexpected node <${extra[0]!.name}> in <${PERMISSION}>`);
    }
    sameGroup(element, groupId);
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
  expectOnly(group, ['ExtGroupID', 'Name', 'Description', PERMISSION_LIST, DOOR_PERMISSION_LIST, USER_LIST]);
  const id = extId(group, 'ExtGroupID');
  const list = childOf(group, PERMISSION_LIST);
  const doorList = childOf(group, DOOR_PERMISSION_LIST);
  const userList = childOf(group, USER_LIST);
  return {
    id,
    name: text(group, 'Name'),
    description: text(group, 'Description'),
    // Present list replaces, absent list keeps (each of the three lists).
    permissions: list ? decodePermissions(list, id, context) : undefined,
    doorPermissions: doorList ? decodeDoorPermissions(doorList, id, context) : undefined,
    users: userList ? decodeUsers(userList, id) : undefined,
  };
}

function decodeInterval(element: XmlElement, tableId: number): SimInterval {
  expectOnly(element, [
    'TimezoneID',
    'TimezoneTableID',
    'StartTime',
    'EndTime',
    ...DAY_TYPES.map((d) => DAY_TYPE_ELEMENTS[d]),
  ]);
  const repeated = scalar(element, 'TimezoneTableID');
  if (repeated !== undefined && repeated !== '' && integer(repeated, 'TimezoneTableID') !== tableId)
    throw new ShipException(12, `An interval of timetable ${tableId} names timetable ${repeated}`);
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
        entities.map((z) => encodeZone(z, context.site)),
      ),
      leaf('EOF', eof),
    ];
  },

  'SaltoDBZone.InsertOrUpdate'(params, context) {
    expectOnly(params, ['SaltoDBZone']);
    const zone = childOf(params, 'SaltoDBZone');
    if (!zone) throw new ShipException(12, 'Missing mandatory field SaltoDBZone');
    expectOnly(zone, ['ExtZoneID', 'Name', 'Description', ...ZONE_FLAGS, DOOR_ZONE_LIST]);
    const id = extId(zone, 'ExtZoneID');
    const existing = context.site.zones.get(id);
    const flag = (name: string) => {
      const value = scalar(zone, name);
      return value === undefined || value === '' ? undefined : boolean01(value, name);
    };
    const groupText = scalar(zone, 'FreeAssignmentGroup');
    const freeAssignmentGroup =
      groupText === undefined || groupText === '' ? undefined : integer(groupText, 'FreeAssignmentGroup');
    // Door memberships: a present list replaces the zone's doors, an absent one keeps them.
    const doorList = childOf(zone, DOOR_ZONE_LIST);
    let doorIds: Set<string> | undefined;
    if (doorList) {
      doorIds = new Set();
      for (const member of doorList.children ?? []) {
        if (member.name !== DOOR_ZONE)
          throw new ShipException(501, `Unexpected node <${member.name}> in <${DOOR_ZONE_LIST}>`);
        expectOnly(member, ['ExtDoorID', 'ExtZoneID']);
        const doorId = extId(member, 'ExtDoorID');
        const zoneId = scalar(member, 'ExtZoneID');
        if (zoneId !== undefined && zoneId !== '' && zoneId !== id)
          throw new ShipException(12, `<${DOOR_ZONE}> names zone ${zoneId} inside ${id}`);
        if (!context.site.doors.has(doorId)) throw new ShipException(11, `Door ${doorId} not found`);
        doorIds.add(doorId);
      }
    }
    context.site.zones.set(id, {
      id,
      name: text(zone, 'Name') ?? existing?.name ?? '',
      description: text(zone, 'Description') ?? existing?.description ?? '',
      isLow: flag('IsLow') ?? existing?.isLow ?? false,
      isFreeAssignment: flag('IsFreeAssignment') ?? existing?.isFreeAssignment ?? false,
      freeAssignmentGroup: freeAssignmentGroup ?? existing?.freeAssignmentGroup ?? 1,
    });
    if (doorIds) {
      for (const door of context.site.doors.values()) {
        const member = door.zoneIds.includes(id);
        if (member && !doorIds.has(door.id)) door.zoneIds = door.zoneIds.filter((z) => z !== id);
        if (!member && doorIds.has(door.id)) door.zoneIds = [...door.zoneIds, id];
      }
    }
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
    const flags = [
      'ReturnAccessPermissions_Group_Zone',
      'ReturnAccessPermissions_Group_Door',
      'ReturnMembership_User_Group',
    ] as const;
    expectOnly(params, ['MaxCount', 'StartingFromExtGroupID', ...flags]);
    const [zones, doors, users] = flags.map((name) => {
      const value = scalar(params, name);
      return value === undefined || value === '' ? false : boolean01(value, name);
    }) as [boolean, boolean, boolean];
    // A real server's group carries its door permissions and users beside its zones (README).
    const real = context.rules.replyShape === 'real';
    const lists = { zones, doors: doors || (real && zones), users: users || (real && zones) };
    const levels = [...context.site.accessLevels.values()].sort(byKey);
    const { entities, eof } = page(params, context, 'StartingFromExtGroupID', levels, (l) => l.id);
    return [
      branch(
        'SaltoDBGroupList',
        entities.map((l) => encodeGroup(l, lists, real)),
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
      doorPermissions: group.doorPermissions ?? [],
      users: group.users ?? [],
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
    if (group.doorPermissions !== undefined) level.doorPermissions = group.doorPermissions;
    if (group.users !== undefined) level.users = group.users;
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
    const real = context.rules.replyShape === 'real';
    return [
      branch(
        'SaltoDBTimezoneTableList',
        entities.map((t) => encodeTimetable(t, real)),
      ),
      leaf('EOF', eof),
    ];
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
      intervals = childrenOf(list, 'SaltoDBTimezone').map((element) => decodeInterval(element, id));
      if (intervals.length > context.rules.maxIntervalsPerTimetable) {
        throw new ShipException(7, `A timetable holds at most ${context.rules.maxIntervalsPerTimetable} intervals`);
      }
    }
    const name = text(table, 'Name');
    if (name !== undefined) slot.name = name;
    if (intervals !== undefined) slot.intervals = intervals;
    return [leaf('TimezoneTableID', id)];
  },

  'SaltoDBCalendarList.Read'(params, context) {
    expectOnly(params, ['MaxCount', 'StartingFromCalendarID']);
    const calendars = [...context.site.calendars.values()].sort(byKey);
    const { entities, eof } = page(params, context, 'StartingFromCalendarID', calendars, (c) => c.id, true);
    return [
      branch(
        'SaltoDBCalendarList',
        entities.map((c) =>
          branch('SaltoDBCalendar', [
            leaf('CalendarID', c.id),
            leaf('Name', c.name),
            leaf('Description', c.description),
          ]),
        ),
      ),
      leaf('EOF', eof),
    ];
  },

  'SaltoDBYearCalendar.Read'(params, context) {
    expectOnly(params, ['CalendarID', 'Year']);
    const calendar = calendarOf(params, context);
    const year = yearOf(params);
    return [
      branch('SaltoDBYearCalendar', [
        leaf('CalendarID', calendar.id),
        leaf('Year', year),
        ...MONTHS.map((month) =>
          leaf(
            `Month${month}`,
            encodeMonth(year, month, (date) => SHIP_DAY_TYPE[calendar.marks.get(date) ?? 'none']),
          ),
        ),
      ]),
    ];
  },

  'SaltoDBYearCalendar.Update'(params, context) {
    expectOnly(params, ['SaltoDBYearCalendar']);
    const element = childOf(params, 'SaltoDBYearCalendar');
    if (!element) throw new ShipException(12, 'Missing mandatory field SaltoDBYearCalendar');
    expectOnly(element, ['CalendarID', 'Year', ...MONTHS.map((m) => `Month${m}`)]);
    const calendar = calendarOf(element, context);
    const year = yearOf(element);
    // Validate every month before changing any; an absent month keeps its dates.
    const months = MONTHS.flatMap((month) => {
      const value = scalar(element, `Month${month}`);
      if (value === undefined) return [];
      try {
        return [{ month, marks: decodeMonth(year, month, value) }];
      } catch (error) {
        throw new ShipException(503, (error as Error).message);
      }
    });
    for (const { month, marks } of months) {
      const prefix = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-`;
      for (const date of [...calendar.marks.keys()]) if (date.startsWith(prefix)) calendar.marks.delete(date);
      for (const [date, type] of marks) calendar.marks.set(date, SIM_DAY_TYPE[type]);
    }
    return [leaf('CalendarID', calendar.id)];
  },
};

const MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const SHIP_DAY_TYPE: Record<SpecialDay | 'none', SpecialDayType | undefined> = {
  none: undefined,
  holiday: 'Holiday',
  special1: 'Special1',
  special2: 'Special2',
};
const SIM_DAY_TYPE: Record<SpecialDayType, SpecialDay> = {
  Holiday: 'holiday',
  Special1: 'special1',
  Special2: 'special2',
};

function calendarOf(element: XmlElement, context: OperationContext): SimCalendar {
  const id = integer(requiredScalar(element, 'CalendarID'), 'CalendarID');
  const calendar = context.site.calendars.get(id);
  if (!calendar) throw new ShipException(11, `Calendar ${id} not found`);
  return calendar;
}

function yearOf(element: XmlElement): number {
  const year = integer(requiredScalar(element, 'Year'), 'Year');
  if (year < 1900 || year > 2999) throw new ShipException(12, `Year ${year} out of range`);
  return year;
}

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

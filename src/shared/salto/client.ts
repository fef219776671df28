/**
 * Typed SHIP operations against one SALTO server. Every operation either resolves with validated values
 * or rejects with a SaltoError; nothing else escapes. The client never retries: callers decide from
 * `error.kind` (the sync engine re-queues transient failures with backoff).
 */
import { z } from 'zod';
import type { SpecialDayType } from '../access/timetable.ts';
import { type Calendar, decodeMonth, type YearCalendar } from './calendar.ts';
import {
  buildRequest,
  decodeAccessLevel,
  decodeTimetable,
  decodeZone,
  encodeAccessLevel,
  encodePermissionList,
  encodeTimetable,
  encodeZone,
  readPage,
  readReply,
  within,
} from './codec.ts';
import { type SaltoEndpoint, type SaltoEndpointInput, SaltoEndpointSchema } from './endpoint.ts';
import { SaltoError, ShipCode } from './errors.ts';
import {
  type AccessLevel,
  type AccessLevelInput,
  AccessLevelInputSchema,
  ExtIdSchema,
  type ServerInfo,
  type Timetable,
  TimetableSchema,
  type Zone,
  ZoneInputSchema,
  type ZonePermission,
  ZonePermissionSchema,
} from './model.ts';
import type { ShipTransport } from './transport.ts';
import { createHttpTransport, type FetchLike } from './transport-http.ts';
import { createStpTransport, type StpConnector } from './transport-stp.ts';
import { branch, childText, leaf, type XmlElement } from './xml.ts';

export interface SaltoClientOptions {
  /** Required for transport 'stp': opens the TCP connection (node:net or Deno.connect adapter). */
  readonly connector?: StpConnector;
  /** For HTTP(S); defaults to the global fetch. Inject one to pin TLS roots (Deno.createHttpClient). */
  readonly fetch?: FetchLike;
  /** Entities per list page (MaxCount). */
  readonly pageSize?: number;
  /** Guards list reads against a server that never says EOF. */
  readonly maxPages?: number;
  /** Told the RequestName of every request about to be sent (one per list page): counting, metrics. */
  readonly onCall?: (requestName: string) => void;
  /**
   * Told every exchange once it ends: the request and the reply as sent and received (bodies only:
   * credentials travel in HTTP headers, never here), or the error. The per-building traffic log.
   */
  readonly onExchange?: (exchange: ShipExchange) => void;
}

/** One SHIP request and its reply (or the error that ended it). */
export interface ShipExchange {
  readonly requestName: string;
  readonly request: string;
  readonly reply?: string;
  readonly error?: string;
  readonly at: Date;
  readonly durationMs: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface SaltoClient {
  readonly endpoint: SaltoEndpoint;
  /** Health check. */
  getInfo(options?: CallOptions): Promise<ServerInfo>;
  /** Every zone, all pages. */
  listZones(options?: CallOptions): Promise<Zone[]>;
  /** One access level with its zone permissions; SaltoError code 11 when SALTO does not know it. */
  readAccessLevel(accessLevelId: string, options?: CallOptions): Promise<AccessLevel>;
  /** Every access level with its zone permissions, all pages. */
  listAccessLevels(options?: CallOptions): Promise<AccessLevel[]>;
  /**
   * The EXT IDs of every access level, all pages, listed without their permissions (a reply a fraction
   * of listAccessLevels's size, which a real server fills with zone, door and user lists).
   */
  listAccessLevelIds(options?: CallOptions): Promise<string[]>;
  /**
   * Replaces the whole zone permission list of an access level (SHIP: list present replaces). Prefer
   * `setZonePermissions` (permissions.ts), which keeps the zones this product does not manage.
   */
  replaceZonePermissions(
    accessLevelId: string,
    permissions: readonly ZonePermission[],
    options?: CallOptions,
  ): Promise<void>;
  /** Every timetable of the server's pool. */
  listTimetables(options?: CallOptions): Promise<Timetable[]>;
  /** Overwrites one numbered timetable slot. */
  updateTimetable(timetable: Timetable, options?: CallOptions): Promise<void>;
  /** Every calendar of the site (SaltoDBCalendar). */
  listCalendars(options?: CallOptions): Promise<Calendar[]>;
  /** One year of a calendar: the dates it marks Holiday, Special1 or Special2. SaltoError code 11 when unknown. */
  readYearCalendar(calendarId: number, year: number, options?: CallOptions): Promise<YearCalendar>;
  /** Seeding and tests: create or update a zone. */
  upsertZone(zone: Zone, options?: CallOptions): Promise<void>;
  /** Seeding and tests: create an access level (SaltoError code 10 when it exists). */
  insertAccessLevel(level: AccessLevelInput, options?: CallOptions): Promise<void>;
  /** Seeding and tests: update an access level's name, description and (when given) zone list. */
  updateAccessLevel(level: AccessLevelInput, options?: CallOptions): Promise<void>;
  /** Seeding and tests: delete an access level. */
  deleteAccessLevel(accessLevelId: string, options?: CallOptions): Promise<void>;
  /** Sends any request and returns the reply's Params: the escape hatch for what is not typed here. */
  call(requestName: string, params: readonly XmlElement[], options?: CallOptions): Promise<XmlElement>;
  /** Closes an open STP connection. */
  close(): Promise<void>;
}

function validInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw SaltoError.input(`invalid ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** A write naming a zone twice is refused here, as SALTO would (code 7), before anything is sent. */
export function assertOneEntryPerZone(permissions: readonly ZonePermission[]): void {
  const seen = new Set<string>();
  for (const permission of permissions) {
    if (seen.has(permission.zoneId)) {
      throw SaltoError.input(
        `zone ${permission.zoneId} appears twice: SALTO holds one permission per access level and zone`,
        ShipCode.businessRuleViolation,
      );
    }
    seen.add(permission.zoneId);
  }
}

// Schemas are built once: building one (zod) costs more than most of the validations it then makes.
const ZonePermissionListSchema = z.array(ZonePermissionSchema);
const CalendarSchema = z.object({
  id: z.coerce.number().int().min(0),
  name: z.string(),
  description: z.string(),
});
const ServerInfoSchema = z.object({
  protocolId: z.string(),
  protocolVersion: z.string(),
  dateTime: z.string(),
  defaultLanguage: z.string().default(''),
});

export function createSaltoClient(
  endpointInput: SaltoEndpointInput | SaltoEndpoint,
  options: SaltoClientOptions = {},
): SaltoClient {
  const endpoint = validInput(SaltoEndpointSchema, endpointInput, 'SALTO endpoint');
  const pageSize = options.pageSize ?? 100;
  const maxPages = options.maxPages ?? 10_000;
  let transport: ShipTransport;
  if (endpoint.transport === 'stp') {
    if (!options.connector) throw SaltoError.input('transport "stp" needs a connector');
    transport = createStpTransport(endpoint, options.connector);
  } else {
    transport = createHttpTransport(endpoint, options.fetch);
  }

  async function call(
    requestName: string,
    params: readonly (XmlElement | undefined)[],
    callOptions?: CallOptions,
  ): Promise<XmlElement> {
    let request: string;
    try {
      request = buildRequest(requestName, params);
    } catch (error) {
      throw SaltoError.input(`cannot encode ${requestName}: ${(error as Error).message}`, undefined, requestName);
    }
    let reply: string;
    options.onCall?.(requestName);
    const at = new Date();
    try {
      reply = await transport.exchange(request, callOptions?.signal);
      options.onExchange?.({ requestName, request, reply, at, durationMs: Date.now() - at.getTime() });
    } catch (error) {
      options.onExchange?.({
        requestName,
        request,
        error: error instanceof Error ? error.message : String(error),
        at,
        durationMs: Date.now() - at.getTime(),
      });
      if (error instanceof SaltoError) {
        throw new SaltoError({
          cause: error.reason,
          kind: error.kind,
          message: `${requestName}: ${error.message}`,
          ...(error.code === undefined ? {} : { code: error.code }),
          ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
          requestName,
          underlying: error.cause,
        });
      }
      throw SaltoError.transport(`${requestName}: ${String(error)}`, error, requestName);
    }
    return readReply(reply, requestName);
  }

  /** Reads a list page by page. Tolerates both inclusive and exclusive "StartingFrom" semantics. */
  async function readAll<T>(
    requestName: string,
    listName: string,
    entityName: string,
    startingFrom: string,
    extraParams: readonly XmlElement[],
    decode: (element: XmlElement) => T,
    keyOf: (entity: T) => string,
    callOptions?: CallOptions,
  ): Promise<T[]> {
    const all: T[] = [];
    let last: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const params = await call(
        requestName,
        [leaf('MaxCount', pageSize), last === undefined ? undefined : leaf(startingFrom, last), ...extraParams],
        callOptions,
      );
      const { entities, eof } = within(requestName, () => readPage(params, listName, entityName));
      let decoded = within(requestName, () => entities.map(decode));
      // An inclusive server repeats the last entity of the previous page first.
      if (last !== undefined && decoded.length > 0 && keyOf(decoded[0]!) === last) decoded = decoded.slice(1);
      all.push(...decoded);
      const done = eof ?? entities.length < pageSize;
      if (done) return all;
      if (decoded.length === 0) {
        throw SaltoError.malformed(`${requestName}: page without new entries and without EOF`, undefined, requestName);
      }
      last = keyOf(decoded[decoded.length - 1]!);
    }
    throw SaltoError.malformed(`${requestName}: more than ${maxPages} pages`, undefined, requestName);
  }

  /** Writes echo the key; a different echo means the reply is not about our request. */
  function checkEcho(params: XmlElement, field: string, expected: string, requestName: string): void {
    within(requestName, () => {
      const echoed = childText(params, field)?.trim();
      if (echoed !== undefined && echoed !== expected) {
        throw new Error(`reply echoes ${field} ${JSON.stringify(echoed)}, expected ${JSON.stringify(expected)}`);
      }
    });
  }

  /** Inserts or updates a whole access level (its zone permissions one per zone); the echo is checked. */
  async function writeAccessLevel(
    requestName: 'SaltoDBGroup.Insert' | 'SaltoDBGroup.Update',
    level: AccessLevelInput,
    callOptions?: CallOptions,
  ): Promise<void> {
    const valid = validInput(AccessLevelInputSchema, level, 'access level');
    if (valid.zonePermissions) assertOneEntryPerZone(valid.zonePermissions);
    const params = await call(requestName, [encodeAccessLevel(valid)], callOptions);
    checkEcho(params, 'ExtGroupID', valid.id, requestName);
  }

  return {
    endpoint,

    async getInfo(callOptions) {
      const params = await call('GetInfo', [], callOptions);
      return within('GetInfo', () =>
        ServerInfoSchema.parse({
          protocolId: childText(params, 'ProtocolID')?.trim(),
          protocolVersion: childText(params, 'ProtocolVersion')?.trim(),
          dateTime: childText(params, 'DateTime')?.trim(),
          defaultLanguage: childText(params, 'DefaultLanguage')?.trim(),
        }),
      );
    },

    listZones(callOptions) {
      return readAll(
        'SaltoDBZoneList.Read',
        'SaltoDBZoneList',
        'SaltoDBZone',
        'StartingFromExtZoneID',
        [],
        decodeZone,
        (zone) => zone.id,
        callOptions,
      );
    },

    async readAccessLevel(accessLevelId, callOptions) {
      const id = validInput(ExtIdSchema, accessLevelId, 'access level id');
      const requestName = 'SaltoDBGroupList.Read';
      // "StartingFrom" is inclusive (simulator README): the first entity is ours if SALTO knows it.
      const params = await call(
        requestName,
        [leaf('MaxCount', 1), leaf('StartingFromExtGroupID', id), leaf('ReturnAccessPermissions_Group_Zone', true)],
        callOptions,
      );
      const { entities } = within(requestName, () => readPage(params, 'SaltoDBGroupList', 'SaltoDBGroup'));
      const levels = within(requestName, () => entities.map(decodeAccessLevel));
      const level = levels.find((l) => l.id === id);
      if (!level) throw SaltoError.ship(ShipCode.elementNotFound, `access level ${id} not found`, requestName);
      return level;
    },

    listAccessLevels(callOptions) {
      return readAll(
        'SaltoDBGroupList.Read',
        'SaltoDBGroupList',
        'SaltoDBGroup',
        'StartingFromExtGroupID',
        [leaf('ReturnAccessPermissions_Group_Zone', true)],
        decodeAccessLevel,
        (level) => level.id,
        callOptions,
      );
    },

    async listAccessLevelIds(callOptions) {
      const levels = await readAll(
        'SaltoDBGroupList.Read',
        'SaltoDBGroupList',
        'SaltoDBGroup',
        'StartingFromExtGroupID',
        [],
        decodeAccessLevel,
        (level) => level.id,
        callOptions,
      );
      return levels.map((level) => level.id);
    },

    async replaceZonePermissions(accessLevelId, permissions, callOptions) {
      const id = validInput(ExtIdSchema, accessLevelId, 'access level id');
      const list = validInput(ZonePermissionListSchema, permissions, 'zone permissions');
      assertOneEntryPerZone(list);
      const requestName = 'SaltoDBGroup.Update';
      const params = await call(
        requestName,
        [branch('SaltoDBGroup', [leaf('ExtGroupID', id), encodePermissionList(list)])],
        callOptions,
      );
      checkEcho(params, 'ExtGroupID', id, requestName);
    },

    listTimetables(callOptions) {
      return readAll(
        'SaltoDBTimezoneTableList.Read',
        'SaltoDBTimezoneTableList',
        'SaltoDBTimezoneTable',
        'StartingFromTimezoneTableID',
        [],
        decodeTimetable,
        (timetable) => String(timetable.id),
        callOptions,
      );
    },

    async updateTimetable(timetable, callOptions) {
      const valid = validInput(TimetableSchema, timetable, 'timetable');
      const requestName = 'SaltoDBTimezoneTable.Update';
      const params = await call(requestName, [encodeTimetable(valid)], callOptions);
      checkEcho(params, 'TimezoneTableID', String(valid.id), requestName);
    },

    listCalendars(callOptions) {
      return readAll(
        'SaltoDBCalendarList.Read',
        'SaltoDBCalendarList',
        'SaltoDBCalendar',
        'StartingFromCalendarID',
        [],
        (element) =>
          CalendarSchema.parse({
            id: childText(element, 'CalendarID')?.trim(),
            name: childText(element, 'Name') ?? '',
            description: childText(element, 'Description') ?? '',
          }),
        (calendar) => String(calendar.id),
        callOptions,
      );
    },

    async readYearCalendar(calendarId, year, callOptions) {
      const requestName = 'SaltoDBYearCalendar.Read';
      if (!Number.isInteger(calendarId) || calendarId < 0 || !Number.isInteger(year) || year < 1000 || year > 9999)
        throw SaltoError.input(`invalid calendar ${calendarId} / year ${year}`, undefined, requestName);
      const params = await call(requestName, [leaf('CalendarID', calendarId), leaf('Year', year)], callOptions);
      return within(requestName, () => {
        const element = params.children?.find((c) => c.name === 'SaltoDBYearCalendar');
        if (!element) throw new Error('reply lacks <SaltoDBYearCalendar>');
        const marks = new Map<string, SpecialDayType>();
        for (let month = 1; month <= 12; month++) {
          const text = childText(element, `Month${month}`)?.trim();
          if (text === undefined || text === '') continue;
          for (const [date, type] of decodeMonth(year, month, text)) marks.set(date, type);
        }
        return { calendarId, year, marks };
      });
    },

    async upsertZone(zone, callOptions) {
      const valid = validInput(ZoneInputSchema, zone, 'zone');
      const requestName = 'SaltoDBZone.InsertOrUpdate';
      const params = await call(requestName, [encodeZone(valid)], callOptions);
      checkEcho(params, 'ExtZoneID', valid.id, requestName);
    },

    insertAccessLevel: (level, callOptions) => writeAccessLevel('SaltoDBGroup.Insert', level, callOptions),

    updateAccessLevel: (level, callOptions) => writeAccessLevel('SaltoDBGroup.Update', level, callOptions),

    async deleteAccessLevel(accessLevelId, callOptions) {
      const id = validInput(ExtIdSchema, accessLevelId, 'access level id');
      const requestName = 'SaltoDBGroup.Delete';
      const params = await call(requestName, [leaf('ExtGroupID', id)], callOptions);
      checkEcho(params, 'ExtGroupID', id, requestName);
    },

    call(requestName, params, callOptions) {
      return call(requestName, params, callOptions);
    },

    close() {
      return transport.close();
    },
  };
}

/**
 * Shadow mode and dry runs: a SALTO client that reads as usual and records, instead of sending, every
 * request that would change SALTO. The sync of a building in shadow mode (integration.salto_servers
 * .writes) and the operator's `plan` reconcile through it: they compute exactly what a live pass
 * would write, and SALTO stays as it is.
 */

import type { ShipExchange } from '../salto/client.ts';
import { encodePermissionList, encodeTimetable } from '../salto/codec.ts';
import type { SaltoClient } from '../salto/index.ts';
import { serializeElement } from '../salto/index.ts';

/** Requests that only read: passed through by a shadow client. */
const READS = new Set([
  'GetInfo',
  'SaltoDBZoneList.Read',
  'SaltoDBGroupList.Read',
  'SaltoDBTimezoneTableList.Read',
  'SaltoDBCalendarList.Read',
  'SaltoDBYearCalendar.Read',
]);

/** A write a shadow client did not send, in the traffic log's shape (no reply, sent = false). */
export type PlannedWrite = ShipExchange & { sent: false };

/**
 * `client` with its writes recorded in `planned` instead of sent; they resolve as if SALTO had taken
 * them. Reads go to SALTO. Anything not known to be a read is refused rather than sent.
 */
export function shadowClient(client: SaltoClient, planned: PlannedWrite[]): SaltoClient {
  const record = (requestName: string, body: string) => {
    planned.push({ requestName, request: body, at: new Date(), durationMs: 0, sent: false });
    return Promise.resolve();
  };
  const refuse = (what: string) => Promise.reject(new Error(`shadow mode: ${what} is not sent to SALTO`));
  return {
    endpoint: client.endpoint,
    getInfo: (o) => client.getInfo(o),
    listZones: (o) => client.listZones(o),
    readAccessLevel: (id, o) => client.readAccessLevel(id, o),
    listAccessLevels: (o) => client.listAccessLevels(o),
    listAccessLevelIds: (o) => client.listAccessLevelIds(o),
    listTimetables: (o) => client.listTimetables(o),
    listCalendars: (o) => client.listCalendars(o),
    readYearCalendar: (id, year, o) => client.readYearCalendar(id, year, o),
    replaceZonePermissions: (accessLevelId, permissions) =>
      record(
        'SaltoDBGroup.Update',
        serializeElement({
          name: 'SaltoDBGroup',
          children: [{ name: 'ExtGroupID', text: accessLevelId }, encodePermissionList(permissions)],
        }),
      ),
    updateTimetable: (timetable) => record('SaltoDBTimezoneTable.Update', serializeElement(encodeTimetable(timetable))),
    upsertZone: () => refuse('SaltoDBZone.InsertOrUpdate'),
    insertAccessLevel: () => refuse('SaltoDBGroup.Insert'),
    updateAccessLevel: () => refuse('SaltoDBGroup.Update'),
    deleteAccessLevel: () => refuse('SaltoDBGroup.Delete'),
    call: (requestName, params, o) =>
      READS.has(requestName) ? client.call(requestName, params, o) : refuse(requestName),
    close: () => client.close(),
  };
}

/**
 * The simulator's SHIP semantics, spoken to in raw XML (no client in between): what SALTO accepts,
 * what it refuses and with which code, and that a refused request changes nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SHIP_MEDIA_TYPE } from '../../src/shared/salto/endpoint.ts';
import { encodeStpFrame, StpFrameDecoder } from '../../src/shared/salto/stp-framing.ts';
import { childOf, childText, parseDocument } from '../../src/shared/salto/xml.ts';
import { nodeStpConnector } from '../../src/simulator/node-stp-connector.ts';
import { type SimulatorHandle, startSimulator } from '../../src/simulator/simulator.ts';
import { demoSeed } from '../salto/helpers.ts';

let simulator: SimulatorHandle;

beforeAll(async () => {
  simulator = await startSimulator({ seed: demoSeed() });
});
afterAll(() => simulator.close());
afterEach(() => simulator.reset());

async function ship(body: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${simulator.httpPort}/`, {
    method: 'POST',
    headers: { 'content-type': SHIP_MEDIA_TYPE },
    body,
  });
  expect(response.status).toBe(200);
  return response.text();
}

const call = (name: string, params = '') =>
  ship(`<RequestCall><RequestName>${name}</RequestName><Params>${params}</Params></RequestCall>`);

/** The Exception code of a reply, or undefined when it succeeded. */
function codeOf(reply: string): number | undefined {
  const exception = childOf(parseDocument(reply), 'Exception');
  return exception ? Number(childText(exception, 'Code')) : undefined;
}

const gym = (day: string, extra = '') =>
  `<SaltoDB.AccessPermission.Group_Zone><ExtZoneID>GYM</ExtZoneID><TimezoneTableID>0</TimezoneTableID><UsePeriod>1</UsePeriod>` +
  `<Period><StartDate>${day}T00:00:00</StartDate><EndDate>${day}T24:00:00</EndDate></Period>${extra}</SaltoDB.AccessPermission.Group_Zone>`;
const update = (group: string, inner: string) =>
  call('SaltoDBGroup.Update', `<SaltoDBGroup><ExtGroupID>${group}</ExtGroupID>${inner}</SaltoDBGroup>`);
const zonesOf = (group: string) =>
  simulator
    .snapshot()
    .accessLevels.find((l) => l.id === group)!
    .zonePermissions.map((p) => p.zoneId);

describe('SHIP semantics of the simulator', () => {
  it('replaces the whole zone list when the list is present', async () => {
    expect(
      codeOf(
        await update(
          'APT-501-56',
          `<SaltoDB.AccessPermissionList.Group_Zone>${gym('2026-05-01')}</SaltoDB.AccessPermissionList.Group_Zone>`,
        ),
      ),
    ).toBeUndefined();
    expect(zonesOf('APT-501-56')).toEqual(['GYM']);
  });

  it('keeps the zone list when the list is absent', async () => {
    expect(codeOf(await update('APT-501-56', '<Name>Renamed</Name>'))).toBeUndefined();
    expect(zonesOf('APT-501-56')).toEqual(['MAIN-ENTRANCE', 'CAR-PARK', 'LIFTS']);
    expect(simulator.site.accessLevels.get('APT-501-56')!.name).toBe('Renamed');
  });

  it('empties the zone list when the list is present and empty', async () => {
    await update('APT-501-56', '<SaltoDB.AccessPermissionList.Group_Zone></SaltoDB.AccessPermissionList.Group_Zone>');
    expect(zonesOf('APT-501-56')).toEqual([]);
  });

  it('echoes the key of a write', async () => {
    const reply = await update('APT-501-56', '');
    expect(childText(childOf(parseDocument(reply), 'Params')!, 'ExtGroupID')).toBe('APT-501-56');
  });

  it('holds one permission per access level and zone: a list naming a zone twice is code 7 and changes nothing', async () => {
    const before = simulator.snapshot();
    const reply = await update(
      'APT-501-56',
      `<SaltoDB.AccessPermissionList.Group_Zone>${gym('2026-05-01')}${gym('2026-05-02')}</SaltoDB.AccessPermissionList.Group_Zone>`,
    );
    expect(codeOf(reply)).toBe(7);
    expect(simulator.snapshot()).toEqual(before);
  });

  it('stores permission fields it does not interpret and returns them on reads', async () => {
    await update(
      'APT-502-56',
      `<SaltoDB.AccessPermissionList.Group_Zone>${gym('2026-05-01', '<Extra>1</Extra>')}</SaltoDB.AccessPermissionList.Group_Zone>`,
    );
    const read = await call(
      'SaltoDBGroupList.Read',
      '<MaxCount>1</MaxCount><StartingFromExtGroupID>APT-502-56</StartingFromExtGroupID><ReturnAccessPermissions_Group_Zone>1</ReturnAccessPermissions_Group_Zone>',
    );
    expect(read).toContain('<Extra>1</Extra>');
  });

  it.each([
    ['unparseable XML', '<RequestCall><RequestName>GetInfo</RequestName>', 500],
    ['a DOCTYPE', '<!DOCTYPE x [<!ENTITY a "b">]><RequestCall><RequestName>GetInfo</RequestName></RequestCall>', 500],
    ['another root element', '<Call><RequestName>GetInfo</RequestName></Call>', 501],
    [
      'an unknown parameter',
      '<RequestCall><RequestName>GetInfo</RequestName><Params><Foo>1</Foo></Params></RequestCall>',
      501,
    ],
    ['no RequestName', '<RequestCall><Params></Params></RequestCall>', 12],
    ['an unknown request', '<RequestCall><RequestName>SaltoDBUser.Teleport</RequestName></RequestCall>', 502],
  ])('refuses %s with code %i', async (_what, body, code) => {
    expect(codeOf(await ship(body))).toBe(code);
  });

  it.each([
    ['an unknown access level', () => update('APT-000-00', ''), 11],
    [
      'an unknown zone in the list',
      () =>
        update(
          'APT-501-56',
          '<SaltoDB.AccessPermissionList.Group_Zone><SaltoDB.AccessPermission.Group_Zone><ExtZoneID>SPA</ExtZoneID></SaltoDB.AccessPermission.Group_Zone></SaltoDB.AccessPermissionList.Group_Zone>',
        ),
      11,
    ],
    [
      'an unknown timetable',
      () =>
        update(
          'APT-501-56',
          '<SaltoDB.AccessPermissionList.Group_Zone><SaltoDB.AccessPermission.Group_Zone><ExtZoneID>GYM</ExtZoneID><TimezoneTableID>999</TimezoneTableID></SaltoDB.AccessPermission.Group_Zone></SaltoDB.AccessPermissionList.Group_Zone>',
        ),
      11,
    ],
    ['a missing ExtGroupID', () => call('SaltoDBGroup.Update', '<SaltoDBGroup><Name>x</Name></SaltoDBGroup>'), 12],
    ['an ExtID longer than 32 characters', () => update('A'.repeat(33), ''), 12],
    [
      'UsePeriod=1 without a Period',
      () =>
        update(
          'APT-501-56',
          '<SaltoDB.AccessPermissionList.Group_Zone><SaltoDB.AccessPermission.Group_Zone><ExtZoneID>GYM</ExtZoneID><UsePeriod>1</UsePeriod></SaltoDB.AccessPermission.Group_Zone></SaltoDB.AccessPermissionList.Group_Zone>',
        ),
      12,
    ],
    [
      'a date that is not a date',
      () =>
        update(
          'APT-501-56',
          `<SaltoDB.AccessPermissionList.Group_Zone>${gym('2026-02-30')}</SaltoDB.AccessPermissionList.Group_Zone>`,
        ),
      503,
    ],
    [
      'a boolean that is not 0/1',
      () =>
        update(
          'APT-501-56',
          '<SaltoDB.AccessPermissionList.Group_Zone><SaltoDB.AccessPermission.Group_Zone><ExtZoneID>GYM</ExtZoneID><UsePeriod>yes</UsePeriod></SaltoDB.AccessPermission.Group_Zone></SaltoDB.AccessPermissionList.Group_Zone>',
        ),
      503,
    ],
    [
      'inserting an existing access level',
      () => call('SaltoDBGroup.Insert', '<SaltoDBGroup><ExtGroupID>APT-501-56</ExtGroupID></SaltoDBGroup>'),
      10,
    ],
    [
      'a timetable slot outside the pool',
      () =>
        call(
          'SaltoDBTimezoneTable.Update',
          '<SaltoDBTimezoneTable><TimezoneTableID>0</TimezoneTableID></SaltoDBTimezoneTable>',
        ),
      11,
    ],
    [
      'an interval that ends before it starts',
      () =>
        call(
          'SaltoDBTimezoneTable.Update',
          '<SaltoDBTimezoneTable><TimezoneTableID>200</TimezoneTableID><SaltoDBTimezoneList><SaltoDBTimezone><StartTime>19:00:00</StartTime><EndTime>18:00:00</EndTime></SaltoDBTimezone></SaltoDBTimezoneList></SaltoDBTimezoneTable>',
        ),
      12,
    ],
  ])('refuses %s with code %i and changes nothing', async (_what, send, code) => {
    const before = simulator.snapshot({ includeEmptyTimetables: true });
    expect(codeOf(await send())).toBe(code);
    expect(simulator.snapshot({ includeEmptyTimetables: true })).toEqual(before);
  });

  it('refuses a timetable with more intervals than a timetable holds (code 7)', async () => {
    const interval =
      '<SaltoDBTimezone><StartTime>01:00:00</StartTime><EndTime>02:00:00</EndTime><Monday>1</Monday></SaltoDBTimezone>';
    const reply = await call(
      'SaltoDBTimezoneTable.Update',
      `<SaltoDBTimezoneTable><TimezoneTableID>200</TimezoneTableID><SaltoDBTimezoneList>${interval.repeat(9)}</SaltoDBTimezoneList></SaltoDBTimezoneTable>`,
    );
    expect(codeOf(reply)).toBe(7);
  });

  it('overwrites a timetable slot, end of day 24:00:00 allowed', async () => {
    const body =
      '<SaltoDBTimezoneTable><TimezoneTableID>255</TimezoneTableID><Name>Late</Name><SaltoDBTimezoneList><SaltoDBTimezone><TimezoneID>1</TimezoneID><StartTime>22:00:00</StartTime><EndTime>24:00:00</EndTime><Saturday>1</Saturday></SaltoDBTimezone></SaltoDBTimezoneList></SaltoDBTimezoneTable>';
    expect(codeOf(await call('SaltoDBTimezoneTable.Update', body))).toBeUndefined();
    expect(simulator.site.timetables.get(255)).toMatchObject({
      name: 'Late',
      intervals: [{ start: '22:00:00', end: '24:00:00' }],
    });
  });

  it('deletes a zone together with the permissions and door memberships that name it', async () => {
    expect(codeOf(await call('SaltoDBZone.Delete', '<ExtZoneID>CAR-PARK</ExtZoneID>'))).toBeUndefined();
    expect(zonesOf('APT-501-56')).toEqual(['MAIN-ENTRANCE', 'LIFTS']);
    expect(simulator.site.doors.get('CAR-D1')!.zoneIds).toEqual([]);
  });

  it('pages with MaxCount and an inclusive StartingFrom, ends with EOF, and caps the page size', async () => {
    const first = parseDocument(await call('SaltoDBZoneList.Read', '<MaxCount>4</MaxCount>'));
    const params = childOf(first, 'Params')!;
    expect(childOf(params, 'SaltoDBZoneList')!.children!.map((z) => childText(z, 'ExtZoneID'))).toEqual([
      'BBQ',
      'CAR-PARK',
      'GYM',
      'LIFTS',
    ]);
    expect(childText(params, 'EOF')).toBe('0');
    const rest = childOf(
      parseDocument(
        await call(
          'SaltoDBZoneList.Read',
          '<MaxCount>4</MaxCount><StartingFromExtZoneID>LIFTS</StartingFromExtZoneID>',
        ),
      ),
      'Params',
    )!;
    expect(childOf(rest, 'SaltoDBZoneList')!.children!.map((z) => childText(z, 'ExtZoneID'))).toEqual([
      'LIFTS',
      'MAIN-ENTRANCE',
      'POOL',
    ]);
    expect(childText(rest, 'EOF')).toBe('1');
    const capped = childOf(
      parseDocument(await call('SaltoDBTimezoneTableList.Read', '<MaxCount>100000</MaxCount>')),
      'Params',
    )!;
    expect(childOf(capped, 'SaltoDBTimezoneTableList')!.children).toHaveLength(255);
  });

  it('answers the same over STP, several requests on one connection and frames split anywhere', async () => {
    const connection = await nodeStpConnector('127.0.0.1', simulator.stpPort!, AbortSignal.timeout(1_000));
    const writer = connection.writable.getWriter();
    const both = new Uint8Array([
      ...encodeStpFrame('<RequestCall><RequestName>GetInfo</RequestName></RequestCall>'),
      ...encodeStpFrame('<RequestCall><RequestName>SaltoDBUser.Teleport</RequestName></RequestCall>'),
    ]);
    for (let i = 0; i < both.length; i += 7) await writer.write(both.slice(i, i + 7));
    const reader = connection.readable.getReader();
    const decoder = new StpFrameDecoder();
    const replies: string[] = [];
    while (replies.length < 2) {
      const { value } = await reader.read();
      replies.push(...decoder.push(value!).map((f) => new TextDecoder().decode(f.payload)));
    }
    connection.close();
    expect(codeOf(replies[0]!)).toBeUndefined();
    expect(codeOf(replies[1]!)).toBe(502);
  });
});

// The fields public captures of real SALTO servers and public SHIP clients show for zones, access
// levels and timetables: the simulator accepts each of them, keeps them, and returns them in the shape
// real servers answer in (single-quoted declaration, indented, CRLF, self-closed empty elements).
// Calendars (holidays and special days) over SHIP, and the day type they give a date.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSaltoClient } from '../../src/shared/salto/client.ts';
import { SHIP_MEDIA_TYPE } from '../../src/shared/salto/endpoint.ts';
import { childOf, childText, parseDocument, type XmlElement } from '../../src/shared/salto/xml.ts';
import { type SimulatorHandle, startSimulator } from '../../src/simulator/simulator.ts';
import { demoSeed } from '../salto/helpers.ts';

let simulator: SimulatorHandle;

beforeAll(async () => {
  simulator = await startSimulator({ seed: demoSeed() });
});
afterAll(() => simulator.close());
afterEach(() => simulator.reset());

async function call(name: string, params = ''): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${simulator.httpPort}/`, {
    method: 'POST',
    headers: { 'content-type': SHIP_MEDIA_TYPE },
    body: `<?xml version="1.0" encoding="UTF-8"?><RequestCall><RequestName>${name}</RequestName><Params>${params}</Params></RequestCall>`,
  });
  expect(response.status).toBe(200);
  return response.text();
}

function ok(reply: string): XmlElement {
  const root = parseDocument(reply);
  const exception = childOf(root, 'Exception');
  if (exception) throw new Error(`SHIP ${childText(exception, 'Code')}: ${childText(exception, 'Message')}`);
  return childOf(root, 'Params')!;
}

const codeOf = (reply: string) => Number(childText(childOf(parseDocument(reply), 'Exception')!, 'Code'));

describe('replies in the shape real servers send', () => {
  it('single-quoted declaration, one element per line, CRLF, empty elements self-closed', async () => {
    const reply = await call('SaltoDBZoneList.Read', '<MaxCount>1</MaxCount>');
    expect(reply.startsWith("<?xml version='1.0' encoding='utf-8'?>\r\n<RequestResponse>\r\n")).toBe(true);
    expect(reply).toContain('\r\n  <RequestName>SaltoDBZoneList.Read</RequestName>\r\n');
    expect(reply.replace(/\r\n/g, '')).not.toContain('\n');
    expect(reply).toMatch(/<Description \/>/);
  });

  it('the compact shape is still there for whoever asks for it', async () => {
    const compact = await startSimulator({ seed: demoSeed(), rules: { replyShape: 'compact' } });
    try {
      const client = createSaltoClient(compact.endpoint('http'));
      expect((await client.listZones()).map((z) => z.id)).toContain('GYM');
      const [entry] = compact.requests();
      expect(entry!.reply!.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<RequestResponse>')).toBe(true);
    } finally {
      await compact.close();
    }
  });
});

describe('zones carry what real zones carry', () => {
  it('accepts IsLow, IsFreeAssignment, FreeAssignmentGroup and door memberships, and returns them', async () => {
    ok(
      await call(
        'SaltoDBZone.InsertOrUpdate',
        `<SaltoDBZone><ExtZoneID>SAUNA</ExtZoneID><Name>Sauna</Name><Description/><IsLow>1</IsLow>
         <IsFreeAssignment>0</IsFreeAssignment><FreeAssignmentGroup>2</FreeAssignmentGroup>
         <SaltoDB.MembershipList.Door_Zone><SaltoDB.Membership.Door_Zone><ExtDoorID>GYM-D1</ExtDoorID><ExtZoneID>SAUNA</ExtZoneID></SaltoDB.Membership.Door_Zone></SaltoDB.MembershipList.Door_Zone>
         </SaltoDBZone>`,
      ),
    );
    const list = ok(
      await call('SaltoDBZoneList.Read', '<StartingFromExtZoneID>SAUNA</StartingFromExtZoneID><MaxCount>1</MaxCount>'),
    );
    const zone = childOf(childOf(list, 'SaltoDBZoneList')!, 'SaltoDBZone')!;
    expect(childText(zone, 'IsLow')).toBe('1');
    expect(childText(zone, 'IsFreeAssignment')).toBe('0');
    expect(childText(zone, 'FreeAssignmentGroup')).toBe('2');
    const doors = childOf(zone, 'SaltoDB.MembershipList.Door_Zone')!.children!.map((m) => childText(m, 'ExtDoorID'));
    expect(doors).toEqual(['GYM-D1']);
    expect(simulator.site.doors.get('GYM-D1')!.zoneIds).toContain('SAUNA');
    // The client reads such zones.
    const client = createSaltoClient(simulator.endpoint('http'));
    expect((await client.listZones()).find((z) => z.id === 'SAUNA')).toEqual({
      id: 'SAUNA',
      name: 'Sauna',
      description: '',
    });
  });

  it('refuses a door membership naming a door SALTO does not have (11)', async () => {
    const reply = await call(
      'SaltoDBZone.InsertOrUpdate',
      '<SaltoDBZone><ExtZoneID>GYM</ExtZoneID><SaltoDB.MembershipList.Door_Zone><SaltoDB.Membership.Door_Zone><ExtDoorID>NOPE</ExtDoorID></SaltoDB.Membership.Door_Zone></SaltoDB.MembershipList.Door_Zone></SaltoDBZone>',
    );
    expect(codeOf(reply)).toBe(11);
  });
});

describe('access levels carry door permissions and users', () => {
  const update = (lists: string) =>
    call('SaltoDBGroup.Update', `<SaltoDBGroup><ExtGroupID>APT-501-56</ExtGroupID>${lists}</SaltoDBGroup>`);

  it('accepts door permissions, user memberships and ExtGroupID in a zone permission, and keeps them across zone writes', async () => {
    ok(
      await update(
        `<SaltoDB.AccessPermissionList.Group_Door><SaltoDB.AccessPermission.Group_Door><ExtGroupID>APT-501-56</ExtGroupID><ExtDoorID>POOL-D1</ExtDoorID><TimezoneTableID>0</TimezoneTableID><UsePeriod>0</UsePeriod></SaltoDB.AccessPermission.Group_Door></SaltoDB.AccessPermissionList.Group_Door>
         <SaltoDB.MembershipList.User_Group><SaltoDB.Membership.User_Group><ExtUserID>CARD-1</ExtUserID><ExtGroupID>APT-501-56</ExtGroupID></SaltoDB.Membership.User_Group></SaltoDB.MembershipList.User_Group>`,
      ),
    );
    // A zone write that omits them leaves them as they are; its permission may carry its ExtGroupID.
    ok(
      await update(
        '<SaltoDB.AccessPermissionList.Group_Zone><SaltoDB.AccessPermission.Group_Zone><ExtGroupID>APT-501-56</ExtGroupID><ExtZoneID>GYM</ExtZoneID><TimezoneTableID>0</TimezoneTableID><UsePeriod>0</UsePeriod></SaltoDB.AccessPermission.Group_Zone></SaltoDB.AccessPermissionList.Group_Zone>',
      ),
    );
    const level = simulator.site.accessLevels.get('APT-501-56')!;
    expect(level.doorPermissions).toEqual([{ doorId: 'POOL-D1', timetableId: 0, usePeriod: false }]);
    expect(level.users).toEqual(['CARD-1']);
    expect(level.permissions.map((p) => p.zoneId)).toEqual(['GYM']);
    expect(simulator.mayOpenDoor('APT-501-56', 'POOL-D1', '2026-05-04T12:00:00')).toBe(true);

    // Reads return all three lists, with ExtGroupID repeated in each permission, as captured.
    const params = ok(
      await call(
        'SaltoDBGroupList.Read',
        '<MaxCount>1</MaxCount><StartingFromExtGroupID>APT-501-56</StartingFromExtGroupID><ReturnAccessPermissions_Group_Zone>1</ReturnAccessPermissions_Group_Zone>',
      ),
    );
    const group = childOf(childOf(params, 'SaltoDBGroupList')!, 'SaltoDBGroup')!;
    expect(childOf(group, 'SaltoDB.AccessPermissionList.Group_Door')!.children).toHaveLength(1);
    expect(childOf(group, 'SaltoDB.MembershipList.User_Group')!.children).toHaveLength(1);
    const zonePermission = childOf(group, 'SaltoDB.AccessPermissionList.Group_Zone')!.children![0]!;
    expect(childText(zonePermission, 'ExtGroupID')).toBe('APT-501-56');
    // The client reads the access level and its zones as before.
    const client = createSaltoClient(simulator.endpoint('http'));
    const read = await client.readAccessLevel('APT-501-56');
    expect(read.zonePermissions).toEqual([{ zoneId: 'GYM', timetableId: 0, usePeriod: false }]);
  });

  it('refuses an ExtGroupID naming another access level inside a permission (12)', async () => {
    const reply = await update(
      '<SaltoDB.AccessPermissionList.Group_Zone><SaltoDB.AccessPermission.Group_Zone><ExtGroupID>APT-502-56</ExtGroupID><ExtZoneID>GYM</ExtZoneID></SaltoDB.AccessPermission.Group_Zone></SaltoDB.AccessPermissionList.Group_Zone>',
    );
    expect(codeOf(reply)).toBe(12);
  });
});

describe('timetables carry their id in each interval', () => {
  it('accepts TimezoneTableID in an interval and returns it', async () => {
    ok(
      await call(
        'SaltoDBTimezoneTable.Update',
        `<SaltoDBTimezoneTable><TimezoneTableID>210</TimezoneTableID><Name>Test</Name><SaltoDBTimezoneList>
          <SaltoDBTimezone><TimezoneID>1</TimezoneID><TimezoneTableID>210</TimezoneTableID><StartTime>18:00:00</StartTime><EndTime>19:00:00</EndTime>
          <Monday>1</Monday><Tuesday>0</Tuesday><Wednesday>0</Wednesday><Thursday>0</Thursday><Friday>0</Friday><Saturday>0</Saturday><Sunday>0</Sunday>
          <Holiday>1</Holiday><Special1>0</Special1><Special2>1</Special2></SaltoDBTimezone></SaltoDBTimezoneList></SaltoDBTimezoneTable>`,
      ),
    );
    const params = ok(
      await call(
        'SaltoDBTimezoneTableList.Read',
        '<MaxCount>1</MaxCount><StartingFromTimezoneTableID>210</StartingFromTimezoneTableID>',
      ),
    );
    const interval = childOf(
      childOf(childOf(childOf(params, 'SaltoDBTimezoneTableList')!, 'SaltoDBTimezoneTable')!, 'SaltoDBTimezoneList')!,
      'SaltoDBTimezone',
    )!;
    expect(childText(interval, 'TimezoneTableID')).toBe('210');
    expect(childText(interval, 'Special2')).toBe('1');
    const client = createSaltoClient(simulator.endpoint('http'));
    const table = (await client.listTimetables()).find((t) => t.id === 210)!;
    expect(table.intervals[0]!.days.holiday).toBe(true);
  });

  it('refuses an interval naming another timetable (12)', async () => {
    const reply = await call(
      'SaltoDBTimezoneTable.Update',
      '<SaltoDBTimezoneTable><TimezoneTableID>210</TimezoneTableID><SaltoDBTimezoneList><SaltoDBTimezone><TimezoneTableID>211</TimezoneTableID><StartTime>18:00:00</StartTime><EndTime>19:00:00</EndTime></SaltoDBTimezone></SaltoDBTimezoneList></SaltoDBTimezoneTable>',
    );
    expect(codeOf(reply)).toBe(12);
  });
});

describe('calendars over SHIP', () => {
  it('lists calendars and reads a year: the client sees the marked dates and their day types', async () => {
    simulator.reset({
      ...demoSeed(),
      calendars: [{ id: 1, name: 'Site', holidays: ['2026-12-25'], special1: ['2026-12-24'] }],
    });
    const client = createSaltoClient(simulator.endpoint('http'));
    expect(await client.listCalendars()).toEqual([{ id: 1, name: 'Site', description: '' }]);
    const year = await client.readYearCalendar(1, 2026);
    expect([...year.marks]).toEqual([
      ['2026-12-24', 'Special1'],
      ['2026-12-25', 'Holiday'],
    ]);
    const reply = await call('SaltoDBYearCalendar.Read', '<CalendarID>1</CalendarID><Year>2026</Year>');
    expect(reply).toContain(`<Month12>${'1'.repeat(23)}32${'1'.repeat(6)}</Month12>`);
  });

  it('a year calendar written over SHIP gives its dates their day type in effective access', async () => {
    // GYM for APT-501-56 at 18:00-19:00 on Holiday only.
    simulator.site.timetables.set(210, {
      id: 210,
      name: 'Holiday evenings',
      intervals: [
        {
          start: '18:00:00',
          end: '19:00:00',
          days: {
            monday: false,
            tuesday: false,
            wednesday: false,
            thursday: false,
            friday: false,
            saturday: false,
            sunday: false,
            holiday: true,
            special1: false,
            special2: false,
          },
        },
      ],
    });
    simulator.site.accessLevels
      .get('APT-501-56')!
      .permissions.push({ zoneId: 'GYM', timetableId: 210, usePeriod: false, extra: [] });
    expect(simulator.mayOpen('APT-501-56', 'GYM', '2026-05-04T18:30:00')).toBe(false);
    const month5 = `${'1'.repeat(3)}2${'1'.repeat(27)}`; // 4 May 2026 a holiday
    ok(
      await call(
        'SaltoDBYearCalendar.Update',
        `<SaltoDBYearCalendar><CalendarID>1</CalendarID><Year>2026</Year><Month5>${month5}</Month5></SaltoDBYearCalendar>`,
      ),
    );
    expect(simulator.mayOpen('APT-501-56', 'GYM', '2026-05-04T18:30:00')).toBe(true);
    expect(simulator.mayOpen('APT-501-56', 'GYM', '2026-05-04T19:30:00')).toBe(false);
    // Under a calendar that does not mark the date, it is a Monday.
    expect(simulator.mayOpen('APT-501-56', 'GYM', '2026-05-04T18:30:00', { calendarId: 2 })).toBe(false);
  });

  it('an unknown calendar is 11, a month string it cannot read 503', async () => {
    expect(codeOf(await call('SaltoDBYearCalendar.Read', '<CalendarID>9</CalendarID><Year>2026</Year>'))).toBe(11);
    expect(
      codeOf(
        await call(
          'SaltoDBYearCalendar.Update',
          '<SaltoDBYearCalendar><CalendarID>1</CalendarID><Year>2026</Year><Month1>12x</Month1></SaltoDBYearCalendar>',
        ),
      ),
    ).toBe(503);
  });
});

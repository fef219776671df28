/**
 * The client against the simulator, over every transport and authentication mode: reads, writes,
 * paging, SHIP error codes, malformed replies, timeouts, outages.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SaltoClient } from '../../src/shared/salto/client.ts';
import { allDays, periodForDates, type Timetable } from '../../src/shared/salto/model.ts';
import { leaf } from '../../src/shared/salto/xml.ts';
import type { MalformedKind } from '../../src/simulator/faults.ts';
import type { SimulatorHandle } from '../../src/simulator/simulator.ts';
import { clientFor, saltoError, simulatorFor, VARIANTS } from './helpers.ts';

describe.each(VARIANTS)('SHIP client over $label', (variant) => {
  let simulator: SimulatorHandle;
  let client: SaltoClient;
  let pagingClient: SaltoClient;

  beforeAll(async () => {
    simulator = await simulatorFor(variant, { now: () => new Date('2026-05-01T08:30:00Z') });
    client = clientFor(simulator, variant.transport, { replyTimeoutMs: 300, connectTimeoutMs: 200 });
    pagingClient = clientFor(simulator, variant.transport, {}, { pageSize: 2 });
  });
  afterAll(async () => {
    await client.close();
    await pagingClient.close();
    await simulator.close();
  });
  afterEach(async () => {
    await simulator.clearFaults();
    simulator.reset();
    simulator.clearRequests();
  });

  it('reads the server info, with the date-time in the building time zone', async () => {
    const info = await client.getInfo();
    expect(info.protocolId).toBe('SHIP');
    expect(info.dateTime).toBe('2026-05-01T18:30:00'); // Sydney, +10:00
  });

  it('lists every zone across pages', async () => {
    const zones = await pagingClient.listZones();
    expect(zones.map((z) => z.id).sort()).toEqual(['BBQ', 'CAR-PARK', 'GYM', 'LIFTS', 'MAIN-ENTRANCE', 'POOL']);
    expect(zones.find((z) => z.id === 'POOL')?.name).toBe('Pool room');
    // "StartingFrom" is inclusive: each page after the first repeats the previous page's last zone.
    const pages = simulator.requests({ requestName: 'SaltoDBZoneList.Read' });
    expect(pages.length).toBe(5);
    expect(pages[1]!.request).toContain('<StartingFromExtZoneID>CAR-PARK</StartingFromExtZoneID>');
  });

  it('lists every access level with its zone permissions across pages', async () => {
    const levels = await pagingClient.listAccessLevels();
    expect(levels.map((l) => l.id)).toEqual(['APT-501-56', 'APT-502-56', 'APT-601-56', 'APT-602-56']);
    expect(levels[1]!.zonePermissions.map((p) => p.zoneId)).toEqual(['MAIN-ENTRANCE', 'LIFTS']);
  });

  it('lists the IDs of every access level across pages without their permissions', async () => {
    simulator.clearRequests();
    expect(await pagingClient.listAccessLevelIds()).toEqual(['APT-501-56', 'APT-502-56', 'APT-601-56', 'APT-602-56']);
    const pages = simulator.requests({ requestName: 'SaltoDBGroupList.Read' });
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) {
      expect(page.request).not.toContain('ReturnAccessPermissions');
      expect(page.reply).not.toContain('AccessPermission');
    }
  });

  it('reads one access level and its permanent permissions', async () => {
    const level = await client.readAccessLevel('APT-501-56');
    expect(level.name).toBe('Apartment 501/56');
    expect(level.zonePermissions).toEqual([
      { zoneId: 'MAIN-ENTRANCE', timetableId: 0, usePeriod: false },
      { zoneId: 'CAR-PARK', timetableId: 0, usePeriod: false },
      { zoneId: 'LIFTS', timetableId: 0, usePeriod: false },
    ]);
  });

  it('reports an access level SALTO does not know as code 11, permanent', async () => {
    const error = await saltoError(client.readAccessLevel('APT-999-56'));
    expect(error.code).toBe(11);
    expect(error.kind).toBe('permanent');
  });

  it('writes a timetable into a pool slot and a zone permission that uses it', async () => {
    const timetable: Timetable = {
      id: 200,
      name: 'Gym 18:00-19:00 Fri',
      intervals: [{ start: '18:00:00', end: '19:00:00', days: { ...allDays(false), friday: true } }],
    };
    await client.updateTimetable(timetable);
    const tables = await client.listTimetables();
    expect(tables).toHaveLength(255);
    expect(tables.find((t) => t.id === 200)).toEqual(timetable);

    const level = await client.readAccessLevel('APT-502-56');
    const gym = {
      zoneId: 'GYM',
      timetableId: 200,
      usePeriod: true,
      period: periodForDates('2026-05-01', '2026-05-01'),
    };
    await client.replaceZonePermissions('APT-502-56', [...level.zonePermissions, gym]);
    expect((await client.readAccessLevel('APT-502-56')).zonePermissions).toContainEqual(gym);
    expect(simulator.mayOpen('APT-502-56', 'GYM', '2026-05-01T18:30:00')).toBe(true);
    expect(simulator.mayOpen('APT-502-56', 'GYM', '2026-05-01T19:00:00')).toBe(false);
  });

  it('refuses a timetable outside the pool with code 11', async () => {
    const error = await saltoError(client.updateTimetable({ id: 300, name: 'x', intervals: [] }));
    expect([error.code, error.kind]).toEqual([11, 'permanent']);
  });

  it('refuses a permission for an unknown zone with code 11 and changes nothing', async () => {
    const before = simulator.snapshot();
    const error = await saltoError(
      client.replaceZonePermissions('APT-501-56', [{ zoneId: 'SAUNA', timetableId: 0, usePeriod: false }]),
    );
    expect(error.code).toBe(11);
    expect(simulator.snapshot()).toEqual(before);
  });

  it('creates, refuses to recreate (code 10), and deletes an access level', async () => {
    await client.upsertZone({ id: 'ROOF', name: 'Roof & <terrace>' });
    await client.insertAccessLevel({
      id: 'APT-701-56',
      name: 'Apartment 701/56',
      zonePermissions: [{ zoneId: 'ROOF', timetableId: 0, usePeriod: false }],
    });
    expect((await saltoError(client.insertAccessLevel({ id: 'APT-701-56' }))).code).toBe(10);
    expect((await client.listZones()).find((z) => z.id === 'ROOF')?.name).toBe('Roof & <terrace>');
    await client.deleteAccessLevel('APT-701-56');
    expect((await saltoError(client.readAccessLevel('APT-701-56'))).code).toBe(11);
  });

  it('surfaces the server refusing an unknown request (502) and unexpected nodes (501)', async () => {
    expect((await saltoError(client.call('SaltoDBDoor.Explode', []))).code).toBe(502);
    expect((await saltoError(client.call('GetInfo', [leaf('Surprise', 1)]))).code).toBe(501);
    expect((await saltoError(client.call('SaltoDBZoneList.Read', [leaf('MaxCount', 'many')]))).code).toBe(503);
    expect((await saltoError(client.call('SaltoDBGroup.Delete', []))).code).toBe(12);
  });

  it.each([
    [1, 'transient'],
    [4, 'transient'],
    [5, 'transient'],
    [201, 'transient'],
    [7, 'permanent'],
    [10, 'permanent'],
    [12, 'permanent'],
    [13, 'permanent'],
    [14, 'permanent'],
    [500, 'permanent'],
    [503, 'permanent'],
  ] as const)('classifies SHIP error %i as %s', async (code, kind) => {
    void simulator.setFaults({ shipError: { code, count: 1, message: 'Injected <fault> & co' } });
    const error = await saltoError(client.getInfo());
    expect([error.reason, error.code, error.kind]).toEqual(['ship', code, kind]);
    expect(error.message).toContain('Injected <fault> & co');
    await expect(client.getInfo()).resolves.toMatchObject({ protocolId: 'SHIP' });
  });

  it('applies a share of calls fault to roughly that share', async () => {
    void simulator.setFaults({ shipError: { code: 4, share: 0.5 } });
    let failed = 0;
    for (let i = 0; i < 40; i++) await client.getInfo().catch(() => failed++);
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
  });

  it.each<MalformedKind>([
    'not-xml',
    'truncated',
    'wrong-root',
    'wrong-request-name',
    'bad-code',
    'oversized',
    'invalid-utf8',
    'bad-frame',
  ])('turns a malformed reply (%s) into a typed error, never a raw exception', async (kind) => {
    void simulator.setFaults({ malformed: { kind, count: 1 } });
    const error = await saltoError(client.getInfo());
    expect(error.reason).toBe('malformed');
    expect(error.kind).toBe('permanent');
    await expect(client.getInfo()).resolves.toMatchObject({ protocolId: 'SHIP' });
  });

  it('times out a reply that never comes, then works again', async () => {
    void simulator.setFaults({ malformed: { kind: 'no-reply', count: 1 } });
    const error = await saltoError(client.getInfo());
    expect([error.reason, error.kind]).toEqual(['transport', 'transient']);
    expect(error.message).toMatch(/no reply/);
    await expect(client.getInfo()).resolves.toMatchObject({ protocolId: 'SHIP' });
  });

  it('times out a reply slower than the reply timeout', async () => {
    const slow = clientFor(simulator, variant.transport, { replyTimeoutMs: 100, connectTimeoutMs: 100 });
    // The reply would come after 3 s: giving up well before it is the timeout at work, however busy
    // the machine (a bound close to 100 ms would measure the machine, not the client).
    void simulator.setFaults({ latencyMs: 3000 });
    const started = Date.now();
    const error = await saltoError(slow.getInfo());
    expect(Date.now() - started).toBeLessThan(2500);
    expect([error.reason, error.kind]).toEqual(['transport', 'transient']);
    await slow.close();
  });

  it('reports a refused connection as a transient transport failure', async () => {
    await simulator.setFaults({ refuseConnections: { transports: [variant.transport] } });
    const fresh = clientFor(simulator, variant.transport);
    const error = await saltoError(fresh.getInfo());
    expect([error.reason, error.kind]).toEqual(['transport', 'transient']);
    expect(error.message).toMatch(/ECONNREFUSED|fetch failed|connect/);
    await simulator.clearFaults();
    await expect(fresh.getInfo()).resolves.toMatchObject({ protocolId: 'SHIP' });
    await fresh.close();
  });

  it('keeps the site across a restart, and the client reconnects', async () => {
    const gym = { zoneId: 'GYM', timetableId: 0, usePeriod: true, period: periodForDates('2026-05-02', '2026-05-02') };
    await client.replaceZonePermissions('APT-602-56', [gym]);
    await simulator.restart({ downMs: 10 });
    // The first call after a restart may find its old connection cut; a second one must succeed.
    await client.getInfo().catch(() => undefined);
    expect((await client.readAccessLevel('APT-602-56')).zonePermissions).toEqual([gym]);
  });

  it('reads values the server pads with spaces', async () => {
    simulator.reset();
    const padded = await simulatorFor(variant, { rules: { padValues: true } });
    const paddedClient = clientFor(padded, variant.transport);
    try {
      const level = await paddedClient.readAccessLevel('APT-501-56');
      expect(level.zonePermissions[0]).toEqual({ zoneId: 'MAIN-ENTRANCE', timetableId: 0, usePeriod: false });
      void padded.setFaults({ shipError: { code: 11, count: 1 } });
      expect((await saltoError(paddedClient.getInfo())).code).toBe(11);
    } finally {
      await paddedClient.close();
      await padded.close();
    }
  });

  if (variant.transport === 'http') {
    it('classifies injected HTTP 5xx as transient and does not apply the request', async () => {
      void simulator.setFaults({ httpStatus: { status: 503, count: 1 } });
      const error = await saltoError(client.deleteAccessLevel('APT-601-56'));
      expect([error.reason, error.httpStatus, error.kind]).toEqual(['http', 503, 'transient']);
      expect(simulator.site.accessLevels.has('APT-601-56')).toBe(true);
    });
  }

  if (variant.transport === 'stp') {
    it('sends several requests over one connection, in order', async () => {
      const results = await Promise.all([client.getInfo(), client.listZones(), client.readAccessLevel('APT-601-56')]);
      expect(results[2].id).toBe('APT-601-56');
      const seqs = simulator.requests({ transport: 'stp' }).map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    });
  }
});

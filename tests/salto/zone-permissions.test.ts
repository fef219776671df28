/**
 * Writing a booking's zone permission keeps every other zone permission of the access level exactly as
 * it was: read-modify-write over the wire, checked in the simulator's stored state and request log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SaltoClient } from '../../src/shared/salto/client.ts';
import { decodePermission, encodePermission } from '../../src/shared/salto/codec.ts';
import { periodForDates, type ZonePermission } from '../../src/shared/salto/model.ts';
import { setZonePermissions } from '../../src/shared/salto/permissions.ts';
import { branch, leaf, parseDocument, serializeElement, type XmlElement } from '../../src/shared/salto/xml.ts';
import type { SimulatorHandle } from '../../src/simulator/simulator.ts';
import type { SiteSeed } from '../../src/simulator/state.ts';
import { clientFor, demoSeed, saltoError, simulatorFor, VARIANTS } from './helpers.ts';

const MANAGED = ['GYM', 'POOL', 'BBQ'];
const gymOn = (day: string, timetableId = 0): ZonePermission => ({
  zoneId: 'GYM',
  timetableId,
  usePeriod: true,
  period: periodForDates(day, day),
});

/** The demo site, where 501/56's car park permission also carries fields only the server knows. */
function seedWithServerFields(): SiteSeed {
  const seed = demoSeed();
  const level = seed.accessLevels!.find((l) => l.id === 'APT-501-56')!;
  level.zonePermissions = level.zonePermissions!.map((p) =>
    p.zoneId === 'CAR-PARK'
      ? {
          ...p,
          usePeriod: false,
          period: { startDate: '2020-01-01T00:00:00', endDate: '2099-12-31T24:00:00' },
          extra: [
            { name: 'AntipassbackEnabled', text: '1' },
            { name: 'VendorNote', text: 'Bay 12 & 13 <visitor>' },
            {
              name: 'Nested',
              children: [
                { name: 'A', text: '1' },
                { name: 'B', text: 'ü' },
              ],
            },
          ],
        }
      : p,
  );
  return seed;
}

/** Each stored permission of an access level, serialised, keyed by zone. */
function storedPermissions(simulator: SimulatorHandle, accessLevelId: string): Map<string, string> {
  const level = simulator.snapshot().accessLevels.find((l) => l.id === accessLevelId)!;
  return new Map(level.zonePermissions.map((p) => [p.zoneId, JSON.stringify(p)]));
}

describe.each(VARIANTS)('setting a booking zone permission over $label', (variant) => {
  let simulator: SimulatorHandle;
  let client: SaltoClient;

  beforeAll(async () => {
    simulator = await simulatorFor(variant, { seed: seedWithServerFields() });
    client = clientFor(simulator, variant.transport);
  });
  afterAll(async () => {
    await client.close();
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
    simulator.clearRequests();
  });

  it('leaves every other zone permission of the access level byte-for-byte as it was', async () => {
    const before = storedPermissions(simulator, 'APT-501-56');
    const result = await setZonePermissions(client, 'APT-501-56', [gymOn('2026-05-01')], MANAGED);
    expect(result.written).toBe(true);
    expect(result.added).toEqual(['GYM']);

    const after = storedPermissions(simulator, 'APT-501-56');
    for (const [zoneId, stored] of before) expect(after.get(zoneId)).toBe(stored);
    expect(JSON.parse(after.get('GYM')!)).toEqual(gymOn('2026-05-01'));

    // On the wire: the permanent entries written back are the ones SALTO sent, element for element
    // (whatever the reply's layout; the ExtGroupID a real server repeats inside each is redundant).
    const [read] = simulator.requests({ requestName: 'SaltoDBGroupList.Read' });
    const [write] = simulator.requests({ requestName: 'SaltoDBGroup.Update' });
    const entries = (xml: string): string[] => {
      const found: string[] = [];
      const walk = (element: XmlElement) => {
        if (element.name === 'SaltoDB.AccessPermission.Group_Zone') {
          const children = (element.children ?? []).filter((c) => c.name !== 'ExtGroupID');
          found.push(serializeElement({ name: element.name, children }));
        } else for (const child of element.children ?? []) walk(child);
      };
      walk(parseDocument(xml));
      return found;
    };
    const readEntries = entries(read!.reply!);
    const writtenEntries = entries(write!.request);
    expect(writtenEntries.slice(0, readEntries.length)).toEqual(readEntries);
    expect(writtenEntries).toHaveLength(readEntries.length + 1);
  });

  it('replaces a booking permission and then removes it, keeping the permanent ones', async () => {
    const before = storedPermissions(simulator, 'APT-601-56');
    await setZonePermissions(client, 'APT-601-56', [gymOn('2026-05-01')], MANAGED);
    await setZonePermissions(client, 'APT-601-56', [gymOn('2026-05-08')], MANAGED);
    expect(JSON.parse(storedPermissions(simulator, 'APT-601-56').get('GYM')!)).toEqual(gymOn('2026-05-08'));
    const cleared = await setZonePermissions(client, 'APT-601-56', [], MANAGED);
    expect(cleared.removed).toEqual(['GYM']);
    expect(storedPermissions(simulator, 'APT-601-56')).toEqual(before);
  });

  it('writes nothing when SALTO already holds the desired permission', async () => {
    await setZonePermissions(client, 'APT-502-56', [gymOn('2026-05-01')], MANAGED);
    simulator.clearRequests();
    const again = await setZonePermissions(client, 'APT-502-56', [gymOn('2026-05-01')], MANAGED);
    expect(again.written).toBe(false);
    expect(simulator.requests().map((r) => r.requestName)).toEqual(['SaltoDBGroupList.Read']);
  });

  it('refuses, before sending, a desired list naming a zone twice', async () => {
    const error = await saltoError(
      setZonePermissions(client, 'APT-502-56', [gymOn('2026-05-01'), gymOn('2026-05-02')], MANAGED),
    );
    expect([error.reason, error.code]).toEqual(['input', 7]);
    expect(simulator.requests({ requestName: 'SaltoDBGroup.Update' })).toEqual([]);
  });

  it('is refused by SALTO with code 7 when a write names a zone twice, and nothing changes', async () => {
    const before = simulator.snapshot();
    const permission = (day: string) =>
      branch('SaltoDB.AccessPermission.Group_Zone', [
        leaf('ExtZoneID', 'GYM'),
        leaf('TimezoneTableID', 0),
        leaf('UsePeriod', 1),
        branch('Period', [leaf('StartDate', `${day}T00:00:00`), leaf('EndDate', `${day}T24:00:00`)]),
      ]);
    const error = await saltoError(
      client.call('SaltoDBGroup.Update', [
        branch('SaltoDBGroup', [
          leaf('ExtGroupID', 'APT-502-56'),
          branch('SaltoDB.AccessPermissionList.Group_Zone', [permission('2026-05-01'), permission('2026-05-02')]),
        ]),
      ]),
    );
    expect([error.reason, error.code, error.kind]).toEqual(['ship', 7, 'permanent']);
    expect(simulator.snapshot()).toEqual(before);
  });

  it('reports an access level SALTO does not know with code 11 and writes nothing', async () => {
    const error = await saltoError(setZonePermissions(client, 'APT-404-56', [gymOn('2026-05-01')], MANAGED));
    expect(error.code).toBe(11);
    expect(simulator.requests({ requestName: 'SaltoDBGroup.Update' })).toEqual([]);
  });
});

describe('the permission entries this product does not manage', () => {
  it('serialise back to the same XML they were read from', () => {
    const xml =
      '<SaltoDB.AccessPermission.Group_Zone><ExtZoneID>CAR-PARK</ExtZoneID><TimezoneTableID>0</TimezoneTableID><UsePeriod>0</UsePeriod>' +
      '<Period><StartDate>2020-01-01T00:00:00</StartDate><EndDate>2099-12-31T24:00:00</EndDate></Period>' +
      '<VendorNote>Bay 12 &amp; 13 &lt;visitor&gt;</VendorNote><Nested><A>1</A><B>ü</B></Nested></SaltoDB.AccessPermission.Group_Zone>';
    expect(serializeElement(encodePermission(decodePermission(parseDocument(xml))))).toBe(xml);
  });
});

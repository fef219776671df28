// The IDs offered when SALTO does not know a saved Zone ID or Access Control ID ("did you mean POOL?").
import { describe, expect, it } from 'vitest';
import { type SaltoClient, SaltoError, ShipCode } from '../../src/shared/salto/index.ts';
import { checkSaltoIds, closestSaltoIds } from '../../src/shared/sync/id-checks.ts';

describe('closestSaltoIds', () => {
  const zones = ['POOL', 'GYM', 'SAUNA', 'POOL-2', 'ROOF-TERRACE', 'LOBBY'];

  it('offers the same letters in another case first', () => {
    expect(closestSaltoIds('pool', zones)[0]).toBe('POOL');
    expect(closestSaltoIds('Gym', zones)).toEqual(['GYM']);
  });

  it('offers IDs a typo or two away, nearest first', () => {
    expect(closestSaltoIds('POLL', zones)).toEqual(['POOL']);
    expect(closestSaltoIds('ROOF-TERACE', zones)).toEqual(['ROOF-TERRACE']);
    expect(closestSaltoIds('POOL2', zones)).toEqual(['POOL', 'POOL-2']);
  });

  it('offers nothing when nothing is close, and never the ID itself', () => {
    expect(closestSaltoIds('TENNIS', zones)).toEqual([]);
    expect(closestSaltoIds('POOL', zones)).not.toContain('POOL');
  });

  it('offers nothing longer than an ExtID can be', () => {
    expect(closestSaltoIds('POOL', [`POOL${'X'.repeat(40)}`])).toEqual([]);
  });

  it('offers at most three', () => {
    expect(closestSaltoIds('A1', ['a1', 'A2', 'A3', 'A4', 'A5']).length).toBe(3);
  });
});

describe('checkSaltoIds', () => {
  const client = {
    listZones: async () => [{ id: 'POOL' }, { id: 'GYM' }],
    listAccessLevelIds: async () => ['APT-501'],
    readAccessLevel: async (id: string) => {
      if (id === 'APT-501') return { id, zonePermissions: [] };
      throw SaltoError.ship(ShipCode.elementNotFound, `access level ${id} not found`, 'SaltoDBGroup.Read');
    },
  } as unknown as SaltoClient;

  it('knows an ID only spelled exactly as SALTO lists it, and names the right spelling', async () => {
    const results = await checkSaltoIds(client, [
      { id: '1', kind: 'zone', saltoId: 'POOL' },
      { id: '2', kind: 'zone', saltoId: 'pool' },
      { id: '3', kind: 'access_level', saltoId: 'APT-501' },
      { id: '4', kind: 'access_level', saltoId: 'apt-501' },
    ]);
    expect(results).toEqual([
      { id: '1', saltoId: 'POOL', status: 'known', suggestions: [] },
      { id: '2', saltoId: 'pool', status: 'unknown', suggestions: ['POOL'] },
      { id: '3', saltoId: 'APT-501', status: 'known', suggestions: [] },
      { id: '4', saltoId: 'apt-501', status: 'unknown', suggestions: ['APT-501'] },
    ]);
  });

  it('lets an error other than "not found" through (the check is then tried again)', async () => {
    const failing = {
      ...client,
      listZones: async () => Promise.reject(new Error('connect ECONNREFUSED')),
    } as SaltoClient;
    await expect(checkSaltoIds(failing, [{ id: '1', kind: 'zone', saltoId: 'POOL' }])).rejects.toThrow(/ECONNREFUSED/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SaltoError } from '../../src/shared/salto/errors.ts';
import { periodForDates, type ZonePermission } from '../../src/shared/salto/model.ts';
import { mergeZonePermissions } from '../../src/shared/salto/permissions.ts';

const always = (zoneId: string, extra?: ZonePermission['extra']): ZonePermission => ({
  zoneId,
  timetableId: 0,
  usePeriod: false,
  ...(extra ? { extra } : {}),
});
const booked = (zoneId: string, day: string, timetableId = 200): ZonePermission => ({
  zoneId,
  timetableId,
  usePeriod: true,
  period: periodForDates(day, day),
});
const MANAGED = ['GYM', 'POOL', 'BBQ'];

describe('merging the zones we manage into an access level', () => {
  it('adds a booking permission and keeps the permanent ones as the very same entries', () => {
    const main = always('MAIN-ENTRANCE', [{ name: 'VendorField', text: 'x' }]);
    const lifts = always('LIFTS');
    const merge = mergeZonePermissions([main, lifts], [booked('GYM', '2026-05-01')], MANAGED);
    expect(merge.changed).toBe(true);
    expect(merge.added).toEqual(['GYM']);
    expect(merge.permissions[0]).toBe(main);
    expect(merge.permissions[1]).toBe(lifts);
    expect(merge.permissions[2]).toEqual(booked('GYM', '2026-05-01'));
  });

  it('needs no write when SALTO already holds exactly what we want', () => {
    const current = [always('MAIN-ENTRANCE'), booked('GYM', '2026-05-01')];
    const merge = mergeZonePermissions(current, [booked('GYM', '2026-05-01')], MANAGED);
    expect(merge.changed).toBe(false);
  });

  it('removes a managed zone that is no longer desired and updates a changed one', () => {
    const current = [always('CAR-PARK'), booked('GYM', '2026-05-01'), booked('POOL', '2026-05-02')];
    const merge = mergeZonePermissions(current, [booked('POOL', '2026-05-03')], MANAGED);
    expect(merge.removed).toEqual(['GYM']);
    expect(merge.updated).toEqual(['POOL']);
    expect(merge.permissions.map((p) => p.zoneId)).toEqual(['CAR-PARK', 'POOL']);
  });

  it('refuses a desired list naming a zone twice, like SALTO (code 7)', () => {
    try {
      mergeZonePermissions([], [booked('GYM', '2026-05-01'), booked('GYM', '2026-05-02')], MANAGED);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SaltoError);
      expect((error as SaltoError).code).toBe(7);
    }
  });

  it('never touches an unmanaged zone, whatever is desired', () => {
    const zone = fc.constantFrom('GYM', 'POOL', 'BBQ', 'MAIN-ENTRANCE', 'CAR-PARK', 'LIFTS');
    const permission = fc.record({
      zoneId: zone,
      timetableId: fc.integer({ min: 0, max: 255 }),
      usePeriod: fc.constant(false),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(permission, { selector: (p) => p.zoneId }),
        fc.uniqueArray(
          permission.filter((p) => MANAGED.includes(p.zoneId)),
          { selector: (p) => p.zoneId },
        ),
        (current, desired) => {
          const merge = mergeZonePermissions(current, desired, MANAGED);
          const unmanagedBefore = current.filter((p) => !MANAGED.includes(p.zoneId));
          const unmanagedAfter = merge.permissions.filter((p) => !MANAGED.includes(p.zoneId));
          expect(unmanagedAfter).toEqual(unmanagedBefore);
          for (const [i, p] of unmanagedAfter.entries()) expect(p).toBe(unmanagedBefore[i]);
          const managedAfter = merge.permissions.filter((p) => MANAGED.includes(p.zoneId));
          expect(new Set(managedAfter.map((p) => p.zoneId))).toEqual(new Set(desired.map((p) => p.zoneId)));
          // Applying the result again is a no-op.
          expect(mergeZonePermissions(merge.permissions, desired, MANAGED).changed).toBe(false);
        },
      ),
    );
  });
});

// Which access levels use each timetable slot is read only when a timetable must take a slot, and
// then no slot another access level uses is recycled (src/shared/sync/building-timetables.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildingTimetables, type SlotUsers } from '../../src/shared/sync/building-timetables.ts';
import { type DesiredZoneWindow, desiredPermission } from '../../src/shared/sync/desired.ts';
import { reconcileAccessLevel } from '../../src/shared/sync/engine.ts';
import type { SaltoBuilding } from '../../src/shared/sync/store.ts';
import type { SimulatorHandle } from '../../src/simulator/simulator.ts';
import { clientFor, simulatorFor, VARIANTS } from '../salto/helpers.ts';

const TIME_ZONE = 'Australia/Sydney';
const HOUR = 3_600_000;
const LEVEL = 'APT-501-56';
const OTHER_LEVEL = 'APT-502-56';

let simulator: SimulatorHandle;
beforeAll(async () => {
  simulator = await simulatorFor(VARIANTS[0]!);
});
afterAll(() => simulator.close());

const building = (last: number): SaltoBuilding => ({
  buildingId: 'b-1',
  timeZone: TIME_ZONE,
  endpoint: simulator.endpoint('http'),
  timetableRange: { first: 200, last },
});

/** The gym at `hour`:00 (Sydney) for an hour, on a fixed Monday. */
function gym(hour: number): DesiredZoneWindow {
  const windowStart = new Date(Date.parse('2027-03-01T18:00:00+11:00') + (hour - 18) * HOUR);
  return {
    zoneId: 'GYM',
    facilityId: 'f-gym',
    windowStart,
    windowEnd: new Date(windowStart.getTime() + HOUR),
    bookingIds: [`booking-${hour}`],
  };
}
const keyOf = (window: DesiredZoneWindow) => desiredPermission(window, TIME_ZONE).timetableKey;

/** Slot users that count how often they are read. */
function countedUsers(users: SlotUsers) {
  const counted = {
    reads: 0,
    read: async () => {
      counted.reads++;
      return users;
    },
  };
  return counted;
}

async function reconcile(context: SaltoBuilding, timetables: BuildingTimetables, window: DesiredZoneWindow) {
  const saved: number[] = [];
  const result = await reconcileAccessLevel(
    context,
    LEVEL,
    { windows: [window], managed: ['GYM'] },
    {
      client: clientFor(simulator, 'http'),
      store: {
        saveTimetableSlot: async (_building, slot) => void saved.push(slot),
        recordPermanentPermissions: async () => new Map(),
      },
      timetables,
    },
  );
  return { ...result, saved };
}

describe('timetable slot users', () => {
  it('are not read when SALTO already holds the timetable the access level needs', async () => {
    const users = countedUsers([{ accessLevelId: OTHER_LEVEL, slot: 200 }]);
    const timetables = new BuildingTimetables([{ slot: 200, key: keyOf(gym(18)), written: true }], users.read);

    const { written, failures, saved } = await reconcile(building(200), timetables, gym(18));

    expect(failures).toEqual([]);
    expect(written.map((w) => w.timetableId)).toEqual([200]);
    expect(saved).toEqual([]);
    expect(users.reads).toBe(0);
  });

  it('are read when a timetable must take a slot, and a slot another access level uses is not recycled', async () => {
    const users = countedUsers([{ accessLevelId: OTHER_LEVEL, slot: 200 }]);
    const timetables = new BuildingTimetables([{ slot: 200, key: keyOf(gym(7)), written: true }], users.read);

    const { written, failures, saved } = await reconcile(building(200), timetables, gym(18));

    expect(users.reads).toBe(1);
    expect(saved).toEqual([]);
    expect(written).toEqual([]);
    expect(failures[0]?.reason).toMatch(/No free SALTO timetable: all slots 200-200/);
  });

  it('recorded by the pass replace what was read: a slot nobody uses any more is recycled', async () => {
    const users = countedUsers([{ accessLevelId: OTHER_LEVEL, slot: 200 }]);
    const timetables = new BuildingTimetables([{ slot: 200, key: keyOf(gym(7)), written: true }], users.read);
    timetables.recordWritten(OTHER_LEVEL, []);

    const { written, failures, saved } = await reconcile(building(200), timetables, gym(18));

    expect(failures).toEqual([]);
    expect(written.map((w) => w.timetableId)).toEqual([200]);
    expect(saved).toEqual([200, 200]); // recorded before SALTO is written, then as written
    expect(users.reads).toBe(1);
    // Read once per pass: the next access level asks again without a read.
    await timetables.keysUsedByOthers(LEVEL);
    expect(users.reads).toBe(1);
  });

  it('a failed read is tried again by the next caller', async () => {
    let calls = 0;
    const timetables = new BuildingTimetables([], async () => {
      if (++calls === 1) throw new Error('connection lost');
      return [];
    });
    await expect(timetables.keysUsedByOthers(LEVEL)).rejects.toThrow('connection lost');
    await expect(timetables.keysUsedByOthers(LEVEL)).resolves.toEqual([]);
    expect(calls).toBe(2);
  });
});

// The sync keeps a building's SALTO calendars across its passes, for at most their bound: a building
// synced pass after pass (a pass ends at its budget) reads its site's calendars once, not once per
// pass, and never computes a timetable from calendars read longer ago than the bound. A
// simulator of its own in this process, read through the SHIP client; a clock the test moves.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSaltoClient, type SaltoClient } from '../../src/shared/salto/index.ts';
import { CALENDARS_MAX_AGE_MS, SiteCalendars, specialDatesFor } from '../../src/shared/sync/site-calendar.ts';
import { type SimulatorHandle, startSimulator } from '../../src/simulator/simulator.ts';
import { demoSeed } from '../salto/helpers.ts';

let simulator: SimulatorHandle;
const HOLIDAY = '2031-05-05';
const LATER_HOLIDAY = '2031-05-06';
// A booking on each of the two dates (UTC; a day either side is read whatever the time zone).
const windows = [
  { windowStart: new Date(`${HOLIDAY}T10:00:00Z`), windowEnd: new Date(`${HOLIDAY}T11:00:00Z`) },
  { windowStart: new Date(`${LATER_HOLIDAY}T10:00:00Z`), windowEnd: new Date(`${LATER_HOLIDAY}T11:00:00Z`) },
];

beforeAll(async () => {
  simulator = await startSimulator({ seed: demoSeed() });
});
afterAll(() => simulator.close());
beforeEach(() => {
  simulator.reset();
  simulator.site.calendars.get(1)!.marks.set(HOLIDAY, 'holiday');
  simulator.clearRequests();
});

const calendarReads = () =>
  simulator
    .requests()
    .filter((r) => r.requestName === 'SaltoDBCalendarList.Read' || r.requestName === 'SaltoDBYearCalendar.Read')
    .map((r) => r.requestName);

/** A building on the simulator, as a sync pass has it; each pass opens a client of its own. */
const building = (buildingId = 'b1') => ({ buildingId, endpoint: simulator.endpoint('http') });
const pass = (): SaltoClient => createSaltoClient(simulator.endpoint('http'));

describe("a building's SALTO calendars across sync passes", () => {
  it('are read once for passes within their bound, each pass with its own client', async () => {
    let now = 1_000_000;
    const calendars = new SiteCalendars({ now: () => now });
    const first = await calendars.specialDates(building(), pass(), windows);
    now += CALENDARS_MAX_AGE_MS - 1;
    const second = await calendars.specialDates(building(), pass(), windows);
    expect(first.get(HOLIDAY)).toEqual(['Holiday']);
    expect(second).toEqual(first);
    expect(calendarReads()).toEqual(['SaltoDBCalendarList.Read', 'SaltoDBYearCalendar.Read']);
  });

  it('are read again once their bound has passed, and a holiday marked meanwhile counts from then', async () => {
    let now = 1_000_000;
    const calendars = new SiteCalendars({ now: () => now });
    expect((await calendars.specialDates(building(), pass(), windows)).has(LATER_HOLIDAY)).toBe(false);
    simulator.site.calendars.get(1)!.marks.set(LATER_HOLIDAY, 'holiday');
    now += CALENDARS_MAX_AGE_MS - 1;
    // Within the bound: the calendars as read.
    expect((await calendars.specialDates(building(), pass(), windows)).has(LATER_HOLIDAY)).toBe(false);
    now += 1;
    // At the bound: read again, never used older.
    expect((await calendars.specialDates(building(), pass(), windows)).get(LATER_HOLIDAY)).toEqual(['Holiday']);
    expect(calendarReads()).toEqual([
      'SaltoDBCalendarList.Read',
      'SaltoDBYearCalendar.Read',
      'SaltoDBCalendarList.Read',
      'SaltoDBYearCalendar.Read',
    ]);
  });

  it("are each building's own, and follow a building to another server", async () => {
    const calendars = new SiteCalendars({ now: () => 1_000_000 });
    await calendars.specialDates(building('b1'), pass(), windows);
    await calendars.specialDates(building('b2'), pass(), windows);
    const moved = { buildingId: 'b1', endpoint: { ...simulator.endpoint('http'), path: '/elsewhere' } };
    // The same simulator answers any path: what counts is that the building's new address is asked.
    await calendars.specialDates(moved, pass(), windows);
    expect(calendarReads()).toHaveLength(6);
  });

  it('are read again after a read that failed for a reason of the moment', async () => {
    const calendars = new SiteCalendars({ now: () => 1_000_000 });
    await simulator.setFaults({ httpStatus: { status: 503, count: 1, requestName: 'SaltoDBCalendarList.Read' } });
    await expect(calendars.specialDates(building(), pass(), windows)).rejects.toThrow();
    expect((await calendars.specialDates(building(), pass(), windows)).get(HOLIDAY)).toEqual(['Holiday']);
    await simulator.clearFaults();
  });

  it('without the cache (the nightly cleanup), are read once per client', async () => {
    await specialDatesFor(pass(), windows);
    await specialDatesFor(pass(), windows);
    expect(calendarReads()).toHaveLength(4);
  });
});

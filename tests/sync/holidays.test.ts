// Public holidays end to end: the SALTO site's calendar marks a date Holiday, on which SALTO applies a
// timetable's Holiday intervals instead of the weekday's. A booking on that date opens its door as on
// any other date, and a booking over several dates opens a holiday inside it only for that date's
// own hours. Real database, the real salto-sync function, the simulator answering in real servers'
// shape and evaluating day types from its calendars.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, setClockShift, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';

const sql = connect(4);

/** A local wall time of the building as an instant (no DST change near the dates used). */
function at(building: TestBuilding, local: string): Date {
  const probe = new Date(`${local}Z`);
  const offsetMs = (d: Date) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: building.timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(d);
    const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - d.getTime();
  };
  return new Date(probe.getTime() - offsetMs(new Date(probe.getTime() - offsetMs(probe))));
}

const dayAfter = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

describe('bookings on public holidays', { timeout: 90_000 }, () => {
  let building: TestBuilding;
  // Three days ahead and five days ahead, building time: both holidays in the site's calendar.
  const holiday = dayAfter(new Date().toISOString().slice(0, 10), 3);
  const otherHoliday = dayAfter(holiday, 2);

  beforeAll(async () => {
    await setClockShift(sql, 0);
    building = await createTestBuilding(sql, {
      timeZone: 'Australia/Sydney',
      facilities: [{ name: 'Gym', beforeMinutes: 0, afterMinutes: 0 }],
      apartments: [{ label: '501/56' }, { label: '502/56' }],
    });
    const calendar = building.simulator.site.calendars.get(1)!;
    calendar.marks.set(holiday, 'holiday');
    calendar.marks.set(otherHoliday, 'holiday');
  });

  afterAll(async () => {
    await building.close();
    await sql.end();
  });

  const zone = () => building.facilities.Gym!.zoneId;
  const level = (apartment: string) => building.apartments[apartment]!.accessLevelId;
  const mayOpen = (apartment: string, local: string) => building.simulator.mayOpen(level(apartment), zone(), local);

  async function bookAndWait(apartment: string, start: string, end: string) {
    const apt = building.apartments[apartment]!;
    await book(
      sql,
      { as: 'resident', userId: apt.residentId },
      {
        facilityId: building.facilities.Gym!.id,
        apartmentId: apt.id,
        startsAt: at(building, start),
        endsAt: at(building, end),
      },
    );
    return eventually(
      async () =>
        building.simulator
          .snapshot()
          .accessLevels.find((l) => l.id === level(apartment))
          ?.zonePermissions.find((p) => p.zoneId === zone()),
      30_000,
      `the permission of ${apartment} in SALTO`,
    );
  }

  it('a booking on a holiday opens its door during the booking, as on any other date', async () => {
    await bookAndWait('501/56', `${holiday}T18:00:00`, `${holiday}T19:00:00`);
    // The simulator gives the date the Holiday day type (calendar 1), as SALTO does.
    expect(building.simulator.explainAccess(level('501/56'), zone(), `${holiday}T18:30:00`).reason).toMatch(/holiday/);
    expect(building.simulator.requests().map((r) => r.requestName)).toContain('SaltoDBYearCalendar.Read');
    expect(mayOpen('501/56', `${holiday}T18:00:00`)).toBe(true);
    expect(mayOpen('501/56', `${holiday}T18:59:59`)).toBe(true);
    expect(mayOpen('501/56', `${holiday}T17:59:59`)).toBe(false);
    expect(mayOpen('501/56', `${holiday}T19:00:00`)).toBe(false);
    // The same booking opens on its date under a calendar that does not mark it (its weekday).
    expect(building.simulator.mayOpen(level('501/56'), zone(), `${holiday}T18:30:00`, { calendarId: 99 })).toBe(true);
  });

  it('a longer booking opens a holiday inside it only for that date’s hours', async () => {
    // From the evening before the other holiday to 09:00 on it.
    const eve = dayAfter(otherHoliday, -1);
    await bookAndWait('502/56', `${eve}T22:00:00`, `${otherHoliday}T09:00:00`);
    expect(mayOpen('502/56', `${eve}T22:30:00`)).toBe(true);
    expect(mayOpen('502/56', `${otherHoliday}T08:30:00`)).toBe(true);
    // Holiday intervals carry only the holiday's own hours: not the 22:00-24:00 of the evening before.
    expect(mayOpen('502/56', `${otherHoliday}T22:30:00`)).toBe(false);
    expect(mayOpen('502/56', `${otherHoliday}T09:00:00`)).toBe(false);
    expect(mayOpen('502/56', `${eve}T21:59:00`)).toBe(false);
    // The first holiday is outside this booking's period.
    expect(mayOpen('502/56', `${holiday}T22:30:00`)).toBe(false);
  });
});

// Each building is cleaned once, within a quarter hour after its own local midnight, on ordinary
// nights and on both nights the clocks change: the salto-cleanup function is called as the five-minute
// job would call it, around each midnight, with the integration's clock moved there. A gym booking
// that ends before midnight shows the run did its work: its permission is gone afterwards.
import { afterAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, setClockShift, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';
import { cleanupNow, existsSince, local, runsOf, setClockTo, storedPermissions, untilState } from './support.ts';

const sql = connect(4);
const QUARTER_HOUR = 15 * 60_000;

afterAll(async () => {
  await setClockShift(sql, 0);
  await sql.end();
});

const previousDate = (date: string) =>
  new Date(Date.parse(`${date}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/** The job's calls around one night: before midnight (nothing due), then every five minutes after. */
const CALLS = ['23:50:00', '23:55:00', '00:00:00', '00:05:00', '00:10:00', '00:15:00'];

async function night(building: TestBuilding, date: string) {
  const evening = previousDate(date);
  // The building has existed since the morning before, so this midnight is its first.
  await existsSince(sql, building, local(building, `${evening}T08:00:00`));
  await setClockTo(sql, local(building, `${evening}T22:00:00`));
  const apt = building.apartments['501/56']!;
  const gym = building.facilities.Gym!;
  const bookingId = await book(
    sql,
    { as: 'service_role' },
    {
      facilityId: gym.id,
      apartmentId: apt.id,
      startsAt: local(building, `${evening}T22:30:00`),
      endsAt: local(building, `${evening}T23:30:00`),
    },
  );
  await untilState(sql, bookingId, 'active');
  expect(storedPermissions(building, apt.accessLevelId).map((p) => p.zoneId)).toContain(gym.zoneId);

  for (const time of CALLS) {
    const wall = `${time < '12' ? date : evening}T${time}`;
    await setClockTo(sql, local(building, wall));
    await cleanupNow(sql, [building.id]);
  }

  const runs = await runsOf(sql, building.id);
  expect(runs.map((r) => [r.local_date, r.status])).toEqual([[date, 'completed']]);
  const afterMidnight = runs[0]!.started_at.getTime() - local(building, `${date}T00:00:00`).getTime();
  expect(afterMidnight).toBeGreaterThanOrEqual(0);
  expect(afterMidnight).toBeLessThan(QUARTER_HOUR);
  expect(runs[0]).toMatchObject({ cleared: 1, failed: 0 });
  expect(storedPermissions(building, apt.accessLevelId).map((p) => p.zoneId)).not.toContain(gym.zoneId);
}

const ZONES: [string, [string, string][]][] = [
  [
    'Australia/Sydney',
    [
      ['2027-01-15', 'an ordinary night'],
      ['2027-04-04', 'daylight saving ends'],
      ['2027-10-03', 'daylight saving starts'],
    ],
  ],
  [
    'Australia/Adelaide',
    [
      ['2027-06-15', 'an ordinary night (+9:30)'],
      ['2027-04-04', 'daylight saving ends (+10:30 -> +9:30)'],
      ['2027-10-03', 'daylight saving starts (+9:30 -> +10:30)'],
    ],
  ],
  [
    'Asia/Kathmandu',
    [
      ['2027-01-15', 'an ordinary night (+5:45)'],
      ['2027-04-04', 'another ordinary night'],
      ['2027-10-03', 'a third'],
    ],
  ],
  [
    'America/Los_Angeles',
    [
      ['2027-01-15', 'an ordinary night'],
      ['2027-03-14', 'daylight saving starts'],
      ['2027-11-07', 'daylight saving ends'],
    ],
  ],
];

describe('every building is cleaned once within a quarter hour after its own local midnight', {
  timeout: 180_000,
}, () => {
  for (const [timeZone, nights] of ZONES) {
    describe(timeZone, () => {
      for (const [date, what] of nights) {
        it(`${date}: ${what}`, async () => {
          const building = await createTestBuilding(sql, { timeZone });
          try {
            await night(building, date);
          } finally {
            await setClockShift(sql, 0);
            await building.close();
          }
        });
      }
    });
  }
});

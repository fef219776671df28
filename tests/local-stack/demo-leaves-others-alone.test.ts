// `npm run demo` works on the demo building only: another building's bookings, their SALTO access and
// its SALTO site are as they were, and the integration's clock never moves while the demo runs.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const sql = connect(3);
let building: TestBuilding;

beforeAll(async () => {
  building = await createTestBuilding(sql);
});
afterAll(async () => {
  await building?.close();
  await sql.end({ timeout: 5 });
});

/** Everything of the building the demo could reach: its bookings, their access, its SALTO writes. */
async function buildingRows(buildingId: string) {
  return {
    bookings: await sql`
      select id, facility_id, apartment_id, starts_at, ends_at, status from public.bookings
      where building_id = ${buildingId} order by id`,
    access: await sql`
      select booking_id, state, window_start, window_end from integration.booking_access
      where booking_id in (select id from public.bookings where building_id = ${buildingId}) order by booking_id`,
    written: await sql`
      select access_level_id, zone_id, timetable_id from integration.written_permissions
      where building_id = ${buildingId} order by access_level_id, zone_id`,
    facilities: await sql`
      select id, access_control_facility_id from public.facilities where building_id = ${buildingId} order by id`,
  };
}

it('leaves another building and the clock untouched', async () => {
  const apartment = building.apartments['501/56']!;
  const startsAt = new Date(Date.now() + 24 * 3600_000);
  startsAt.setUTCMinutes(0, 0, 0);
  const bookingId = await book(
    sql,
    { as: 'resident', userId: apartment.residentId },
    {
      facilityId: building.facilities.Gym!.id,
      apartmentId: apartment.id,
      startsAt,
      endsAt: new Date(startsAt.getTime() + 3600_000),
    },
  );
  await eventually(
    async () => {
      const [row] = await sql<{ state: string }[]>`
        select state from public.booking_access_states where booking_id = ${bookingId}`;
      return row?.state === 'active' ? true : undefined;
    },
    60_000,
    "the test building's booking active in its SALTO",
  );
  const before = await buildingRows(building.id);
  const saltoBefore = JSON.stringify(building.simulator.snapshot());

  // The clock, sampled while the demo runs: no offset row may appear, integration.now() stays now().
  const demo = spawn(join(repoRoot, 'node_modules/.bin/tsx'), ['local/demo/run.ts'], { cwd: repoRoot });
  let output = '';
  demo.stdout.on('data', (chunk) => (output += chunk));
  demo.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => demo.on('close', resolve));
  let running = true;
  void exited.then(() => (running = false));
  const shifts = new Set<string>();
  while (running) {
    const [clock] = await sql<{ offsets: number; drift: number }[]>`
      select (select count(*)::int from integration.clock_offset) as offsets,
             extract(epoch from integration.now() - now())::float8 as drift`;
    shifts.add(`${clock!.offsets} offset rows, drift ${clock!.drift} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(await exited, output).toBe(0);
  expect(output).toContain('The demo passed.');
  expect(output).toMatch(/Resetting the demo building, Harbour View Residences, only: deleted its \d+ booking/);
  expect([...shifts]).toEqual(['0 offset rows, drift 0 s']);

  expect(await buildingRows(building.id)).toEqual(before);
  expect(JSON.stringify(building.simulator.snapshot())).toBe(saltoBefore);
}, 240_000);

// The operator command line against the local stack, run the way an operator runs it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', '..', 'bin', 'connecx-salto.mjs');
const sql = connect(4);

async function connecxSalto(...args: string[]) {
  try {
    const { stdout } = await run('node', [cli, ...args], {
      env: { ...process.env, DATABASE_URL: stackEnv().databaseUrl },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout + failed.stderr };
  }
}

describe('npx connecx-salto', { timeout: 60_000 }, () => {
  let building: TestBuilding;
  let bookingId: string;

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }, { name: 'Sauna', zoneInSalto: false }],
      apartments: [{ label: '1' }, { label: '2', inSalto: false }],
    });
    const apt = building.apartments['1']!;
    const startsAt = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 5 * 3600_000);
    bookingId = await book(
      sql,
      { as: 'service_role' },
      {
        facilityId: building.facilities.Gym!.id,
        apartmentId: apt.id,
        startsAt,
        endsAt: new Date(startsAt.getTime() + 3600_000),
      },
    );
    await eventually(
      async () => {
        const [row] = await sql`select state from integration.booking_access where booking_id = ${bookingId}`;
        return row?.state === 'active' ? true : undefined;
      },
      20_000,
      'the booking active',
    );
  });

  afterAll(async () => {
    await building.close();
    await sql.end();
  });

  it('status shows each building: SALTO reachable, nothing pending, no failures', async () => {
    const { code, stdout } = await connecxSalto('status', '--building', building.id, '--json');
    expect(code).toBe(0);
    const [status] = JSON.parse(stdout);
    expect(status).toMatchObject({
      id: building.id,
      pendingAccessLevels: 0,
      failedBookings: [],
      salto: { configured: true, reachable: true },
    });
    const human = await connecxSalto('status', '--building', building.id);
    expect(human.stdout).toMatch(/SALTO\s+reachable/);
  });

  it('status names a failed booking and why', async () => {
    const apt = building.apartments['2']!;
    const failed = await book(
      sql,
      { as: 'service_role' },
      {
        facilityId: building.facilities.Gym!.id,
        apartmentId: apt.id,
        startsAt: new Date(Date.now() + 6 * 3600_000),
        endsAt: new Date(Date.now() + 7 * 3600_000),
      },
    );
    await eventually(
      async () => {
        const [row] = await sql`select state from integration.booking_access where booking_id = ${failed}`;
        return row?.state === 'failed' ? true : undefined;
      },
      20_000,
      'the booking failed',
    );
    const { stdout } = await connecxSalto('status', '--building', building.id);
    expect(stdout).toMatch(/failed\s+1 booking/);
    expect(stdout).toMatch(/- 2, Gym: SALTO has no user access level/);
  });

  it('doctor says which IDs SALTO does not know and where to fix them, and exits non-zero', async () => {
    const { code, stdout } = await connecxSalto('doctor', '--building', building.id);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /PROBLEM: The facility "Sauna" has the Access Control Facility ID "SAUNA-[0-9A-F]+", but SALTO has no zone/,
    );
    expect(stdout).toMatch(/fix: Settings > Facilities > Sauna/);
    expect(stdout).toMatch(/PROBLEM: Apartment 2 has the Access Control ID .* no user access level/);
    expect(stdout).toMatch(/fix: Building > Apartments > 2/);
    expect(stdout).not.toMatch(/Apartment 1 /);
  });

  it('resync puts back a permission removed by hand in SALTO', async () => {
    const apt = building.apartments['1']!;
    const gym = building.facilities.Gym!;
    const level = building.simulator.site.accessLevels.get(apt.accessLevelId)!;
    level.permissions = level.permissions.filter((p) => p.zoneId !== gym.zoneId);
    expect(building.simulator.mayOpen(apt.accessLevelId, gym.zoneId, new Date(Date.now() + 5.5 * 3600_000))).toBe(
      false,
    );

    const { code, stdout } = await connecxSalto('resync', '--apartment', apt.id);
    expect(code).toBe(0);
    expect(stdout).toContain(apt.accessLevelId);
    await eventually(
      async () =>
        building.simulator.site.accessLevels.get(apt.accessLevelId)!.permissions.some((p) => p.zoneId === gym.zoneId)
          ? true
          : undefined,
      20_000,
      'the permission back',
    );
  });

  it('refuses a resync with nothing named, and an unknown id, with a clear message', async () => {
    expect((await connecxSalto('resync')).stdout).toMatch(/Say what to resync/);
    const unknown = await connecxSalto('resync', '--booking', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/There is no booking with id/);
  });
});

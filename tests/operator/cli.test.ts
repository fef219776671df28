// The operator command line against the local stack, run the way an operator runs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';
import { connecxSalto as run } from './run-cli.ts';

const sql = connect(4);

/** stdout and stderr together, as a person at a terminal reads them. */
async function connecxSalto(...args: string[]) {
  const { code, stdout, stderr } = await run(args, { DATABASE_URL: stackEnv().databaseUrl });
  return { code, stdout: stdout + stderr };
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
    const { code, stdout } = await connecxSalto('status', '--building', building.id);
    expect(stdout).toMatch(/failed\s+1 booking/);
    expect(stdout).toMatch(/- 2, Gym: SALTO has no user access level/);
    expect(code).toBe(1);
  });

  it('doctor says which IDs SALTO does not know and where to fix them, and exits non-zero', async () => {
    const { code, stdout } = await connecxSalto('doctor', '--building', building.id);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /PROBLEM: The facility "Sauna" has the Access Control Facility ID "SAUNA-[0-9A-F]+", but SALTO has no zone/,
    );
    // One line per problem: what is wrong, then its fix (portal screen and Studio column).
    expect(stdout).toMatch(
      /^ {2}PROBLEM: The facility "Sauna" .* Fix: Settings > Facilities > Sauna \(Studio: public\.facilities\.access_control_facility_id\)/m,
    );
    expect(stdout).toMatch(
      /^ {2}PROBLEM: Apartment 2 has the Access Control ID .* no user access level .* Fix: Building > Apartments > 2 \(Studio: public\.apartments\.access_control_id\)/m,
    );
    expect(stdout).toMatch(/^ {2}2 problem\(s\), 0 warning\(s\)\.$/m);
    expect(stdout).not.toMatch(/Apartment 1 /);
  });

  it('resync --wait puts back a permission removed by hand in SALTO and says it is written', async () => {
    const apt = building.apartments['1']!;
    const gym = building.facilities.Gym!;
    const level = building.simulator.site.accessLevels.get(apt.accessLevelId)!;
    level.permissions = level.permissions.filter((p) => p.zoneId !== gym.zoneId);
    expect(building.simulator.mayOpen(apt.accessLevelId, gym.zoneId, new Date(Date.now() + 5.5 * 3600_000))).toBe(
      false,
    );

    const { code, stdout } = await connecxSalto('resync', '--apartment', apt.id, '--wait', '--timeout', '30');
    expect(stdout).toContain(`Queued 1 access level(s) for the sync: ${apt.accessLevelId}.`);
    expect(stdout).toMatch(new RegExp(`^  ${apt.accessLevelId}\\s+written$`, 'm'));
    expect(stdout).toMatch(/^Written 1, failed 0, still waiting 0\.$/m);
    expect(code).toBe(0);
    // Waited for: SALTO holds it again when the command returns.
    expect(
      building.simulator.site.accessLevels.get(apt.accessLevelId)!.permissions.some((p) => p.zoneId === gym.zoneId),
    ).toBe(true);
  });

  it('resync --wait says which access level failed and why, and exits 1', async () => {
    const apt = building.apartments['2']!;
    const { code, stdout } = await connecxSalto('resync', '--apartment', apt.id, '--wait', '--json');
    expect(code).toBe(1);
    const outcome = JSON.parse(stdout);
    expect(outcome).toMatchObject({
      buildingId: building.id,
      accessLevels: [apt.accessLevelId],
      outcomes: [
        {
          accessLevelId: apt.accessLevelId,
          outcome: 'failed',
          reason: expect.stringMatching(/^SALTO has no user access level with the EXT ID/),
          failedBookings: [expect.objectContaining({ apartment: '2', facility: 'Gym' })],
        },
      ],
      salto: { reachable: true },
    });
    const human = await connecxSalto('resync', '--apartment', apt.id, '--wait');
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`^  ${apt.accessLevelId}\\s+failed: SALTO has no user access level`, 'm'));
    expect(human.stdout).toMatch(/^\s+- 2, Gym: SALTO has no user access level/m);
  });

  it('resync --wait says an access level is still waiting when the sync has not finished it in time, and exits 1', async () => {
    const apt = building.apartments['1']!;
    // Another invocation holds the building's lease: the sync leaves the building alone meanwhile.
    await sql`
      insert into integration.building_leases (building_id, leased_by, leased_until)
      values (${building.id}, gen_random_uuid(), clock_timestamp() + interval '1 minute')
      on conflict (building_id) do update set leased_by = excluded.leased_by, leased_until = excluded.leased_until`;
    try {
      const { code, stdout } = await connecxSalto('resync', '--apartment', apt.id, '--wait', '--timeout', '2');
      expect(stdout).toMatch(
        new RegExp(
          `^ {2}${apt.accessLevelId}\\s+still waiting after 2 s: the sync has not finished this access level yet`,
          'm',
        ),
      );
      expect(stdout).toMatch(/^Written 0, failed 0, still waiting 1\.$/m);
      expect(code).toBe(1);
    } finally {
      await sql`delete from integration.building_leases where building_id = ${building.id}`;
    }
  });

  it('resync without --wait queues and returns at once', async () => {
    const apt = building.apartments['1']!;
    const { code, stdout } = await connecxSalto('resync', '--booking', bookingId, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ buildingId: building.id, accessLevels: [apt.accessLevelId] });
  });

  it('refuses a resync with nothing named, and an unknown id, with a clear message', async () => {
    const nothing = await connecxSalto('resync');
    expect(nothing.code).toBe(2);
    expect(nothing.stdout).toMatch(/Say what to resync/);
    const unknown = await connecxSalto('resync', '--booking', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toMatch(/There is no booking with id 00000000-0000-4000-8000-000000000000\./);
  });
});

// Meeting a live SALTO safely, on a building set up like the demo's (a gym with buffers, apartments
// holding permanent zones): a newly connected server starts in shadow mode, where the sync plans and
// records its writes and SALTO stays as it was; `plan` prints what the next pass would write; a
// manager switches the building live and the planned permissions are written; `traffic` exports the
// SHIP exchanges for support, credentials left out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actingAs, book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';
import { connecxSalto as run } from './run-cli.ts';

const sql = connect(4);
const connecxSalto = (...args: string[]) => run(args, { DATABASE_URL: stackEnv().databaseUrl });

describe('shadow mode, plan and switching live', { timeout: 120_000 }, () => {
  let building: TestBuilding;
  let bookingId: string;
  let key: string;

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      timeZone: 'Australia/Sydney',
      facilities: [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }],
      apartments: [{ label: '501/56' }],
      writes: 'shadow',
    });
    const [secret] = await sql<{ key: string }[]>`
      select v.decrypted_secret as key from integration.salto_servers as s
      join vault.decrypted_secrets as v on v.name = s.credential_secret_name where s.building_id = ${building.id}`;
    key = secret!.key;
  });

  afterAll(async () => {
    await building.close();
    await sql.end();
  });

  const gymPermission = () =>
    building.simulator
      .snapshot()
      .accessLevels.find((l) => l.id === building.apartments['501/56']!.accessLevelId)
      ?.zonePermissions.find((p) => p.zoneId === building.facilities.Gym!.zoneId);

  it('a newly connected SALTO server starts in shadow mode', async () => {
    const [row] = await sql<{ column_default: string }[]>`
      select column_default from information_schema.columns
      where table_schema = 'integration' and table_name = 'salto_servers' and column_name = 'writes'`;
    expect(row!.column_default).toMatch(/shadow/);
  });

  it('in shadow mode a booking is planned and recorded, and SALTO is unchanged', async () => {
    const before = building.simulator.snapshot().accessLevels;
    const apt = building.apartments['501/56']!;
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    bookingId = await book(
      sql,
      { as: 'resident', userId: apt.residentId },
      {
        facilityId: building.facilities.Gym!.id,
        apartmentId: apt.id,
        startsAt: new Date(`${day}T08:00:00Z`),
        endsAt: new Date(`${day}T09:00:00Z`),
      },
    );
    const planned = await eventually(
      async () => {
        const [row] = await sql<{ state: string; reason: string | null }[]>`
          select state, reason from integration.booking_access where booking_id = ${bookingId}`;
        return row?.reason?.startsWith('Shadow mode') ? row : undefined;
      },
      30_000,
      'the booking planned in shadow mode',
    );
    expect(planned.state).toBe('scheduled');
    // SALTO holds exactly what it held: no write was sent, no timetable, no permission.
    expect(building.simulator.snapshot().accessLevels).toEqual(before);
    expect(
      building.simulator
        .requests()
        .filter((r) => !(r.requestName ?? '').endsWith('.Read') && r.requestName !== 'GetInfo'),
    ).toEqual([]);
    // The write it would have sent is in the traffic log, marked not sent.
    const shadow = await sql<{ request_name: string; request: string }[]>`
      select request_name, request from integration.salto_traffic where building_id = ${building.id} and not sent`;
    expect(shadow.map((r) => r.request_name)).toContain('SaltoDBGroup.Update');
    expect(shadow.find((r) => r.request_name === 'SaltoDBGroup.Update')!.request).toContain(
      building.facilities.Gym!.zoneId,
    );
    // Nothing is recorded as written.
    const [written] = await sql<{ n: number }[]>`
      select count(*)::int as n from integration.written_permissions where building_id = ${building.id}`;
    expect(written!.n).toBe(0);
  });

  it('status says the building is in shadow mode', async () => {
    const { stdout } = await connecxSalto('status', '--building', building.id);
    expect(stdout).toMatch(/shadow mode/);
    const json = await connecxSalto('status', '--building', building.id, '--json');
    expect(JSON.parse(json.stdout)[0].writes).toBe('shadow');
  });

  it('plan prints the permissions the next pass would add, and writes nothing', async () => {
    const requestsBefore = building.simulator.requests().length;
    const { code, stdout } = await connecxSalto('plan', '--building', building.id, '--json');
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan.writes).toBe('shadow');
    const level = plan.accessLevels.find(
      (l: { accessLevelId: string }) => l.accessLevelId === building.apartments['501/56']!.accessLevelId,
    );
    expect(level.add.map((p: { zoneId: string }) => p.zoneId)).toEqual([building.facilities.Gym!.zoneId]);
    expect(level.remove).toEqual([]);
    expect(level.timetables).toHaveLength(1);
    const sent = building.simulator.requests().slice(requestsBefore);
    expect(sent.every((r) => (r.requestName ?? '').endsWith('.Read'))).toBe(true);
    expect(gymPermission()).toBeUndefined();
    const human = await connecxSalto('plan', '--building', building.id);
    expect(human.stdout).toContain(`+ ${building.facilities.Gym!.zoneId} (timetable `);
    expect(human.stdout).toMatch(/nothing was written/);
  });

  it('a manager switches the building live and the planned permission is written', async () => {
    await actingAs(
      sql,
      { as: 'manager', userId: building.managerId },
      (tx) => tx`select public.switch_salto_live(${building.id})`,
    );
    const permission = await eventually(async () => gymPermission(), 30_000, 'the gym permission in SALTO');
    expect(permission.usePeriod).toBe(true);
    const [state] = await sql<{ state: string }[]>`
      select state from integration.booking_access where booking_id = ${bookingId}`;
    expect(['scheduled', 'active']).toContain(state!.state);
  });

  it('another manager cannot switch a building live', async () => {
    const other = await createTestBuilding(sql, { apartments: [{ label: '1/1' }], writes: 'shadow' });
    try {
      await expect(
        actingAs(
          sql,
          { as: 'manager', userId: building.managerId },
          (tx) => tx`select public.switch_salto_live(${other.id})`,
        ),
      ).rejects.toThrow(/not a manager/);
    } finally {
      await other.close();
    }
  });

  it('traffic exports the SHIP exchanges for support, without the SHIP key', async () => {
    const { code, stdout } = await connecxSalto('traffic', '--building', building.id);
    expect(code).toBe(0);
    const entries = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(entries.some((e) => e.requestName === 'SaltoDBGroup.Update' && e.sent === true && e.reply)).toBe(true);
    expect(entries.some((e) => e.sent === false)).toBe(true);
    expect(key.length).toBeGreaterThan(10);
    expect(stdout).not.toContain(key);
  });
});

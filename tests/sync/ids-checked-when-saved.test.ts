// A Zone ID or Access Control ID is checked against SALTO within seconds of being saved, bookings or
// not: the manager reads the result (salto_id_checks, unknown_salto_ids), is alerted (and emailed) with
// the closest IDs SALTO has, and the alert is resolved once the ID is fixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actingAs, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';

const sql = connect(4);
afterAll(() => sql.end());

/** Within seconds: what "checked when saved" promises, on a machine that may be busy. */
const WITHIN_MS = 10_000;

describe('SALTO IDs are checked when they are saved', { timeout: 60_000 }, () => {
  let building: TestBuilding;

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }, { name: 'Pool' }],
      apartments: [{ label: '1' }],
    });
  });

  afterAll(() => building.close());

  const checkOf = (column: 'facility_id' | 'apartment_id', id: string) =>
    actingAs(sql, { as: 'manager', userId: building.managerId }, async (tx) => {
      const [row] = await tx<
        {
          salto_id: string;
          status: string;
          message: string | null;
          suggestions: string[];
          facility_name: string | null;
        }[]
      >`select salto_id, status, message, suggestions, facility_name from public.salto_id_checks
        where ${tx(column)} = ${id}`;
      return row;
    });

  const untilChecked = (column: 'facility_id' | 'apartment_id', id: string, saltoId: string) =>
    eventually(
      async () => {
        const row = await checkOf(column, id);
        return row && row.salto_id === saltoId && row.status !== 'pending' ? row : undefined;
      },
      WITHIN_MS,
      `the check of ${saltoId}`,
    );

  it('checks the IDs of a new building without any booking', async () => {
    const gym = building.facilities.Gym!;
    const apartment = building.apartments['1']!;
    expect((await untilChecked('facility_id', gym.id, gym.zoneId)).status).toBe('known');
    expect((await untilChecked('apartment_id', apartment.id, apartment.accessLevelId)).status).toBe('known');
  });

  it('finds a Zone ID in the wrong case within seconds, offers the right one, alerts, and resolves when fixed', async () => {
    const pool = building.facilities.Pool!;
    const typed = pool.zoneId.toLowerCase();
    const savedAt = Date.now();
    await actingAs(sql, { as: 'manager', userId: building.managerId }, (tx) =>
      tx`update public.facilities set access_control_facility_id = ${typed} where id = ${pool.id}`.then(() => {}),
    );
    const check = await untilChecked('facility_id', pool.id, typed);
    expect(Date.now() - savedAt).toBeLessThan(WITHIN_MS);
    expect(check).toMatchObject({ status: 'unknown', suggestions: [pool.zoneId], facility_name: 'Pool' });
    expect(check.message).toContain(`Did you mean "${pool.zoneId}"?`);
    expect(check.message).toContain('Studio: table public.facilities, column access_control_facility_id');

    const alert = await actingAs(sql, { as: 'manager', userId: building.managerId }, async (tx) => {
      const [row] = await tx<{ id: string; summary: string; resolved_at: Date | null }[]>`
        select id, summary, resolved_at from public.access_alerts
        where building_id = ${building.id} and kind = 'unknown_salto_id' and details ->> 'zone_id' = ${typed}`;
      return row;
    });
    expect(alert).toBeDefined();
    expect(alert!.resolved_at).toBeNull();
    expect(alert!.summary).toContain(`Did you mean "${pool.zoneId}"?`);
    // The configuration email offers the same closest ID and names the portal screen and the Studio column.
    const email = await eventually(
      async () => {
        const [row] = await sql<{ status: string; text_body: string | null; html: string | null }[]>`
          select o.status, o.text_body, o.html from integration.email_outbox_alerts as oa
          join integration.email_outbox as o on o.id = oa.outbox_id
          where oa.alert_id = ${alert!.id}`;
        return row?.text_body ? row : undefined;
      },
      WITHIN_MS * 3,
      'the configuration email rendered',
    );
    expect(['sending', 'sent']).toContain(email.status);
    expect(email.text_body).toContain(`Did you mean "${pool.zoneId}"?`);
    expect(email.text_body).toContain('Settings > Facilities');
    expect(email.text_body).toContain('table public.facilities, column access_control_facility_id');
    expect(email.html).toContain(`Did you mean &quot;${pool.zoneId}&quot;?`);
    const unknown = await actingAs(
      sql,
      { as: 'manager', userId: building.managerId },
      (tx) =>
        tx<{ salto_id: string }[]>`select salto_id from public.unknown_salto_ids where building_id = ${building.id}`,
    );
    expect(unknown.map((u) => u.salto_id)).toEqual([typed]);

    await actingAs(sql, { as: 'manager', userId: building.managerId }, (tx) =>
      tx`update public.facilities set access_control_facility_id = ${pool.zoneId} where id = ${pool.id}`.then(() => {}),
    );
    const [resolved] = await sql<{ resolved_at: Date | null; resolution: string | null }[]>`
      select resolved_at, resolution from integration.alerts where id = ${alert!.id}`;
    expect(resolved?.resolved_at).not.toBeNull();
    expect(resolved?.resolution).toBe(`The Zone ID was changed to "${pool.zoneId}".`);
    expect((await untilChecked('facility_id', pool.id, pool.zoneId)).status).toBe('known');
  });

  it('finds an Access Control ID SALTO does not have within seconds', async () => {
    const apartment = building.apartments['1']!;
    const typed = `${apartment.accessLevelId}X`;
    await actingAs(sql, { as: 'manager', userId: building.managerId }, (tx) =>
      tx`update public.apartments set access_control_id = ${typed} where id = ${apartment.id}`.then(() => {}),
    );
    const check = await untilChecked('apartment_id', apartment.id, typed);
    expect(check).toMatchObject({ status: 'unknown', suggestions: [apartment.accessLevelId] });
    expect(check.message).toContain('Studio: table public.apartments, column access_control_id');
    const alerts = await sql`
      select 1 from integration.alerts
      where building_id = ${building.id} and kind = 'unknown_salto_id' and details ->> 'access_level_id' = ${typed}
        and resolved_at is null`;
    expect(alerts.length).toBe(1);
  });
});

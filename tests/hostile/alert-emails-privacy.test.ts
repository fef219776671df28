// Who receives a building's alert emails (its alert addresses) is for its managers: residents read
// their building, and must not read these addresses through it or through any other table or view
// the API serves them. Managers still read and change them, and the service role (the functions,
// the connecX backend) too (issue "Access safety", finding 10).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, actingAs, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const sql = connect(2);
let building: TestBuilding;
const secret = `night-desk-${randomBytes(4).toString('hex')}@harbourview.example`;

beforeAll(async () => {
  building = await createTestBuilding(sql, { facilities: [{ name: 'Gym' }], apartments: [{ label: '101' }] });
  await sql`update integration.email_settings set alert_emails = array[${secret}] where building_id = ${building.id}`;
});
afterAll(async () => {
  await building.close();
  await sql.end();
});

const resident = (): Actor => ({ as: 'resident', userId: building.apartments['101']!.residentId });
const manager = (): Actor => ({ as: 'manager', userId: building.managerId });

/** Every table and view of the schemas the API can reach where signed-in users may read a column named alert_emails. */
async function relationsWithAlertEmails() {
  return sql<{ relation: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as relation
    from pg_catalog.pg_attribute as a
    join pg_catalog.pg_class as c on c.oid = a.attrelid
    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    where a.attname = 'alert_emails' and not a.attisdropped and c.relkind in ('r', 'v', 'm', 'p', 'f')
      and n.nspname not in ('pg_catalog', 'information_schema')
      and has_schema_privilege('authenticated', n.oid, 'usage')
      and has_column_privilege('authenticated', c.oid, a.attnum, 'select')`;
}

describe('residents cannot read who receives alert emails', () => {
  it('a resident reads their building, but not its alert addresses, through any table or view', async () => {
    const visible = await actingAs(sql, resident(), (tx) => tx`select * from public.buildings`);
    expect(visible.map((b) => b.id)).toEqual([building.id]);
    expect(JSON.stringify(visible)).not.toContain(secret);

    const relations = await relationsWithAlertEmails();
    expect(relations.length).toBeGreaterThan(0);
    for (const { relation } of relations) {
      const rows = await actingAs(
        sql,
        resident(),
        (tx) => tx`select alert_emails::text as alert_emails from ${tx(relation.replaceAll('"', ''))}`,
      );
      expect(JSON.stringify(rows), relation).not.toContain(secret);
    }
  });

  it('a resident cannot change them either', async () => {
    const changed = await actingAs(
      sql,
      resident(),
      (tx) =>
        tx`update public.alert_email_settings set alert_emails = array['me@resident.example'] returning building_id`,
    );
    expect(changed).toHaveLength(0);
  });

  it('the manager reads and changes them, through public.alert_email_settings', async () => {
    const [settings] = await actingAs(
      sql,
      manager(),
      (tx) => tx`select alert_emails from public.alert_email_settings where building_id = ${building.id}`,
    );
    expect(settings!.alert_emails).toEqual([secret]);
    const changed = await actingAs(
      sql,
      manager(),
      (tx) => tx`update public.alert_email_settings set alert_emails = array[${secret}, 'concierge@harbourview.example']
        where building_id = ${building.id} returning alert_emails`,
    );
    expect(changed[0]!.alert_emails).toEqual([secret, 'concierge@harbourview.example']);
  });

  it('the service role reads them, and alerts still go to them', async () => {
    const [settings] = await actingAs(
      sql,
      { as: 'service_role' },
      (tx) => tx`select alert_emails from public.alert_email_settings where building_id = ${building.id}`,
    );
    expect(settings!.alert_emails).toContain(secret);
    const [row] = await sql<
      { recipients: string[] }[]
    >`select integration.alert_recipients(${building.id}) as recipients`;
    expect(row!.recipients).toContain(secret);
  });
});

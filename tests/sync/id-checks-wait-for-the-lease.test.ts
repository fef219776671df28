// The ID checker takes a building whose lease another invocation holds as soon as it is let go, not at
// the next minute's wake-up. Runs the checker in this process against the stack's database and the
// building's own simulator.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSaltoClient } from '../../src/shared/salto/index.ts';
import { createIdCheckStore, runSaltoIdChecks } from '../../src/shared/sync/id-checks.ts';
import { createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const sql = connect(4);
let building: TestBuilding;

beforeAll(async () => {
  building = await createTestBuilding(sql, { facilities: [{ name: 'Gym' }], apartments: [] });
});
afterAll(async () => {
  await building.close();
  await sql.end();
});

it('waits for a held lease, then checks', { timeout: 30_000 }, async () => {
  const gym = building.facilities.Gym!;
  const other = randomUUID();
  await sql`select integration.take_building_lease(${building.id}, ${other}, interval '1 minute')`;
  await sql`update public.facilities set access_control_facility_id = ${gym.zoneId.toLowerCase()} where id = ${gym.id}`;
  setTimeout(() => sql`select integration.release_lease(${building.id}, ${other})`.then(() => {}), 1_000);
  const started = Date.now();
  await runSaltoIdChecks({
    store: createIdCheckStore(sql),
    saltoClient: (endpoint) => createSaltoClient(endpoint),
    invocationId: randomUUID(),
    waitForLeasesMs: 10_000,
  });
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  const [check] = await sql<{ status: string; suggestions: string[] }[]>`
    select status, suggestions from integration.salto_id_checks where facility_id = ${gym.id}`;
  expect(check).toEqual({ status: 'unknown', suggestions: [gym.zoneId] });
});

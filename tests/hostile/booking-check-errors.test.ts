// The booking check runs with the table owner's rights, so its refusals must not tell a signed-in
// user more than they can read: a facility or an apartment of another building, and an ID that
// exists nowhere, get the same answer ("No such facility in your building." / "No such apartment in
// your building."), with the same code and nothing else, so nobody learns which building an ID
// belongs to or whether it exists (issue "Access safety", finding 11).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, actingAs, book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const sql = connect(2);
let home: TestBuilding;
let other: TestBuilding;

beforeAll(async () => {
  home = await createTestBuilding(sql, {
    facilities: [{ name: 'Gym' }],
    apartments: [{ label: '101' }, { label: '102' }],
  });
  other = await createTestBuilding(sql, { facilities: [{ name: 'Pool' }], apartments: [{ label: '201' }] });
});
afterAll(async () => {
  await home.close();
  await other.close();
  await sql.end();
});

const day = Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 86_400_000;
const times = { starts_at: new Date(day + 3_600_000), ends_at: new Date(day + 7_200_000) };

interface Refusal {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  constraint_name?: string;
  column_name?: string;
}

async function insertAs(actor: Actor, facilityId: string, apartmentId: string) {
  return actingAs(
    sql,
    actor,
    (tx) => tx`insert into public.bookings ${tx({ facility_id: facilityId, apartment_id: apartmentId, ...times })}`,
  ).then(
    () => undefined,
    (e: Refusal) => e,
  );
}

/** What a refusal tells the caller (what PostgREST passes on: code, message, details, hint). */
const told = (e: Refusal | undefined) => e && { code: e.code, message: e.message, detail: e.detail, hint: e.hint };

const actors = (): [string, Actor][] => [
  ['a resident', { as: 'resident', userId: home.apartments['101']!.residentId }],
  ['a manager', { as: 'manager', userId: home.managerId }],
];

describe("the booking check does not reveal other buildings' IDs", () => {
  it("another building's facility and a made-up facility ID get the same answer", async () => {
    for (const [who, actor] of actors()) {
      const otherBuildings = told(await insertAs(actor, other.facilities.Pool!.id, home.apartments['101']!.id));
      const madeUp = told(await insertAs(actor, randomUUID(), home.apartments['101']!.id));
      expect(otherBuildings, who).toEqual(madeUp);
      expect(otherBuildings?.message, who).toBe('No such facility in your building.');
      expect(JSON.stringify(otherBuildings), who).not.toContain(other.id);
    }
  });

  it("another building's apartment and a made-up apartment ID get the same answer", async () => {
    for (const [who, actor] of actors()) {
      const otherBuildings = told(await insertAs(actor, home.facilities.Gym!.id, other.apartments['201']!.id));
      const madeUp = told(await insertAs(actor, home.facilities.Gym!.id, randomUUID()));
      expect(otherBuildings, who).toEqual(madeUp);
      expect(otherBuildings?.message, who).toBe('No such apartment in your building.');
      expect(JSON.stringify(otherBuildings), who).not.toContain(other.id);
    }
  });

  it("a resident learns nothing of a neighbour's apartment either", async () => {
    const resident: Actor = { as: 'resident', userId: home.apartments['101']!.residentId };
    const neighbour = told(await insertAs(resident, home.facilities.Gym!.id, home.apartments['102']!.id));
    const madeUp = told(await insertAs(resident, home.facilities.Gym!.id, randomUUID()));
    expect(neighbour).toEqual(madeUp);
  });

  it("moving a booking to another building's facility is answered the same way", async () => {
    const manager: Actor = { as: 'manager', userId: home.managerId };
    const bookingId = await book(sql, manager, {
      facilityId: home.facilities.Gym!.id,
      apartmentId: home.apartments['101']!.id,
      startsAt: times.starts_at,
      endsAt: times.ends_at,
    });
    const move = (facilityId: string) =>
      actingAs(
        sql,
        manager,
        (tx) => tx`update public.bookings set facility_id = ${facilityId} where id = ${bookingId}`,
      ).then(
        () => undefined,
        (e: Refusal) => told(e),
      );
    const otherBuildings = await move(other.facilities.Pool!.id);
    expect(otherBuildings).toEqual(await move(randomUUID()));
    expect(otherBuildings?.message).toBe('No such facility in your building.');
    expect(JSON.stringify(otherBuildings)).not.toContain(other.id);
    expect(JSON.stringify(otherBuildings)).not.toContain(home.id);
  });

  it('the connecX backend, which sees every building, still gets the precise reason', async () => {
    const crossed = await insertAs({ as: 'service_role' }, other.facilities.Pool!.id, home.apartments['101']!.id);
    expect(crossed?.message).toBe('The facility and the apartment of a booking must be in the same building.');
    const id = randomUUID();
    expect((await insertAs({ as: 'service_role' }, id, home.apartments['101']!.id))?.message).toBe(
      `There is no facility with id ${id}.`,
    );
  });
});

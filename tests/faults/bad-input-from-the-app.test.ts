// Bad bookings and IDs from the connecX app end in database errors a developer or manager can act on
// (what is wrong, with the value), never in a half-written booking or a stuck work row.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actingAs, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
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

const tomorrow = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 86_400_000);
const later = (hours: number) => new Date(tomorrow.getTime() + hours * 3_600_000);

async function refused(work: Promise<unknown>): Promise<{ message: string; code: string }> {
  const error = (await work.then(
    () => undefined,
    (e: unknown) => e,
  )) as { message?: string; code?: string } | undefined;
  expect(error, 'the database refused it').toBeDefined();
  return { message: error!.message ?? '', code: error!.code ?? '' };
}

describe('bad bookings and IDs from the app end in clear database errors', () => {
  const manager = () => ({ as: 'manager' as const, userId: home.managerId });
  const insertBooking = (values: Record<string, unknown>) =>
    actingAs(sql, manager(), (tx) => tx`insert into public.bookings ${tx(values as never)}`);

  it('a booking that ends before it starts', async () => {
    const gym = home.facilities.Gym!;
    const apt = home.apartments['101']!;
    const { message, code } = await refused(
      insertBooking({ facility_id: gym.id, apartment_id: apt.id, starts_at: later(2), ends_at: later(1) }),
    );
    expect(code).toBe('23514');
    expect(message).toBe('A booking must end after it starts.');
  });

  it('a booking with an unknown status', async () => {
    const { message, code } = await refused(
      insertBooking({
        facility_id: home.facilities.Gym!.id,
        apartment_id: home.apartments['101']!.id,
        starts_at: later(1),
        ends_at: later(2),
        status: 'maybe',
      }),
    );
    expect(code).toBe('23514');
    expect(message).toBe("'maybe' is not a booking status.");
  });

  it("a booking of another building's facility, or of a facility that does not exist", async () => {
    const crossed = await refused(
      insertBooking({
        facility_id: other.facilities.Pool!.id,
        apartment_id: home.apartments['101']!.id,
        starts_at: later(1),
        ends_at: later(2),
      }),
    );
    expect(crossed.message).toBe('No such facility in your building.');
    const missing = await refused(
      insertBooking({
        facility_id: randomUUID(),
        apartment_id: home.apartments['101']!.id,
        starts_at: later(1),
        ends_at: later(2),
      }),
    );
    expect(missing).toEqual(crossed);
  });

  it('IDs that are not IDs', async () => {
    const { message, code } = await refused(
      insertBooking({
        facility_id: 'gym',
        apartment_id: home.apartments['101']!.id,
        starts_at: later(1),
        ends_at: later(2),
      }),
    );
    expect(code).toBe('22P02');
    expect(message).toMatch(/invalid input syntax for type uuid: "gym"/);
    const dates = await refused(
      actingAs(
        sql,
        manager(),
        (tx) => tx`
        insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
        values (${home.facilities.Gym!.id}, ${home.apartments['101']!.id}, ${'tomorrow-ish'}::text::timestamptz, ${later(2)})`,
      ),
    );
    expect(dates.message).toMatch(/invalid input syntax for type timestamp with time zone/);
  });

  it('Access Control IDs and Zone IDs SALTO cannot hold: too long, blank-edged, or taken in the building', async () => {
    const asManager = (work: (tx: typeof sql) => Promise<unknown>) => actingAs(sql, manager(), work);
    const long = await refused(
      asManager(
        (tx) =>
          tx`update public.apartments set access_control_id = ${'X'.repeat(33)} where id = ${home.apartments['101']!.id}`,
      ),
    );
    expect(long.code).toBe('23514');
    expect(long.message).toMatch(/cannot be used: it is 33 characters long; SALTO IDs hold at most 32/);
    const padded = await refused(
      asManager(
        (tx) =>
          tx`update public.facilities set access_control_facility_id = ' GYM ' where id = ${home.facilities.Gym!.id}`,
      ),
    );
    expect(padded.message).toMatch(/cannot be used: it starts or ends with a space/);
    const taken = await refused(
      asManager(
        (tx) =>
          tx`update public.apartments set access_control_id = ${home.apartments['102']!.accessLevelId} where id = ${home.apartments['101']!.id}`,
      ),
    );
    expect(taken.code).toBe('23505');
    expect(taken.message).toMatch(/is already used by apartment 102 of this building/);
  });

  it('none of it left a booking, an access state or work behind', async () => {
    const [row] = await sql`
      select
        (select count(*)::int from public.bookings where building_id = ${home.id}) as bookings,
        (select count(*)::int from integration.booking_access where building_id = ${home.id}) as states,
        (select count(*)::int from integration.access_level_work where building_id = ${home.id}) as work`;
    expect(row).toEqual({ bookings: 0, states: 0, work: 0 });
  });
});

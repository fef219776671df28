// What the fault suite shares: a burst of bookings as the app writes them (with double bookings that
// raise alerts), waiting for the pipeline to settle, and the checks every fault must pass afterwards:
// SALTO holds exactly what the bookings ask for, nothing was written twice for the same state, no
// permanent permission was lost, and every alert was emailed exactly once.
import type { Sql } from 'postgres';
import { expect } from 'vitest';
import { captureUrl, sendAlertsNow } from '../alerts/helpers.ts';
import { book, createTestBuilding, endBackoff, syncNow, type TestBuilding } from '../support/fixtures.ts';
import { eventually, stackEnv } from '../support/stack.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const { functionsUrl, functionsSecret } = stackEnv();

export const labels = (n: number) => Array.from({ length: n }, (_, i) => ({ label: String(101 + i) }));

export async function buildings(
  sql: Sql,
  count: number,
  apartments: number,
  facilities: number,
  timeZone = 'Australia/Sydney',
) {
  const names = ['Gym', 'Pool', 'Sauna', 'BBQ', 'Cinema', 'Library'].slice(0, facilities);
  return Promise.all(
    Array.from({ length: count }, () =>
      createTestBuilding(sql, {
        timeZone,
        facilities: names.map((name) => ({ name })),
        apartments: labels(apartments),
      }),
    ),
  );
}

export interface Burst {
  /** Every booking made, by building. */
  bookingIds: string[];
  /** The second bookings of a pair, which wait and raise a double-booking alert. */
  doubleBookingIds: string[];
}

/**
 * Books every apartment of every building into every facility once, one transaction per booking as
 * the app writes them (a few connections at once), plus `doubles` second bookings per building a week
 * later (double bookings: they wait, and their manager is emailed). Windows fall on whole hours of
 * the next days, at most 40 distinct timetables per building. `during(i)` runs after the i-th booking.
 */
export async function burst(
  sql: Sql,
  targets: TestBuilding[],
  {
    doubles = 0,
    connections = 4,
    during,
  }: { doubles?: number; connections?: number; during?: (done: number) => Promise<void> | void } = {},
): Promise<Burst> {
  const base = Math.ceil(Date.now() / DAY) * DAY + DAY;
  const jobs: { building: TestBuilding; facilityId: string; apartmentId: string; startsAt: Date; double: boolean }[] =
    [];
  for (const building of targets) {
    let k = 0;
    const pairs: { facilityId: string; apartmentId: string; startsAt: Date }[] = [];
    for (const apartment of Object.values(building.apartments)) {
      for (const facility of Object.values(building.facilities)) {
        const startsAt = new Date(base + (k % 4) * DAY + (k % 10) * HOUR);
        k++;
        pairs.push({ facilityId: facility.id, apartmentId: apartment.id, startsAt });
        jobs.push({ building, ...pairs.at(-1)!, double: false });
      }
    }
    for (let i = 0; i < doubles && i < pairs.length; i++) {
      const pair = pairs[Math.floor((i * pairs.length) / doubles)]!;
      jobs.push({
        building,
        facilityId: pair.facilityId,
        apartmentId: pair.apartmentId,
        startsAt: new Date(pair.startsAt.getTime() + 7 * DAY),
        double: true,
      });
    }
  }
  const result: Burst = { bookingIds: [], doubleBookingIds: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let job = jobs[next++]; job; job = jobs[next++]) {
      const id = await book(
        sql,
        { as: 'service_role' },
        {
          facilityId: job.facilityId,
          apartmentId: job.apartmentId,
          startsAt: job.startsAt,
          endsAt: new Date(job.startsAt.getTime() + HOUR),
        },
      );
      result.bookingIds.push(id);
      if (job.double) result.doubleBookingIds.push(id);
      done++;
      await during?.(done);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return result;
}

/** Bookings not yet in their final state (everything active, double bookings waiting), and pending work. */
async function unsettled(sql: Sql, targets: TestBuilding[], burst: Burst) {
  // A booking whose change is not folded yet has no access state at all: it is not settled either.
  const [row] = await sql<{ states: number; work: number }[]>`
    select
      (select count(*)::int from unnest(${burst.bookingIds}::uuid[]) as b (id)
        left join integration.booking_access as ba on ba.booking_id = b.id
        where ba.state is distinct from case when b.id = any (${burst.doubleBookingIds}::uuid[]) then 'waiting' else 'active' end) as states,
      (select count(*)::int from integration.access_level_work where building_id = any (${targets.map((b) => b.id)}::uuid[]))
        + (select count(*)::int from integration.booking_changes where building_id = any (${targets.map((b) => b.id)}::uuid[])) as work`;
  return row!;
}

/**
 * Waits until the pipeline has settled, asking salto-sync for a pass now and then as the minute job
 * would. `nudge: false` relies on the wake-ups alone; `skipBackoff` lets retries fall due at once.
 */
export async function settle(
  sql: Sql,
  targets: TestBuilding[],
  burst: Burst,
  { timeoutMs = 60_000, nudge = true, skipBackoff = false } = {},
) {
  await eventually(
    async () => {
      const left = await unsettled(sql, targets, burst);
      if (left.states === 0 && left.work === 0) return true;
      // Time moved rather than waited for: the retry backoff (up to ten minutes) has run out.
      if (skipBackoff) {
        await endBackoff(
          sql,
          targets.map((b) => b.id),
        );
      }
      if (nudge) await syncNow(functionsUrl, functionsSecret).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
      return undefined;
    },
    timeoutMs,
    'every booking in its final state and no work left',
  ).catch(async (error: Error) => {
    const states = await sql`
      select state, reason, count(*)::int as n from integration.booking_access
      where booking_id = any (${burst.bookingIds}::uuid[]) group by state, reason`;
    const work = await sql`
      select access_level_id, attempts, not_before, last_error from integration.access_level_work
      where building_id = any (${targets.map((b) => b.id)}::uuid[]) limit 5`;
    const leases =
      await sql`select * from integration.building_leases where building_id = any (${targets.map((b) => b.id)}::uuid[])`;
    throw new Error(
      `${error.message}: states ${JSON.stringify(states)}, work ${JSON.stringify(work)}, leases ${JSON.stringify(leases)}`,
    );
  });
}

/**
 * SALTO holds exactly what the bookings ask for: for every access level the permanent permissions as
 * seeded, one permission per facility whose door opens during the booking and not a minute before or
 * after, nothing else; and no access level was written twice with the same list.
 */
export async function expectSaltoExactlyAsDesired(
  sql: Sql,
  building: TestBuilding,
  { repeatedWrites = 0 }: { repeatedWrites?: number } = {},
) {
  const rows = await sql<{ access_level_id: string; zone_id: string; starts_at: Date; ends_at: Date }[]>`
    select a.access_control_id as access_level_id, f.access_control_facility_id as zone_id, b.starts_at, b.ends_at
    from integration.booking_access as ba
    join public.bookings as b on b.id = ba.booking_id
    join public.apartments as a on a.id = b.apartment_id
    join public.facilities as f on f.id = b.facility_id
    where ba.building_id = ${building.id} and ba.state = 'active'`;
  type Row = (typeof rows)[number];
  const expected = new Map<string, Row[]>();
  for (const row of rows) expected.set(row.access_level_id, [...(expected.get(row.access_level_id) ?? []), row]);

  const snapshot = building.simulator.snapshot();
  for (const apartment of Object.values(building.apartments)) {
    const level = snapshot.accessLevels.find((l) => l.id === apartment.accessLevelId)!;
    const active = expected.get(apartment.accessLevelId) ?? [];
    expect(level.zonePermissions.map((p) => p.zoneId).sort()).toEqual(
      [...building.permanentZones, ...active.map((r) => r.zone_id)].sort(),
    );
    for (const zone of building.permanentZones) {
      expect(
        level.zonePermissions.find((p) => p.zoneId === zone),
        'a permanent permission changed',
      ).toMatchObject({ timetableId: 0, usePeriod: false });
    }
    for (const booking of active) {
      const mid = new Date((booking.starts_at.getTime() + booking.ends_at.getTime()) / 2);
      expect(
        building.simulator.mayOpen(apartment.accessLevelId, booking.zone_id, mid),
        'door closed during the booking',
      ).toBe(true);
      expect(
        building.simulator.mayOpen(
          apartment.accessLevelId,
          booking.zone_id,
          new Date(booking.starts_at.getTime() - 60_000),
        ),
        'door open before',
      ).toBe(false);
      expect(
        building.simulator.mayOpen(
          apartment.accessLevelId,
          booking.zone_id,
          new Date(booking.ends_at.getTime() + 60_000),
        ),
        'door open after',
      ).toBe(false);
    }
  }
  expectNoDuplicateWrites(building, repeatedWrites);
}

/**
 * No access level was written twice with the same list (a repeated write means a lost outcome), but
 * for `allowed` repeats: a write whose outcome was being recorded when PostgreSQL restarted is lost
 * with that transaction and written again, which is harmless (the same list).
 */
export function expectNoDuplicateWrites(building: TestBuilding, allowed = 0) {
  const seen = new Set<string>();
  let repeats = 0;
  for (const write of building.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).filter((r) => r.applied)) {
    if (seen.has(write.request)) repeats++;
    seen.add(write.request);
  }
  expect(repeats, 'the same access level list written twice').toBeLessThanOrEqual(allowed);
}

interface CapturedMessage {
  to: string[];
  idempotencyKey: string | null;
}

/**
 * Every alert of the building was emailed exactly once: one double-booking alert per double booking,
 * each reported by exactly one outbox email (alone, or in a digest of the building's alerts of its
 * kind), each email sent, and the mail capture holding exactly one message per email.
 */
export async function expectAlertsEmailedOnce(sql: Sql, building: TestBuilding, doubleBookingIds: string[]) {
  const alerts = await sql<{ id: string; kind: string; booking_id: string }[]>`
    select id, kind, booking_id from integration.alerts where building_id = ${building.id}`;
  const doubles = alerts
    .filter((a) => a.kind === 'double_booking')
    .map((a) => a.booking_id)
    .sort();
  const mine = await sql<{ id: string }[]>`
    select id from public.bookings where building_id = ${building.id} and id = any (${doubleBookingIds}::uuid[])`;
  expect(doubles, 'one double-booking alert per double booking').toEqual(mine.map((r) => r.id).sort());

  const [manager] = await sql<{ email: string }[]>`select email from auth.users where id = ${building.managerId}`;
  let last: unknown;
  const outbox = await eventually(
    async () => {
      const rows = await sql<
        {
          alerts: number;
          status: string;
          idempotency_key: string;
          last_error: string | null;
          leased_until: Date | null;
        }[]
      >`
      select count(l.alert_id)::integer as alerts, o.status, o.idempotency_key, o.last_error, o.leased_until
      from integration.email_outbox as o
      join integration.email_outbox_alerts as l on l.outbox_id = o.id
      where o.building_id = ${building.id}
      group by o.id`;
      last = rows.filter((r) => r.status !== 'sent');
      const reported = rows.reduce((sum, r) => sum + r.alerts, 0);
      if (reported === alerts.length && rows.every((r) => r.status === 'sent')) return rows;
      // A building's next digest of a kind waits a minute after the last one (tests/hostile/alert-floods
      // shows that); here only "each alert emailed once" matters, so it is due now.
      await sql`
        update integration.email_outbox set next_attempt_at = now()
        where building_id = ${building.id} and status = 'pending' and next_attempt_at > now()`;
      await sendAlertsNow().catch(() => undefined);
      return undefined;
    },
    30_000,
    'every alert email sent',
  ).catch((error: Error) => {
    throw new Error(`${error.message}; ${alerts.length} alerts, not sent: ${JSON.stringify(last)}`);
  });
  const messages = await eventually(
    async () => {
      const response = await fetch(`${captureUrl}/_capture/messages?to=${encodeURIComponent(manager!.email)}`);
      const found = (await response.json()) as CapturedMessage[];
      return found.length >= outbox.length ? found : undefined;
    },
    10_000,
    'the emails in the capture',
  );
  expect(messages.map((m) => m.idempotencyKey).sort(), 'exactly one message per email').toEqual(
    outbox.map((r) => r.idempotency_key).sort(),
  );
}

/** The bookings' reasons and the work rows' last errors are text a person can read. */
export function expectReadable(text: string | null | undefined) {
  expect(text).toBeTruthy();
  expect(text!.length).toBeLessThan(2000);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the check is that no control character reached the text
  expect(text).not.toMatch(/[\u0000-\u0008\u000e-\u001f\ufffd]/);
}

export async function closeAll(targets: TestBuilding[]) {
  for (const building of targets) await building.close();
}

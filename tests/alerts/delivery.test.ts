// Delivery through the real Resend SDK against the local capture, which answers like Resend: failures
// are retried with the same idempotency key (honouring retry-after), permanent refusals are recorded,
// and a burst stays within the rate limit.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';
import { at, failNext, localDay, messagesTo, requestsTo, sendAlertsNow, waitForMessages } from './helpers.ts';

const sql = connect(4);

/** A building whose alerts go to one fresh address only (its manager has no email), and a double booking in it. */
async function doubleBookingIn(building: TestBuilding, label: string) {
  const tz = building.timeZone;
  const apt = building.apartments[label]!;
  const gym = building.facilities.Gym!;
  const resident = { as: 'resident' as const, userId: apt.residentId };
  const [d1, d2] = [localDay(tz, 3), localDay(tz, 10)];
  await book(sql, resident, {
    facilityId: gym.id,
    apartmentId: apt.id,
    startsAt: at(tz, `${d1}T07:00:00`),
    endsAt: at(tz, `${d1}T08:00:00`),
  });
  return book(sql, resident, {
    facilityId: gym.id,
    apartmentId: apt.id,
    startsAt: at(tz, `${d2}T07:00:00`),
    endsAt: at(tz, `${d2}T08:00:00`),
  });
}

async function outboxOf(bookingId: string) {
  const [row] = await sql<{ status: string; attempts: number; last_error: string | null }[]>`
    select o.status, o.attempts, o.last_error from integration.email_outbox as o
    join integration.email_outbox_alerts as l on l.outbox_id = o.id
    join integration.alerts as a on a.id = l.alert_id where a.booking_id = ${bookingId} and a.kind = 'double_booking'`;
  return row;
}

describe('alert email delivery', { timeout: 90_000 }, () => {
  let building: TestBuilding;
  let inbox: string;

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }],
      apartments: ['1/1', '1/2', '1/3', '2/1', '2/2', '2/3', '2/4', '2/5', '2/6'].map((label) => ({ label })),
    });
    inbox = `alerts-${randomBytes(4).toString('hex')}@example.test`;
    await sql`update auth.users set email = null where id = ${building.managerId}`;
    await sql`update integration.email_settings set alert_emails = array[${inbox}] where building_id = ${building.id}`;
  });

  afterAll(async () => {
    await building.close();
    await sql.end();
  });

  it('Resend answering 429, then 500, then 200: the email arrives once', async () => {
    await failNext(inbox, [429, 500], { retryAfter: 1 });
    const waiting = await doubleBookingIn(building, '1/1');
    const [email] = await waitForMessages(inbox, 1, 30_000);
    expect((await requestsTo(inbox)).map((r) => r.status)).toEqual([429, 500, 200]);
    const keys = new Set((await requestsTo(inbox)).map((r) => r.idempotencyKey));
    expect(keys.size).toBe(1);
    expect(email!.idempotencyKey).toBe([...keys][0]);
    await eventually(
      async () => ((await outboxOf(waiting))?.status === 'sent' ? true : undefined),
      10_000,
      'outbox sent',
    );
    expect(await outboxOf(waiting)).toMatchObject({ status: 'sent', attempts: 3, last_error: null });
    expect(await messagesTo(inbox)).toHaveLength(1);
  });

  it('a 500 after Resend had accepted the email: the retry under the same key does not send it twice', async () => {
    await failNext(inbox, [500], { afterStore: true });
    const before = (await messagesTo(inbox)).length;
    const waiting = await doubleBookingIn(building, '1/2');
    await eventually(
      async () => ((await outboxOf(waiting))?.status === 'sent' ? true : undefined),
      30_000,
      'outbox sent',
    );
    expect(await messagesTo(inbox)).toHaveLength(before + 1);
    expect(await outboxOf(waiting)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('a permanent refusal (422) is recorded with the reason and not retried; the alert stays', async () => {
    await failNext(inbox, [422]);
    const before = (await messagesTo(inbox)).length;
    const waiting = await doubleBookingIn(building, '1/3');
    const row = await eventually(
      async () => {
        const r = await outboxOf(waiting);
        return r?.status === 'failed' ? r : undefined;
      },
      20_000,
      'outbox failed',
    );
    expect(row.attempts).toBe(1);
    expect(row.last_error).toMatch(/HTTP 422 validation_error.*will not be retried/);
    await sendAlertsNow();
    expect(await messagesTo(inbox)).toHaveLength(before);
    const [alert] = await sql`select kind from integration.alerts where booking_id = ${waiting}`;
    expect(alert).toEqual({ kind: 'double_booking' });
  });

  it('a burst of six double bookings in one transaction: one email that counts and lists all six, each with its own action link', async () => {
    const before = (await requestsTo(inbox)).length;
    const delivered = (await messagesTo(inbox)).length;
    const tz = building.timeZone;
    const gym = building.facilities.Gym!;
    const [d1, d2] = [localDay(tz, 4), localDay(tz, 11)];
    await sql.begin(async (tx) => {
      for (const label of ['2/1', '2/2', '2/3', '2/4', '2/5', '2/6']) {
        const apt = building.apartments[label]!;
        for (const d of [d1, d2]) {
          await tx`insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
            values (${gym.id}, ${apt.id}, ${at(tz, `${d}T09:00:00`)}, ${at(tz, `${d}T10:00:00`)})`;
        }
      }
    });
    await waitForMessages(inbox, delivered + 1, 30_000);
    // Nothing else follows.
    await new Promise((r) => setTimeout(r, 3000));
    const burst = (await messagesTo(inbox)).slice(delivered);
    expect(burst).toHaveLength(1);
    const digest = burst[0]!;
    expect(digest.subject).toMatch(/^6 double bookings at Test building /);
    for (const label of ['2/1', '2/2', '2/3', '2/4', '2/5', '2/6']) {
      expect(digest.text).toContain(`Apartment ${label} · Gym`);
    }
    expect(new Set(digest.text.match(/#token=[\w.-]+/g)).size).toBe(6);
    expect(digest.text).not.toMatch(/and \d+ more/i);
    expect((await requestsTo(inbox)).slice(before).map((r) => r.status)).toEqual([200]);
  });
});

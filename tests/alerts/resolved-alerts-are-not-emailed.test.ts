// An email reports only problems that last. A double booking emailed during the quiet hours waits
// for the morning; if its waiting booking is cancelled meanwhile the alert is resolved, and the email
// does not tell managers about it as an open problem: it lists only the alerts still open, or is not
// sent at all (skipped, with the reason) when none is left.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';
import { at, localDay, messagesTo, sendAlertsNow, spokenDate } from './helpers.ts';

const sql = connect(4);

describe('resolved alerts are not emailed as open problems', { timeout: 90_000 }, () => {
  let building: TestBuilding;
  let inbox: string;

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      timeZone: 'Australia/Sydney',
      facilities: [{ name: 'Gym' }],
      apartments: [{ label: '7/1' }, { label: '8/1' }, { label: '9/1' }],
    });
    // One fresh address only, and quiet hours around the present: double-booking emails wait.
    inbox = `resolved-${randomBytes(4).toString('hex')}@example.test`;
    await sql`update auth.users set email = null where id = ${building.managerId}`;
    await sql`
      update integration.email_settings set alert_emails = array[${inbox}],
        quiet_hours_start = ((now() at time zone ${building.timeZone}) - interval '1 hour')::time,
        quiet_hours_end = ((now() at time zone ${building.timeZone}) + interval '1 hour')::time
      where building_id = ${building.id}`;
  });

  afterAll(async () => {
    await building.close();
    await sql.end();
  });

  /** Two bookings of the gym a week apart by the apartment: the second waits (a double booking). */
  async function doubleBooking(label: string, hour: number) {
    const tz = building.timeZone;
    const apt = building.apartments[label]!;
    const resident = { as: 'resident' as const, userId: apt.residentId };
    const [d1, d2] = [localDay(tz, 2), localDay(tz, 9)];
    const hh = String(hour).padStart(2, '0');
    const next = String(hour + 1).padStart(2, '0');
    await book(sql, resident, {
      facilityId: building.facilities.Gym!.id,
      apartmentId: apt.id,
      startsAt: at(tz, `${d1}T${hh}:00:00`),
      endsAt: at(tz, `${d1}T${next}:00:00`),
    });
    const waiting = await book(sql, resident, {
      facilityId: building.facilities.Gym!.id,
      apartmentId: apt.id,
      startsAt: at(tz, `${d2}T${hh}:00:00`),
      endsAt: at(tz, `${d2}T${next}:00:00`),
    });
    return { waiting, startsAt: at(tz, `${d2}T${hh}:00:00`) };
  }

  /** The held email reporting the building's double bookings, once both alerts are in it. */
  const heldEmail = (alerts: number) =>
    eventually(
      async () => {
        const rows = await sql<{ id: string; status: string; reported: number }[]>`
          select o.id, o.status, (select count(*)::int from integration.email_outbox_alerts as l where l.outbox_id = o.id) as reported
          from integration.email_outbox as o
          where o.building_id = ${building.id} and o.kind = 'double_booking'`;
        return rows.length === 1 && rows[0]!.reported === alerts ? rows[0] : undefined;
      },
      20_000,
      `a held email reporting ${alerts} double booking(s)`,
    );

  const cancelAndFold = async (bookingId: string) => {
    await sql`update public.bookings set status = 'cancelled' where id = ${bookingId}`;
    await sql`select integration.apply_booking_changes(null, ${building.id})`;
    const [alert] = await sql<{ resolution: string | null }[]>`
      select resolution from integration.alerts where kind = 'double_booking' and booking_id = ${bookingId}`;
    expect(alert?.resolution).toBe('The waiting booking was cancelled.');
  };

  /** The quiet hours end: the held email is due. */
  const morning = async (outboxId: string) => {
    await sql`update integration.email_settings set quiet_hours_start = null, quiet_hours_end = null where building_id = ${building.id}`;
    await sql`update integration.email_outbox set next_attempt_at = now() where id = ${outboxId}`;
    await sendAlertsNow();
  };

  it('a digest held by the quiet hours lists only the double booking still open', async () => {
    const first = await doubleBooking('7/1', 18);
    const second = await doubleBooking('8/1', 18);
    const held = await heldEmail(2);
    expect(held!.status).toBe('pending');

    await cancelAndFold(first.waiting);
    await morning(held!.id);

    const [email] = await messagesTo(inbox);
    expect(email).toBeDefined();
    // The one open alert's own email, not a digest of two.
    expect(email!.subject).toBe(
      `Double booking: Gym, apartment 8/1, ${spokenDate(second.startsAt, building.timeZone)}`,
    );
    expect(email!.text).not.toContain('7/1');
    expect(email!.text).not.toMatch(/2 double bookings/);
  });

  it('an email whose every alert was resolved first is not sent, and says why', async () => {
    await sql`
      update integration.email_settings
      set quiet_hours_start = ((now() at time zone ${building.timeZone}) - interval '1 hour')::time,
        quiet_hours_end = ((now() at time zone ${building.timeZone}) + interval '1 hour')::time
      where building_id = ${building.id}`;
    const before = (await messagesTo(inbox)).length;
    const { waiting } = await doubleBooking('9/1', 20);
    const [held] = await eventually(
      async () => {
        const rows = await sql<{ id: string; status: string }[]>`
          select o.id, o.status from integration.email_outbox as o
          join integration.email_outbox_alerts as l on l.outbox_id = o.id
          join integration.alerts as a on a.id = l.alert_id
          where a.booking_id = ${waiting} and a.kind = 'double_booking'`;
        return rows.length ? rows : undefined;
      },
      20_000,
      'the held email',
    );
    expect(held!.status).toBe('pending');

    await cancelAndFold(waiting);
    await morning(held!.id);

    const [row] = await sql<{ status: string; last_error: string | null; subject: string | null }[]>`
      select status, last_error, subject from integration.email_outbox where id = ${held!.id}`;
    expect(row).toEqual({
      status: 'skipped',
      last_error: 'Not sent: the alert it reports was resolved before it was sent (public.access_alerts: resolution).',
      subject: null,
    });
    expect(await messagesTo(inbox)).toHaveLength(before);
  });
});

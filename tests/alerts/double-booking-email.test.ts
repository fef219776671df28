// End to end: a double booking written to the database raises an alert in the same transaction, the
// outbox wakes send-alerts, which renders the React Email template and sends it through the real
// Resend SDK to the local capture. Nothing of our own code is mocked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';
import { actionLinkIn, at, localDay, managerEmail, messagesTo, spokenDate, waitForMessages } from './helpers.ts';

const sql = connect(4);

describe('the double-booking email', { timeout: 60_000 }, () => {
  let building: TestBuilding;
  let manager: string;

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      timeZone: 'Australia/Sydney',
      facilities: [{ name: 'Gym', beforeMinutes: 10, afterMinutes: 5 }],
      apartments: [{ label: '501/56' }],
    });
    manager = await managerEmail(sql, building);
    await sql`update integration.email_settings set alert_emails = array['concierge@example.test'] where building_id = ${building.id}`;
  });

  afterAll(async () => {
    await building.close();
    await sql.end();
  });

  it("today's and next week's gym booking: the manager gets exactly one email with both bookings' local times and when the second is written", async () => {
    const tz = building.timeZone;
    const apt = building.apartments['501/56']!;
    const gym = building.facilities.Gym!;
    const resident = { as: 'resident' as const, userId: apt.residentId };
    const firstDay = localDay(tz, 2);
    const secondDay = localDay(tz, 9);
    const firstStart = at(tz, `${firstDay}T18:00:00`);
    const secondStart = at(tz, `${secondDay}T18:00:00`);
    await book(sql, resident, {
      facilityId: gym.id,
      apartmentId: apt.id,
      startsAt: firstStart,
      endsAt: at(tz, `${firstDay}T19:00:00`),
    });
    const waiting = await book(sql, resident, {
      facilityId: gym.id,
      apartmentId: apt.id,
      startsAt: secondStart,
      endsAt: at(tz, `${secondDay}T19:00:00`),
    });

    const [email] = await waitForMessages(manager, 1);
    const zone = (d: Date) =>
      new Intl.DateTimeFormat('en-AU', { timeZone: tz, timeZoneName: 'short' })
        .formatToParts(d)
        .find((p) => p.type === 'timeZoneName')!.value;
    const holder = `${spokenDate(firstStart, tz)}, 18:00–19:00 ${zone(firstStart)}`;
    const second = `${spokenDate(secondStart, tz)}, 18:00–19:00 ${zone(secondStart)}`;
    // Written when the first booking's access ends: 19:00 plus the gym's 5-minute after-buffer.
    const writtenAt = `${spokenDate(firstStart, tz)}, 19:05 ${zone(firstStart)}`;

    expect(email!.to).toEqual(['concierge@example.test', manager].sort());
    expect(email!.subject).toBe(`Double booking: Gym, apartment 501/56, ${spokenDate(secondStart, tz)}`);
    for (const body of [email!.html, email!.text]) {
      expect(body).toContain(holder);
      expect(body).toContain(second);
      expect(body).toContain(writtenAt);
      expect(body).toContain(apt.accessLevelId);
      expect(body).toContain(gym.zoneId);
      expect(actionLinkIn(body)).toMatch(/#token=[\w-]+\.[\w-]+$/);
    }
    expect(email!.text).not.toContain('<');
    expect(email!.idempotencyKey).toMatch(/^alert-email\/[0-9a-f-]{36}$/);

    const [row] = await sql<{ status: string; resend_id: string; attempts: number }[]>`
      select o.status, o.resend_id, o.attempts from integration.email_outbox as o
      join integration.email_outbox_alerts as l on l.outbox_id = o.id
      join integration.alerts as a on a.id = l.alert_id where a.booking_id = ${waiting}`;
    expect(row).toEqual({ status: 'sent', resend_id: email!.id, attempts: 1 });

    // The minute job and further wake-ups do not send it again.
    await sql`select integration.alerts_tick()`;
    await new Promise((r) => setTimeout(r, 1500));
    expect(await messagesTo(manager)).toHaveLength(1);
  });

  it('the same booking waiting again later is not emailed about again', async () => {
    const tz = building.timeZone;
    const apt = building.apartments['501/56']!;
    const [waiting] = await sql<{ booking_id: string }[]>`
      select booking_id from integration.booking_access where apartment_id = ${apt.id} and state = 'waiting'`;
    // Moving the waiting booking within next week keeps it waiting; no second alert, no second email.
    await sql`update public.bookings set starts_at = starts_at + interval '1 hour', ends_at = ends_at + interval '1 hour' where id = ${waiting!.booking_id}`;
    await sql`select integration.alerts_tick()`;
    await new Promise((r) => setTimeout(r, 1500));
    expect(await messagesTo(await managerEmail(sql, building))).toHaveLength(1);
    void tz;
  });
});

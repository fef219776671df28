// Alerts that come from time passing (access not in place, SALTO unreachable), the configuration
// problem email, and the per-building email settings: kinds, quiet hours, who may change them.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actingAs, book, createTestBuilding, syncNow, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';
import { at, localDay, managerEmail, messagesTo, sendAlertsNow, waitForMessages } from './helpers.ts';

const sql = connect(4);
const { functionsUrl, functionsSecret } = stackEnv();
const MINUTE = 60_000;

async function withInbox(building: TestBuilding) {
  const inbox = `alerts-${randomBytes(4).toString('hex')}@example.test`;
  await sql`update auth.users set email = null where id = ${building.managerId}`;
  await sql`update integration.email_settings set alert_emails = array[${inbox}] where building_id = ${building.id}`;
  return inbox;
}

describe('alerts from time passing, and email settings', { timeout: 90_000 }, () => {
  const buildings: TestBuilding[] = [];
  const make = async (spec: Parameters<typeof createTestBuilding>[1]) => {
    const b = await createTestBuilding(sql, spec);
    buildings.push(b);
    return b;
  };

  beforeAll(async () => {
    await sql`delete from integration.clock_offset`;
  });

  afterAll(async () => {
    for (const b of buildings) await b.close();
    await sql.end();
  });

  it('a booking starting within the lead time whose apartment SALTO does not know: "access not in place" with the reason, and an unknown_salto_id email ("Configuration problem") saying where to fix the ID', async () => {
    const building = await make({
      facilities: [{ name: 'Pool room' }],
      apartments: [{ label: '12/3', inSalto: false }],
    });
    // The unknown Access Control ID is emailed as soon as it is saved, before any booking: to the
    // manager, then the building's only recipient.
    const manager = await managerEmail(sql, building);
    const [config] = await waitForMessages(manager, 1);
    const inbox = await withInbox(building);
    const apt = building.apartments['12/3']!;
    const startsAt = new Date(Math.ceil(Date.now() / MINUTE) * MINUTE + 60 * MINUTE);
    const booking = await book(
      sql,
      { as: 'resident', userId: apt.residentId },
      {
        facilityId: building.facilities['Pool room']!.id,
        apartmentId: apt.id,
        startsAt,
        endsAt: new Date(startsAt.getTime() + 30 * MINUTE),
      },
    );
    await syncNow(functionsUrl, functionsSecret);
    await eventually(
      async () => {
        const [row] = await sql`select state from integration.booking_access where booking_id = ${booking}`;
        return row?.state === 'failed' ? true : undefined;
      },
      20_000,
      'the booking failed',
    );

    await sql`select integration.alerts_tick()`;
    const emails = await waitForMessages(inbox, 1);
    expect(config!.subject).toBe(`Configuration problem: SALTO has no access level "${apt.accessLevelId}"`);
    expect(config!.text).toContain('Building > Apartments');
    expect(config!.text).toContain('User Access Level EXT ID');
    expect(config!.text).toContain(apt.accessLevelId);

    const missing = emails.find((m) => m.subject.startsWith('Access not in place'))!;
    expect(missing.text).toContain('12/3');
    expect(missing.text).toContain('Pool room');
    expect(missing.text).toContain('2 hours');
    expect(missing.text).toMatch(/Reason\s+\S/);

    // Neither is repeated: not by later runs of the check, nor by the sync meeting the unknown ID.
    await sql`select integration.alerts_tick()`;
    await sendAlertsNow();
    expect(await messagesTo(inbox)).toHaveLength(1);
    expect(await messagesTo(manager)).toHaveLength(1);
  });

  it('SALTO failing for longer than the building accepts: one "SALTO unreachable" email per outage', async () => {
    const building = await make({ facilities: [{ name: 'Gym' }], apartments: [{ label: '3/3' }] });
    const inbox = await withInbox(building);
    await sql`update integration.email_settings set unreachable_after = interval '1 second' where building_id = ${building.id}`;
    // Nothing listens on port 9 of the loopback: every write fails to connect.
    await sql`update integration.salto_servers set port = 9 where building_id = ${building.id}`;
    const apt = building.apartments['3/3']!;
    const day = localDay(building.timeZone, 3);
    await book(
      sql,
      { as: 'resident', userId: apt.residentId },
      {
        facilityId: building.facilities.Gym!.id,
        apartmentId: apt.id,
        startsAt: at(building.timeZone, `${day}T10:00:00`),
        endsAt: at(building.timeZone, `${day}T11:00:00`),
      },
    );
    await eventually(
      async () => {
        const [row] = await sql`select attempts from integration.access_level_work where building_id = ${building.id}`;
        return row && row.attempts > 0 ? true : undefined;
      },
      20_000,
      'a failed attempt',
    );

    await sql`select integration.alerts_tick()`;
    await new Promise((r) => setTimeout(r, 1200));
    await sql`select integration.alerts_tick()`;
    const [email] = await waitForMessages(inbox, 1);
    expect(email!.subject).toMatch(/^SALTO unreachable at Test building \w+ since /);
    expect(email!.text).toContain('http://127.0.0.1:9');
    await sql`select integration.alerts_tick()`;
    await sendAlertsNow();
    expect(await messagesTo(inbox)).toHaveLength(1);
    await sql`delete from integration.access_level_work where building_id = ${building.id}`;
  });

  it('during quiet hours a double-booking email waits for their end; a kind turned off is not emailed, with the reason recorded', async () => {
    const building = await make({ facilities: [{ name: 'Gym' }], apartments: [{ label: '4/1' }, { label: '4/2' }] });
    const inbox = await withInbox(building);
    const tz = building.timeZone;
    const hour = Number(
      new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', hourCycle: 'h23' }).format(new Date()),
    );
    const pad = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    await sql`update integration.email_settings set quiet_hours_start = ${pad(hour - 1)}::time, quiet_hours_end = ${pad(hour + 2)}::time
      where building_id = ${building.id}`;

    const doubleBooking = async (label: string) => {
      const apt = building.apartments[label]!;
      const resident = { as: 'resident' as const, userId: apt.residentId };
      for (const days of [2, 9]) {
        const day = localDay(tz, days);
        await book(sql, resident, {
          facilityId: building.facilities.Gym!.id,
          apartmentId: apt.id,
          startsAt: at(tz, `${day}T06:00:00`),
          endsAt: at(tz, `${day}T07:00:00`),
        });
      }
      // The sync, woken by the bookings, decides their states and raises the alert with its email.
      return eventually(
        async () => {
          const [row] = await sql<{ status: string; next_attempt_at: Date; last_error: string | null }[]>`
          select o.status, o.next_attempt_at, o.last_error from integration.email_outbox as o
          join integration.email_outbox_alerts as l on l.outbox_id = o.id
          join integration.alerts as a on a.id = l.alert_id
          join public.bookings as b on b.id = a.booking_id where b.apartment_id = ${apt.id}`;
          return row;
        },
        10_000,
        'the double-booking alert email',
      );
    };

    const held = await doubleBooking('4/1');
    expect(held.status).toBe('pending');
    const minutesToEnd = (held.next_attempt_at.getTime() - Date.now()) / MINUTE;
    expect(minutesToEnd).toBeGreaterThan(60);
    expect(minutesToEnd).toBeLessThanOrEqual(120);
    await sendAlertsNow();
    expect(await messagesTo(inbox)).toHaveLength(0);

    await sql`update integration.email_settings set enabled_kinds = array['access_not_in_place', 'salto_unreachable'] where building_id = ${building.id}`;
    const skipped = await doubleBooking('4/2');
    expect(skipped.status).toBe('skipped');
    expect(skipped.last_error).toContain('turned off');

    // When the quiet hours end, the held email goes out.
    await sql`update integration.email_outbox set next_attempt_at = now() where building_id = ${building.id} and status = 'pending'`;
    await sendAlertsNow();
    expect((await messagesTo(inbox)).map((m) => m.subject)).toEqual([expect.stringContaining('apartment 4/1')]);
  });

  it("managers change their own building's email settings through the API, and no other building's", async () => {
    const mine = await make({ apartments: [], facilities: [] });
    const theirs = await make({ apartments: [], facilities: [] });
    const manager = { as: 'manager' as const, userId: mine.managerId };
    const updated = await actingAs(
      sql,
      manager,
      (tx) => tx`
      update public.alert_email_settings set access_lead_time = interval '3 hours', quiet_hours_start = '22:00', quiet_hours_end = '07:00'
      where building_id in (${mine.id}, ${theirs.id}) returning building_id`,
    );
    expect(updated.map((r) => r.building_id)).toEqual([mine.id]);
    const visible = await actingAs(
      sql,
      manager,
      (tx) => tx`select building_id, enabled_kinds from public.alert_email_settings`,
    );
    expect(visible).toEqual([
      {
        building_id: mine.id,
        enabled_kinds: ['double_booking', 'access_not_in_place', 'unknown_salto_id', 'salto_unreachable'],
      },
    ]);
    await expect(
      actingAs(
        sql,
        manager,
        (tx) => tx`update public.alert_email_settings set quiet_hours_end = null where building_id = ${mine.id}`,
      ),
    ).rejects.toMatchObject({
      constraint_name: 'email_settings_quiet_hours_pair',
      message: 'Quiet hours need both a start and a different end, or neither.',
    });
  });
});

// Who receives a building's alert emails is a list of bare addresses. An entry such as "x"<a@b.c> or
// a,b@evil.example reaches the mail header as other, or more, recipients than the list shows, so the
// database refuses anything with a display name, quotes, angle brackets, commas, semicolons, spaces or
// control characters. And an email subject is one line whatever a name contains (issue "Access
// safety", findings 8 and 9).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAlertEmail } from '../../src/shared/alerts/email-content.ts';
import { actingAs, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const sql = connect(2);
let building: TestBuilding;

beforeAll(async () => {
  building = await createTestBuilding(sql, { facilities: [{ name: 'Gym' }], apartments: [{ label: '101' }] });
});
afterAll(async () => {
  await building.close();
  await sql.end();
});

/** Sets the building's alert addresses as its manager would (the portal, through the API). */
async function setAlertEmails(addresses: string[]) {
  return actingAs(
    sql,
    { as: 'manager', userId: building.managerId },
    (tx) => tx`update public.alert_email_settings set alert_emails = ${addresses} where building_id = ${building.id}`,
  ).then(
    () => undefined,
    (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
  );
}

describe('alert email addresses are bare addresses', () => {
  it.each([
    ['a quoted display name in angle brackets', '"x"<a@b.c>'],
    ['a display name', 'Building Manager <manager@example.com>'],
    ['two addresses joined by a comma', 'a,b@evil.example'],
    ['two addresses joined by a semicolon', 'desk@example.com;spy@evil.example'],
    ['a space', 'desk @example.com'],
    ['angle brackets alone', '<desk@example.com>'],
    ['quotes', '"desk"@example.com'],
    ['no domain dot', 'desk@localhost'],
  ])('an entry with %s is refused, naming it', async (_what, address) => {
    expect(await setAlertEmails(['manager@example.com', address])).toEqual({
      code: '23514',
      message: `The alert email list is not valid: '${address.replaceAll("'", "''")}' is not a bare email address.`,
    });
  });

  it('an entry with a line break (a header injection) is refused without echoing it', async () => {
    expect(await setAlertEmails(['desk@example.com\r\nBcc: spy@evil.example'])).toEqual({
      code: '23514',
      message: 'The alert email list is not valid: entry 1 contains a control character such as a line break.',
    });
    expect(await setAlertEmails(['desk@example.com', 'a@b.example\u0085'])).toEqual({
      code: '23514',
      message: 'The alert email list is not valid: entry 2 contains a control character such as a line break.',
    });
  });

  it('bare addresses are accepted, and nothing else reached the recipients', async () => {
    expect(
      await setAlertEmails([
        'night.desk+alerts@harbourview.example',
        "o'brien@x-ray.example.com",
        'A_B@sub.example.org',
      ]),
    ).toBeUndefined();
    const [row] = await sql<
      { recipients: string[] }[]
    >`select integration.alert_recipients(${building.id}) as recipients`;
    expect(row!.recipients).toEqual(
      expect.arrayContaining([
        'night.desk+alerts@harbourview.example',
        "o'brien@x-ray.example.com",
        'a_b@sub.example.org',
      ]),
    );
    expect(row!.recipients.every((r) => /^[^\s,;<>"]+@[^\s,;<>"]+$/.test(r))).toBe(true);
  });
});

describe('an email subject never carries a line break, whatever a name holds', () => {
  // Names stored before the database refused such characters, or written past its checks.
  const facts = {
    id: 'a1',
    createdAt: new Date('2026-12-02T00:00:00Z'),
    building: { name: 'Harbour\r\nBcc: spy@evil.example', timeZone: 'Australia/Sydney' },
  };

  it('a double booking of a facility whose name holds CR/LF, U+2028 and a right-to-left override', () => {
    const email = buildAlertEmail({
      ...facts,
      kind: 'double_booking',
      details: {
        apartment_label: '501\n\u202E65',
        access_level_id: 'APT-501',
        facility_name: 'Gym\r\nBcc: spy@evil.example\u2028X-Hdr: 1',
        zone_id: 'GYM',
        waiting_booking: { id: 'b2', starts_at: '2026-12-10T07:00:00Z', ends_at: '2026-12-10T08:00:00Z' },
        holding_bookings: [{ id: 'b1', starts_at: '2026-12-09T07:00:00Z', ends_at: '2026-12-09T08:00:00Z' }],
        write_at: '2026-12-09T08:00:00Z',
      },
    });
    expect(email.subject).toBe('Double booking: Gym Bcc: spy@evil.example X-Hdr: 1, apartment 501 65, Thu 10 Dec 2026');
    expect(email.subject).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
  });

  it('every kind of alert gives a one-line subject', () => {
    const subjects = [
      buildAlertEmail({
        ...facts,
        kind: 'access_not_in_place',
        details: {},
        booking: {
          startsAt: new Date('2026-12-10T07:00:00Z'),
          endsAt: new Date('2026-12-10T08:00:00Z'),
          apartmentLabel: '501\r\n',
          facilityName: '\tGym\u001b[2J',
          accessLevelId: 'APT-501',
          zoneId: 'GYM',
          state: 'failed',
          reason: 'x',
        },
      }).subject,
      buildAlertEmail({ ...facts, kind: 'unknown_salto_id', details: { what: 'zone', zone_id: 'GYM\r\nX' } }).subject,
      buildAlertEmail({
        ...facts,
        kind: 'salto_unreachable',
        details: {
          failing_since: '2026-12-02T00:00:00Z',
          threshold_minutes: 15,
          server: 'http://salto:8100',
          pending_access_levels: 3,
          last_error: null,
        },
      }).subject,
    ];
    for (const subject of subjects) expect(subject).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    expect(subjects[0]).toMatch(/^Access not in place: Gym \[2J, apartment 501 , /);
    expect(subjects[1]).toBe('Configuration problem: SALTO has no zone "GYM X"');
  });
});

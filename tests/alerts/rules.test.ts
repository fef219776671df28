// The runtime-neutral rules of alert emails, without the stack: local times, retry decisions, pacing,
// action tokens and digests.
import { describe, expect, it } from 'vitest';
import { renderAlertEmail } from '../../emails/render.tsx';
import {
  sampleAlerts,
  sampleDoubleBookingBurst,
  sampleUnknownIdsBurst,
  sampleUnknownZoneNothingClose,
} from '../../emails/sample-data.ts';
import { actionLinkExpiry, signActionToken, verifyActionToken } from '../../src/shared/alerts/action-tokens.ts';
import { decideAfterFailure, parseRetryAfter, SendPacer } from '../../src/shared/alerts/delivery.ts';
import { buildDigestEmail, buildOutboxEmail, DIGEST_LIST_LIMIT } from '../../src/shared/alerts/digest.ts';
import { buildAlertEmail } from '../../src/shared/alerts/email-content.ts';
import { describeLocalDateTime, describeLocalRange } from '../../src/shared/time/local-time.ts';

const secret = 'a-test-secret-of-enough-length';
const claims = {
  v: 1 as const,
  action: 'grant_now' as const,
  alertId: '6f1c2a4e-8d3b-4a51-9c7e-2b8f0d4e6a10',
  buildingId: '10000000-0000-4000-8000-000000000001',
  bookingId: 'b7e3c0f2-3a9d-4c1e-8f5b-6d2a9e4c7b31',
  exp: Math.floor(Date.parse('2030-01-01T00:00:00Z') / 1000),
};

describe('times in alert emails are building-local', () => {
  it('states the wall time and zone on both sides of a DST change', () => {
    // Sydney leaves daylight saving on 5 April 2026 at 03:00 AEDT (-> 02:00 AEST).
    expect(describeLocalDateTime('2026-04-04T07:00:00Z', 'Australia/Sydney')).toBe('Sat 4 Apr 2026, 18:00 AEDT');
    expect(describeLocalDateTime('2026-04-05T08:00:00Z', 'Australia/Sydney')).toBe('Sun 5 Apr 2026, 18:00 AEST');
  });

  it('writes a window ending at midnight as 24:00 and one crossing midnight with both dates', () => {
    expect(describeLocalRange('2026-12-08T11:00:00Z', '2026-12-08T13:00:00Z', 'Australia/Sydney')).toBe(
      'Tue 8 Dec 2026, 22:00–24:00 AEDT',
    );
    expect(describeLocalRange('2026-12-08T12:00:00Z', '2026-12-08T14:00:00Z', 'Australia/Sydney')).toBe(
      'Tue 8 Dec 2026, 23:00 AEDT – Wed 9 Dec 2026, 01:00 AEDT',
    );
  });
});

describe('what to do after Resend refuses', () => {
  it('retries 429 after its Retry-After, 5xx and network failures with a doubling backoff', () => {
    expect(decideAfterFailure({ statusCode: 429, retryAfter: '3' }, 1)).toMatchObject({ kind: 'retry', delayMs: 3000 });
    expect(decideAfterFailure({ statusCode: 500 }, 1)).toMatchObject({ kind: 'retry', delayMs: 1000 });
    expect(decideAfterFailure({ statusCode: 503 }, 4)).toMatchObject({ kind: 'retry', delayMs: 8000 });
    expect(decideAfterFailure({ statusCode: null }, 30)).toMatchObject({ kind: 'retry', delayMs: 3_600_000 });
    expect(decideAfterFailure({ statusCode: 409, name: 'concurrent_idempotent_requests' }, 1)).toMatchObject({
      kind: 'retry',
    });
  });

  it('gives up at once on refusals that repeating cannot fix, and after many transient failures', () => {
    for (const f of [
      { statusCode: 422, name: 'validation_error' },
      { statusCode: 403, name: 'invalid_api_key' },
      { statusCode: 409, name: 'invalid_idempotent_request' },
    ]) {
      expect(decideAfterFailure(f, 1).kind).toBe('failed');
    }
    expect(decideAfterFailure({ statusCode: 500 }, 60)).toMatchObject({
      kind: 'failed',
      error: expect.stringContaining('Gave up after 60 attempts'),
    });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('paces requests to the rate limit and holds all of them after a 429', async () => {
    let clock = 0;
    const pacer = new SendPacer(
      2,
      () => clock,
      async (ms) => {
        clock += ms;
      },
    );
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) {
      await pacer.turn();
      starts.push(clock);
    }
    expect(starts).toEqual([0, 500, 1000]);
    pacer.holdFor(3000);
    await pacer.turn();
    expect(clock).toBe(4000);
  });
});

describe('action tokens', () => {
  it('verify when signed with the secret and unexpired', async () => {
    const token = await signActionToken(claims, secret);
    expect(await verifyActionToken(token, secret, new Date('2029-01-01'))).toEqual({ ok: true, claims });
  });

  it('are refused when altered, signed with another secret, expired, or not tokens at all', async () => {
    const token = await signActionToken(claims, secret);
    const [payload, signature] = token.split('.');
    const other = Buffer.from(
      JSON.stringify({ ...claims, buildingId: '20000000-0000-4000-8000-000000000002' }),
    ).toString('base64url');
    expect((await verifyActionToken(`${other}.${signature}`, secret)).ok).toBe(false);
    expect(await verifyActionToken(token, 'another-secret-of-enough-length')).toEqual({ ok: false, reason: 'forged' });
    expect(await verifyActionToken(token, secret, new Date('2030-01-01T00:00:01Z'))).toMatchObject({
      ok: false,
      reason: 'expired',
    });
    expect(await verifyActionToken(`${payload}`, secret)).toEqual({ ok: false, reason: 'malformed' });
    expect(await verifyActionToken('a.b.c', secret)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('have one spelling: the same signature with other unused bits in its last character is refused', async () => {
    const token = await signActionToken(claims, secret);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 32 bytes in 43 characters: the last one's two low bits carry nothing.
    const other = alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]!;
    const respelled = token.slice(0, -1) + other;
    expect(Buffer.from(respelled.split('.')[1]!, 'base64url')).toEqual(Buffer.from(token.split('.')[1]!, 'base64url'));
    expect(await verifyActionToken(respelled, secret, new Date('2029-01-01'))).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('expire after the TTL, and never after the waiting booking starts', () => {
    expect(actionLinkExpiry('2026-12-01T00:00:00Z', '2026-12-10T00:00:00Z', 72).toISOString()).toBe(
      '2026-12-04T00:00:00.000Z',
    );
    expect(actionLinkExpiry('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', 72).toISOString()).toBe(
      '2026-12-02T00:00:00.000Z',
    );
  });
});

describe('a burst of alerts of one building and kind is one email', () => {
  it('one alert is the usual email of its kind', () => {
    expect(buildOutboxEmail({ alerts: [sampleAlerts.double_booking], total: 1 })).toMatchObject({
      kind: 'double_booking',
      subject: 'Double booking: Gym, apartment 501/56, Tue 8 Dec 2026',
    });
  });

  it('a digest counts every alert, lists the first ten each with its own action link, and counts the rest', () => {
    const email = buildOutboxEmail({ ...sampleDoubleBookingBurst, total: 25 });
    expect(email.kind).toBe('digest');
    if (email.kind !== 'digest') return;
    expect(email.subject).toBe('25 double bookings at Harbour View Residences');
    expect(email.props.count).toBe('25 double bookings');
    expect(email.props.items).toHaveLength(DIGEST_LIST_LIMIT);
    expect(email.props.more).toBe(25 - DIGEST_LIST_LIMIT);
    expect(email.props.items[0]).toMatchObject({
      title: 'Apartment 301/56 · Gym',
      rows: expect.arrayContaining([['Waiting booking', 'Tue 8 Dec 2026, 18:00–19:00 AEDT']]),
    });
    const links = email.props.items.map((item) => item.action?.url);
    expect(new Set(links).size).toBe(DIGEST_LIST_LIMIT);
    expect(links.every(Boolean)).toBe(true);
  });

  it('an alert whose booking is gone is listed as such, and the digest still goes out', () => {
    const present = sampleAlerts.access_not_in_place;
    const gone = { ...present, id: '0a9b8c7d-6e5f-4a3b-9c1d-2e3f4a5b6c7e', booking: undefined };
    const email = buildDigestEmail({ alerts: [present, gone], total: 2 });
    expect(email.subject).toBe('Access not in place: 2 bookings at Harbour View Residences');
    expect(email.props.leadTime).toBe('2 hours');
    expect(email.props.items.map((i) => i.title)).toEqual(['Apartment 1203/56 · Pool room', `Alert ${gone.id}`]);
    expect(email.props.items[1]!.rows).toContainEqual([
      'Not described',
      `access_not_in_place alert ${gone.id} has no booking`,
    ]);
  });

  it("a digest's subject is one line, whatever the building's name holds", () => {
    const alerts = sampleDoubleBookingBurst.alerts.map((a) => ({
      ...a,
      building: { ...a.building, name: 'Harbour View\r\nBcc: someone@example.test' },
    }));
    const email = buildDigestEmail({ alerts, total: 12 });
    expect(email.subject).toBe('12 double bookings at Harbour View Bcc: someone@example.test');
    expect(email.subject).not.toMatch(/[\r\n]/);
  });
});

describe('the configuration email offers the closest IDs SALTO lists', () => {
  it('says "Did you mean" with the suggestions the ID check found, in the HTML and the plain text', async () => {
    const email = buildAlertEmail(sampleAlerts.unknown_salto_id);
    expect(email.kind).toBe('unknown_salto_id');
    if (email.kind !== 'unknown_salto_id') return;
    expect(email.props).toMatchObject({
      unknownId: 'POOL-01',
      suggestions: ['POOL-1', 'POOL01'],
      didYouMean: 'Did you mean "POOL-1" or "POOL01"?',
      fixIn: {
        screen: 'Settings > Facilities',
        field: 'Access Control Facility ID',
        table: 'public.facilities',
        column: 'access_control_facility_id',
      },
    });
    const rendered = await renderAlertEmail(email);
    expect(rendered.text).toContain('Did you mean "POOL-1" or "POOL01"?');
    expect(rendered.text).toContain('Closest IDs in SALTO        POOL-1 or POOL01');
    expect(rendered.text).toContain('Settings > Facilities');
    expect(rendered.text).toContain('table public.facilities, column access_control_facility_id');
    // The HTML escapes the quotes and the angle bracket.
    expect(rendered.html).toContain('Did you mean &quot;POOL-1&quot; or &quot;POOL01&quot;?');
    expect(rendered.html).toContain('Settings &gt; Facilities');
    expect(rendered.html).toContain('access_control_facility_id');
  });

  it('takes the suggestions of the ID check when the alert came from the sync or the nightly check', () => {
    const email = buildAlertEmail({
      ...sampleUnknownZoneNothingClose,
      details: { what: 'access_level', access_level_id: 'apt-7', found_by: 'nightly_check' },
      suggestions: ['APT-7', 'apt-7', 'APT-7'],
    });
    if (email.kind !== 'unknown_salto_id') throw new Error(email.kind);
    // Never the unknown ID itself, never twice; the apartment's portal screen and Studio column.
    expect(email.props.suggestions).toEqual(['APT-7']);
    expect(email.props.didYouMean).toBe('Did you mean "APT-7"?');
    expect(email.props.fixIn).toMatchObject({ screen: 'Building > Apartments', column: 'access_control_id' });
  });

  it('offers nothing when nothing is close, and still says where to fix the ID', async () => {
    const email = buildAlertEmail(sampleUnknownZoneNothingClose);
    if (email.kind !== 'unknown_salto_id') throw new Error(email.kind);
    expect(email.props.didYouMean).toBeNull();
    const { text } = await renderAlertEmail(email);
    expect(text).not.toMatch(/did you mean|closest/i);
    expect(text).toContain('Settings > Facilities');
    expect(text).toContain('table public.facilities, column access_control_facility_id');
  });

  it('a digest of wrong IDs gives each its closest IDs and where to fix it', () => {
    const email = buildDigestEmail(sampleUnknownIdsBurst);
    expect(email.subject).toBe('Configuration problems: SALTO does not know 3 IDs at Harbour View Residences');
    const [zone, level, rooftop] = email.props.items;
    expect(zone!.rows).toContainEqual(['Closest in SALTO', 'Did you mean "POOL-1" or "POOL01"?']);
    expect(level!.rows).toContainEqual(['Closest in SALTO', 'Did you mean "APT-1203-56"?']);
    expect(level!.rows).toContainEqual(['In Studio', 'table public.apartments, column access_control_id']);
    expect(rooftop!.rows.map(([label]) => label)).not.toContain('Closest in SALTO');
    expect(rooftop!.rows).toContainEqual(['Fix in', 'Settings > Facilities, Access Control Facility ID']);
  });
});

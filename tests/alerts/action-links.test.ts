// The action link in a double-booking email opens the action page (action-page/), which asks
// send-alerts in JSON: a preview that changes nothing, an action that gives the waiting booking the
// permission now (the holder then waits), once; forged, expired, reused and other-building tokens
// refused with a clear answer, changing nothing. The page itself in a browser: action-page.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signActionToken } from '../../src/shared/alerts/action-tokens.ts';
import { book, createTestBuilding, syncNow, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';
import { actionLinkIn, at, linkSecret, localDay, managerEmail, pageUrl, waitForMessages } from './helpers.ts';

const sql = connect(4);
const { functionsUrl, functionsSecret } = stackEnv();

interface Pair {
  holder: string;
  waiting: string;
  alertId: string;
  link: string;
  token: string;
  waitingStart: Date;
  holderStart: Date;
}

describe('acting from the double-booking email', { timeout: 90_000 }, () => {
  let building: TestBuilding;
  let other: TestBuilding;
  let manager: string;

  beforeAll(async () => {
    building = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }],
      apartments: [{ label: '7/1' }, { label: '7/2' }, { label: '7/3' }, { label: '7/4' }],
    });
    other = await createTestBuilding(sql, { facilities: [{ name: 'Gym' }], apartments: [{ label: '9/9' }] });
    manager = await managerEmail(sql, building);
  });

  afterAll(async () => {
    await building.close();
    await other.close();
    await sql.end();
  });

  let emailsSoFar = 0;
  async function doubleBooking(label: string): Promise<Pair> {
    const tz = building.timeZone;
    const apt = building.apartments[label]!;
    const gym = building.facilities.Gym!;
    const resident = { as: 'resident' as const, userId: apt.residentId };
    const [d1, d2] = [localDay(tz, 2), localDay(tz, 5)];
    const holderStart = at(tz, `${d1}T10:00:00`);
    const waitingStart = at(tz, `${d2}T10:00:00`);
    const holder = await book(sql, resident, {
      facilityId: gym.id,
      apartmentId: apt.id,
      startsAt: holderStart,
      endsAt: at(tz, `${d1}T11:00:00`),
    });
    const waiting = await book(sql, resident, {
      facilityId: gym.id,
      apartmentId: apt.id,
      startsAt: waitingStart,
      endsAt: at(tz, `${d2}T11:00:00`),
    });
    emailsSoFar += 1;
    const emails = await waitForMessages(manager, emailsSoFar);
    const email = emails.find((m) => m.subject.includes(`apartment ${label}`))!;
    const link = actionLinkIn(email.text);
    expect(email.html).toContain(link);
    const [alert] = await sql<
      { id: string }[]
    >`select id from integration.alerts where booking_id = ${waiting} and kind = 'double_booking'`;
    return {
      holder,
      waiting,
      alertId: alert!.id,
      link,
      token: new URLSearchParams(new URL(link).hash.slice(1)).get('token')!,
      waitingStart,
      holderStart,
    };
  }

  const call = (path: 'act' | 'act/preview', token: string) =>
    fetch(`${functionsUrl}/send-alerts/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: new URL(pageUrl).origin },
      body: JSON.stringify({ token }),
    });
  const post = (token: string) => call('act', token);
  const preview = (token: string) => call('act/preview', token);

  async function states(pair: Pair) {
    const rows = await sql<{ booking_id: string; state: string }[]>`
      select booking_id, state from integration.booking_access where booking_id in (${pair.holder}, ${pair.waiting})`;
    return Object.fromEntries(rows.map((r) => [r.booking_id === pair.holder ? 'holder' : 'waiting', r.state]));
  }

  async function nothingChanged(pair: Pair) {
    expect((await states(pair)).waiting).toBe('waiting');
    expect(await sql`select 1 from integration.permission_overrides where booking_id = ${pair.waiting}`).toHaveLength(
      0,
    );
  }

  it('the link opens the action page; the preview states the consequence; only the action acts, and only once', async () => {
    const pair = await doubleBooking('7/1');
    expect(pair.link.startsWith(pageUrl)).toBe(true);
    const shown = await preview(pair.token);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('cache-control')).toBe('no-store');
    expect(shown.headers.get('content-type')).toMatch(/^application\/json/);
    // The page's origin may read the answer; another origin may not.
    expect(shown.headers.get('access-control-allow-origin')).toBe(new URL(pageUrl).origin);
    const reply = (await shown.json()) as { status: string; consequence: string[] };
    expect(reply.status).toBe('confirm');
    expect(reply.consequence.join(' ')).toContain('loses its access and waits until');
    await nothingChanged(pair);
    const elsewhere = await fetch(`${functionsUrl}/send-alerts/act/preview`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(elsewhere.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');

    const confirmed = await post(pair.token);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('the waiting booking gets the permission now');
    expect(await states(pair)).toEqual({ holder: 'waiting', waiting: 'scheduled' });

    // SALTO now opens the gym for the later booking, not the earlier one.
    const apt = building.apartments['7/1']!;
    const gym = building.facilities.Gym!;
    await syncNow(functionsUrl, functionsSecret);
    await eventually(
      async () => ((await states(pair)).waiting === 'active' ? true : undefined),
      20_000,
      'waiting booking active',
    );
    expect(
      building.simulator.mayOpen(apt.accessLevelId, gym.zoneId, new Date(pair.waitingStart.getTime() + 30 * 60_000)),
    ).toBe(true);
    expect(
      building.simulator.mayOpen(apt.accessLevelId, gym.zoneId, new Date(pair.holderStart.getTime() + 30 * 60_000)),
    ).toBe(false);

    // The manager hears that the former holder now waits (its own double-booking email).
    const emails = await waitForMessages(manager, emailsSoFar + 1);
    emailsSoFar += 1;
    const about = emails.filter((m) => m.subject.includes('apartment 7/1'));
    expect(about).toHaveLength(2);
    // It says what SALTO now holds and what that means for the former holder, and offers no link
    // that would swap the two back.
    const followUp = about.find((m) => !m.text.includes(pair.link))!;
    expect(followUp.text).toContain('Holds the permission (moved by a manager)');
    expect(followUp.text).toContain('A manager moved the permission on');
    expect(followUp.text).not.toContain('#token=');
    expect(followUp.text).not.toContain('Nothing is needed from you');

    const again = await post(pair.token);
    expect(again.status).toBe(409);
    const used = (await again.json()) as { title: string; used: { at: string; emailedTo: string[]; outcome: string } };
    expect(used.title).toContain('already been used');
    expect(used.used.emailedTo).toContain(manager);
    expect(used.used.outcome).toBe('granted');
    const reopened = await preview(pair.token);
    expect(reopened.status).toBe(409);
    expect(await states(pair)).toEqual({ holder: 'waiting', waiting: 'active' });
  });

  it('a tampered token is refused and changes nothing', async () => {
    const pair = await doubleBooking('7/2');
    const [payload, signature] = pair.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const altered = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString('base64url');
    // A character of the signature changed where every bit counts (the last one's low bits do not).
    const forged = `${signature!.slice(0, 10)}${signature![10] === 'A' ? 'B' : 'A'}${signature!.slice(11)}`;
    for (const token of [`${altered}.${signature}`, `${payload}.${forged}`, 'not-a-token']) {
      const get = await preview(token);
      expect([400, 403]).toContain(get.status);
      const response = await post(token);
      expect([400, 403]).toContain(response.status);
      expect(await response.text()).toMatch(/not valid|incomplete/);
    }
    await nothingChanged(pair);
  });

  it('an expired token is refused and changes nothing', async () => {
    const pair = await doubleBooking('7/3');
    const expired = await signActionToken(
      {
        v: 1,
        action: 'grant_now',
        alertId: pair.alertId,
        buildingId: building.id,
        bookingId: pair.waiting,
        exp: Math.floor(Date.now() / 1000) - 60,
      },
      linkSecret,
    );
    const get = await preview(expired);
    expect(get.status).toBe(410);
    expect(await get.text()).toContain('This link has expired');
    const response = await post(expired);
    expect(response.status).toBe(410);
    await nothingChanged(pair);
  });

  it('a token naming another building is refused and changes nothing', async () => {
    const pair = await doubleBooking('7/4');
    const misdirected = await signActionToken(
      {
        v: 1,
        action: 'grant_now',
        alertId: pair.alertId,
        buildingId: other.id,
        bookingId: pair.waiting,
        exp: Math.floor(Date.now() / 1000) + 3600,
      },
      linkSecret,
    );
    const get = await preview(misdirected);
    expect(get.status).toBe(403);
    const response = await post(misdirected);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('does not belong to this building');
    await nothingChanged(pair);
    // The genuine link still works afterwards: the refusal did not use it up.
    expect((await post(pair.token)).status).toBe(200);
  });
});

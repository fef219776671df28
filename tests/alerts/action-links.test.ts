// The action link in a double-booking email: a confirmation page that changes nothing, a POST that
// gives the waiting booking the permission now (the holder then waits), once; forged, expired, reused
// and other-building tokens refused with a clear page, changing nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signActionToken } from '../../src/shared/alerts/action-tokens.ts';
import { book, createTestBuilding, syncNow, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';
import { at, linkSecret, localDay, managerEmail, waitForMessages } from './helpers.ts';

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
    const link = /(http:\/\/\S+\/send-alerts\/act\?token=[\w%.-]+)/.exec(email.text)![1]!;
    expect(email.html).toContain(link.replace(/&/g, '&amp;'));
    const [alert] = await sql<
      { id: string }[]
    >`select id from integration.alerts where booking_id = ${waiting} and kind = 'double_booking'`;
    return {
      holder,
      waiting,
      alertId: alert!.id,
      link,
      token: decodeURIComponent(new URL(link).searchParams.get('token')!),
      waitingStart,
      holderStart,
    };
  }

  const post = (token: string) =>
    fetch(`${functionsUrl}/send-alerts/act`, { method: 'POST', body: new URLSearchParams({ token }) });

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

  it('the link opens a confirmation stating the consequence; only the confirmed POST acts, and only once', async () => {
    const pair = await doubleBooking('7/1');
    const page = await fetch(pair.link);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('loses its access and waits until');
    expect(html).toContain('name="token"');
    await nothingChanged(pair);

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
    expect(emails.filter((m) => m.subject.includes('apartment 7/1'))).toHaveLength(2);

    const again = await post(pair.token);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('already been used');
    const reopened = await fetch(pair.link);
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
      const get = await fetch(`${functionsUrl}/send-alerts/act?token=${encodeURIComponent(token)}`);
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
    const get = await fetch(`${functionsUrl}/send-alerts/act?token=${encodeURIComponent(expired)}`);
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
    const get = await fetch(`${functionsUrl}/send-alerts/act?token=${encodeURIComponent(misdirected)}`);
    expect(get.status).toBe(403);
    const response = await post(misdirected);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('does not belong to this building');
    await nothingChanged(pair);
    // The genuine link still works afterwards: the refusal did not use it up.
    expect((await post(pair.token)).status).toBe(200);
  });
});

// The action page in a browser, as a manager meets it: the link from the captured double-booking
// email opens the page the local stack serves (as a static host would), the page asks send-alerts,
// shows the consequence, acts on the click, and a second visit says who the link was emailed to, when
// it was used, and links to connecX. Screenshots at desktop and phone width go to build/action-page/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';
import { actionLinkIn, at, captureUrl, localDay, managerEmail, pageUrl, waitForMessages } from './helpers.ts';

const sql = connect(2);
const outDir = join(import.meta.dirname, '..', '..', 'build', 'action-page');
const chromiumPath = '/usr/bin/chromium';

describe('the action page in a browser', { timeout: 120_000 }, () => {
  let building: TestBuilding;
  let manager: string;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!existsSync(chromiumPath))
      throw new Error('Chromium is missing: apt-get install -y chromium (as root; .ci/run does it)');
    mkdirSync(outDir, { recursive: true });
    building = await createTestBuilding(sql, { facilities: [{ name: 'Gym' }], apartments: [{ label: '3/1' }] });
    manager = await managerEmail(sql, building);
    profile = mkdtempSync(join(tmpdir(), 'action-page-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1024, height: 800 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await building?.close();
    await sql.end();
  });

  it('opens from the email, confirms, acts once; a second click or visit says the link was used, when and by whose email', async () => {
    const tz = building.timeZone;
    const apt = building.apartments['3/1']!;
    const resident = { as: 'resident' as const, userId: apt.residentId };
    const [d1, d2] = [localDay(tz, 2), localDay(tz, 4)];
    const holder = await book(sql, resident, {
      facilityId: building.facilities.Gym!.id,
      apartmentId: apt.id,
      startsAt: at(tz, `${d1}T18:00:00`),
      endsAt: at(tz, `${d1}T19:00:00`),
    });
    const waiting = await book(sql, resident, {
      facilityId: building.facilities.Gym!.id,
      apartmentId: apt.id,
      startsAt: at(tz, `${d2}T18:00:00`),
      endsAt: at(tz, `${d2}T19:00:00`),
    });
    const [email] = await waitForMessages(manager, 1);
    const link = actionLinkIn(email!.text);
    expect(link.startsWith(pageUrl)).toBe(true);

    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      // The refused second use is a 409 the browser logs as a failed load: expected, not a page error.
      if (m.type() === 'error' && !m.text().includes('status of 409')) consoleErrors.push(m.text());
    });
    try {
      await page.goto(link);
      await page.getByRole('button', { name: 'Give the waiting booking access now' }).waitFor();
      const asked = await page.locator('main').innerText();
      expect(asked).toContain("Give apartment 3/1's waiting Gym booking access now?");
      expect(asked).toContain('loses its access and waits until');
      await page.screenshot({ path: join(outDir, 'confirm-desktop.png'), fullPage: true });
      await page.setViewportSize({ width: 375, height: 800 });
      await page.screenshot({ path: join(outDir, 'confirm-375.png'), fullPage: true });
      // Nothing fits wider than the phone: no sideways scrolling.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      // Opening the page changed nothing.
      const [before] = await sql<{ state: string }[]>`
        select state from integration.booking_access where booking_id = ${waiting}`;
      expect(before!.state).toBe('waiting');

      // A second manager opens the same link before the first confirms.
      const second = await browser.newPage();
      await second.goto(link);
      await second.getByRole('button', { name: 'Give the waiting booking access now' }).waitFor();

      await page.getByRole('button', { name: 'Give the waiting booking access now' }).click();
      await page.getByRole('heading', { name: /Done/ }).waitFor();
      expect(await page.locator('main').innerText()).toContain('the waiting booking gets the permission now');
      await page.screenshot({ path: join(outDir, 'done-375.png'), fullPage: true });
      const rows = await sql<{ booking_id: string; state: string }[]>`
        select booking_id, state from integration.booking_access where booking_id in (${holder}, ${waiting})`;
      // The sync may already have written it.
      const states = Object.fromEntries(rows.map((r) => [r.booking_id === holder ? 'holder' : 'waiting', r.state]));
      expect(states.holder).toBe('waiting');
      expect(['scheduled', 'active']).toContain(states.waiting);

      // The second manager's click comes after: it changes nothing and says so.
      await second.getByRole('button', { name: 'Give the waiting booking access now' }).click();
      await second.getByRole('heading', { name: 'This link has already been used' }).waitFor();
      expect(await second.locator('main').innerText()).toContain(manager);
      await second.close();

      // The same link again (another manager, or the same one later).
      await page.setViewportSize({ width: 1024, height: 800 });
      await page.goto('about:blank');
      await page.goto(link);
      await page.getByRole('heading', { name: 'This link has already been used' }).waitFor();
      const used = await page.locator('main').innerText();
      const [acted] = await sql<{ acted_at: Date }[]>`
        select acted_at from integration.alert_actions where booking_id = ${waiting}`;
      const when = new Intl.DateTimeFormat('en-AU', {
        timeZone: tz,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(acted!.acted_at);
      expect(used).toContain(`It was used on `);
      expect(used).toContain(when);
      expect(used).toContain(`from the link emailed to`);
      expect(used).toContain(manager);
      expect(used).toContain('The waiting booking was given the permission.');
      expect(await page.getByRole('button').count()).toBe(0);
      // The stack's stand-in for connecX (the mail capture) is where the link leads.
      expect(await page.locator('#portal-link').getAttribute('href')).toBe(captureUrl);
      await page.screenshot({ path: join(outDir, 'already-used-desktop.png'), fullPage: true });
      expect(consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

// Every template, rendered with its preview data, in headless Chromium at desktop (720 px) and phone
// (375 px) widths: the screenshot is not blank, nothing overflows the phone's width, and the page and
// the plain-text part show the facts a manager needs (and not what would mislead). Screenshots are kept in build/email-screenshots/ for
// review (build output, not committed).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAlertEmail } from '../../emails/render.tsx';
import {
  sampleAfterAction,
  sampleAlerts,
  sampleDoubleBookingBurst,
  sampleOpenEnded,
  sampleThreeBookingsBerlin,
  sampleUnknownAccessLevel,
  sampleUnknownIdsBurst,
  sampleUnknownZoneNothingClose,
} from '../../emails/sample-data.ts';
import { buildDigestEmail, type DigestEmail } from '../../src/shared/alerts/digest.ts';
import { type AlertEmail, buildAlertEmail } from '../../src/shared/alerts/email-content.ts';

const outDir = join(import.meta.dirname, '..', '..', 'build', 'email-screenshots');
const chromiumPath = '/usr/bin/chromium';

const cases: { name: string; email: AlertEmail | DigestEmail; facts: string[]; absent?: string[] }[] = [
  {
    name: 'double-booking',
    email: buildAlertEmail(sampleAlerts.double_booking),
    facts: [
      '501/56',
      'Gym',
      'Tue 1 Dec 2026, 18:00–19:00 AEDT',
      'Tue 8 Dec 2026, 18:00–19:00 AEDT',
      'Tue 1 Dec 2026, 19:05 AEDT',
      'APT-501-56',
      'GYM-01',
      'Apartment 501/56 has two bookings of the Gym',
      'Nothing is needed from you.',
      'Only if the waiting booking needs its access sooner',
      'loses its access',
      'Review moving the permission',
    ],
  },
  {
    // After a manager acted: what SALTO now holds, the truth about the former holder, and no button.
    name: 'double-booking-after-action',
    email: buildAlertEmail(sampleAfterAction),
    facts: [
      'Holds the permission (moved by a manager)',
      'A manager moved the permission on Tue 1 Dec 2026, 13:58 AEDT',
      'This booking gets no access on its own.',
      "apartment 501/56's key cards will not open the Gym for Thu 3 Dec 2026, 18:00–19:00 AEDT",
    ],
    absent: ['Nothing is needed from you', 'Review moving the permission', '#token=', 'key cards open the Gym'],
  },
  {
    name: 'double-booking-three-berlin',
    email: buildAlertEmail(sampleThreeBookingsBerlin),
    facts: [
      'Apartment 2.04 has three bookings of the Sauna',
      'Fri 4 Dec 2026, 18:00–19:00 CET; Fri 4 Dec 2026, 19:00–20:00 CET',
      'while the other bookings hold it',
    ],
    absent: ['GMT+1', 'two bookings'],
  },
  {
    name: 'access-not-in-place-open-ended',
    email: buildAlertEmail(sampleOpenEnded),
    facts: ['from Thu 3 Dec 2026, 18:00 AEDT, open-ended', 'Pool room'],
    absent: ['Invalid', 'NaN'],
  },
  {
    name: 'access-not-in-place',
    email: buildAlertEmail(sampleAlerts.access_not_in_place),
    facts: [
      '1203/56',
      'Pool room',
      'Thu 3 Dec 2026, 18:00–19:30 AEDT',
      '2 hours',
      'SALTO has no zone with the Zone ID "POOL-01"',
    ],
  },
  {
    // The closest IDs SALTO lists, offered; the fix named in the portal and in Studio.
    name: 'unknown-salto-id-zone',
    email: buildAlertEmail(sampleAlerts.unknown_salto_id),
    facts: [
      'Pool room',
      'POOL-01',
      'Settings > Facilities',
      'Access Control Facility ID',
      'Zone ID in SALTO',
      'Closest IDs in SALTO',
      'Did you mean "POOL-1" or "POOL01"?',
      'did you mean POOL-1 or POOL01?',
      'table public.facilities, column access_control_facility_id',
    ],
  },
  {
    name: 'unknown-salto-id-access-level',
    email: { kind: 'unknown_salto_id', subject: 'Configuration problem', props: sampleUnknownAccessLevel },
    facts: [
      '1203/56',
      'apt-1203-56',
      'Building > Apartments',
      'Access Control ID',
      'User Access Level EXT ID',
      'Save Access Control ID',
      'Closest ID in SALTO',
      'Did you mean "APT-1203-56"?',
      'table public.apartments, column access_control_id',
    ],
  },
  {
    // Nothing close in SALTO: no guess is offered, the fix is still named.
    name: 'unknown-salto-id-nothing-close',
    email: buildAlertEmail(sampleUnknownZoneNothingClose),
    facts: ['Rooftop terrace', 'ROOFTOP', 'Settings > Facilities', 'table public.facilities'],
    absent: ['Did you mean', 'did you mean', 'Closest'],
  },
  {
    name: 'unknown-salto-id-digest',
    email: buildDigestEmail(sampleUnknownIdsBurst),
    facts: [
      '3 IDs SALTO does not know',
      'Access Control Facility ID POOL-01',
      'Did you mean "POOL-1" or "POOL01"?',
      'Access Control ID apt-1203-56',
      'Did you mean "APT-1203-56"?',
      'Access Control Facility ID ROOFTOP',
      'Settings > Facilities, Access Control Facility ID',
      'table public.facilities, column access_control_facility_id',
      'Building > Apartments, Access Control ID',
      'table public.apartments, column access_control_id',
    ],
  },
  {
    name: 'double-booking-digest',
    email: buildDigestEmail(sampleDoubleBookingBurst),
    facts: [
      '12 double bookings',
      'Apartment 301/56 · Gym',
      'Apartment 1201/56 · Gym',
      'Tue 8 Dec 2026, 18:00–19:00 AEDT',
      'Tue 1 Dec 2026, 19:05 AEDT',
      'APT-1201-56',
      'Review moving the permission',
      'And 2 more',
      'the first 10 of 12 double bookings',
    ],
  },
  {
    name: 'salto-unreachable',
    email: buildAlertEmail(sampleAlerts.salto_unreachable),
    facts: ['Thu 3 Dec 2026, 20:05 AEDT', '15 minutes', 'https://salto.harbourview.example:8100', 'ECONNREFUSED'],
  },
];

describe('alert email templates in a browser', { timeout: 120_000 }, () => {
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!existsSync(chromiumPath))
      throw new Error(
        'Chromium is missing: `npm start` or `npm test` installs it as root (apt-get install -y chromium)',
      );
    mkdirSync(outDir, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'email-screenshots-'));
    // A fresh profile (--user-data-dir) per run: nothing from an earlier run or the machine leaks in.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 720, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(`${c.name}: renders at desktop and 375 px widths, showing the key facts, in HTML and plain text`, async () => {
      const rendered = await renderAlertEmail(c.email);
      for (const fact of c.facts) expect(rendered.text).toContain(fact);
      for (const wrong of c.absent ?? []) expect(rendered.text).not.toContain(wrong);
      expect(rendered.text).not.toMatch(/Invalid (time value|Date)|NaN/);
      // A phone lays out an email without this 980 px wide.
      expect(rendered.html).toMatch(/<meta name="viewport" content="width=device-width, initial-scale=1"/);
      writeFileSync(join(outDir, `${c.name}.html`), rendered.html);
      writeFileSync(join(outDir, `${c.name}.txt`), rendered.text);

      for (const width of [720, 375]) {
        const page = await browser.newPage();
        try {
          await page.setViewportSize({ width, height: 900 });
          await page.setContent(rendered.html, { waitUntil: 'load' });
          // biome-ignore lint/performance/useDomNodeTextContent: the facts must be in the text a reader sees, not in hidden markup
          const text = await page.evaluate(() => document.body.innerText);
          for (const fact of c.facts) expect(text.replace(/\s+/g, ' ')).toContain(fact);
          for (const wrong of c.absent ?? []) expect(text).not.toContain(wrong);
          // Nothing wider than the screen: no sideways scrolling on a phone.
          expect(await page.evaluate(() => document.documentElement.scrollWidth), `${width} px`).toBeLessThanOrEqual(
            width,
          );
          const suffix = width === 375 ? '-375' : '';
          const png = await page.screenshot({ path: join(outDir, `${c.name}${suffix}.png`), fullPage: true });

          // Non-blank: decode the screenshot in the page and measure how much its pixels vary.
          const stats = await page.evaluate(
            async (dataUrl) => {
              const img = new Image();
              img.src = dataUrl;
              await img.decode();
              const canvas = document.createElement('canvas');
              canvas.width = img.width;
              canvas.height = img.height;
              const ctx = canvas.getContext('2d')!;
              ctx.drawImage(img, 0, 0);
              const { data } = ctx.getImageData(0, 0, img.width, img.height);
              let sum = 0;
              let sumSq = 0;
              let dark = 0;
              const n = data.length / 4;
              for (let i = 0; i < data.length; i += 4) {
                const luma = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
                sum += luma;
                sumSq += luma * luma;
                if (luma < 100) dark++;
              }
              const mean = sum / n;
              return { width: img.width, height: img.height, variance: sumSq / n - mean * mean, darkShare: dark / n };
            },
            `data:image/png;base64,${png.toString('base64')}`,
          );
          expect(stats.width).toBe(width);
          expect(stats.height).toBeGreaterThan(500);
          expect(stats.variance).toBeGreaterThan(100);
          // Text is there (dark pixels), but the page is not one dark block.
          expect(stats.darkShare).toBeGreaterThan(0.005);
          expect(stats.darkShare).toBeLessThan(0.5);
        } finally {
          await page.close();
        }
      }
    });
  }
});

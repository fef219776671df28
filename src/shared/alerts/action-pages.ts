// The pages a manager sees after clicking the action link in a double-booking email: a confirmation
// stating the consequence (the GET does nothing, so link scanners and previews are harmless), the
// result of the confirmed POST, and a clear refusal for a link that cannot act. Plain HTML strings,
// every value escaped; no script, nothing loaded from elsewhere.
import { describeLocalDateTime, describeLocalRange } from '../time/local-time.ts';
import type { ActionPreview } from './store.ts';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>
  body { margin: 0; background: #f5f7fa; color: #1f2933; font: 16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
  main { max-width: 560px; margin: 40px auto; background: #fff; border: 1px solid #e4e7eb; border-radius: 8px; padding: 28px 32px; }
  h1 { font-size: 22px; line-height: 1.35; margin: 0 0 12px; }
  .brand { color: #0b5cad; font-size: 13px; font-weight: 600; margin: 0 0 8px; }
  dl { display: grid; grid-template-columns: 11em 1fr; gap: 6px 12px; margin: 16px 0; font-size: 15px; }
  dt { color: #52606d; } dd { margin: 0; font-weight: 600; }
  .consequence { background: #fff4e5; border-left: 4px solid #b44d12; padding: 10px 14px; margin: 16px 0; }
  button { background: #0b5cad; color: #fff; border: 0; border-radius: 6px; padding: 12px 20px; font-size: 15px; font-weight: 600; cursor: pointer; }
  .muted { color: #52606d; font-size: 14px; }
</style></head>
<body><main><p class="brand">connecX</p>${body}</main></body></html>`;
}

export function confirmationPage(
  preview: Extract<ActionPreview, { status: 'ok' }>,
  token: string,
  formAction: string,
): string {
  const tz = preview.time_zone;
  const waiting = describeLocalRange(preview.waiting_booking.starts_at, preview.waiting_booking.ends_at, tz);
  const holders = preview.holding_bookings.map((h) => describeLocalRange(h.starts_at, h.ends_at, tz));
  const until = describeLocalDateTime(preview.holders_wait_until, tz);
  const holdersEndBefore = preview.holding_bookings.every(
    (h) => new Date(h.ends_at) <= new Date(preview.holders_wait_until),
  );
  return page(
    'Give the waiting booking access now?',
    `
<h1>Give apartment ${escapeHtml(preview.apartment_label)}'s waiting ${escapeHtml(preview.facility_name)} booking access now?</h1>
<dl>
  <dt>Building</dt><dd>${escapeHtml(preview.building_name)}</dd>
  <dt>Waiting booking</dt><dd>${escapeHtml(waiting)}</dd>
  <dt>Holds the permission now</dt><dd>${holders.map(escapeHtml).join('<br>') || '—'}</dd>
</dl>
<div class="consequence">
  <p><strong>What happens:</strong> connecX writes the waiting booking's permission to SALTO now. SALTO holds one
  permission per apartment and zone, so the booking that holds it loses its access and waits until ${escapeHtml(until)}.</p>
  ${holdersEndBefore ? `<p><strong>That booking ends before then, so apartment ${escapeHtml(preview.apartment_label)}'s key cards will not open the ${escapeHtml(preview.facility_name)} for it.</strong></p>` : ''}
</div>
<form method="post" action="${escapeHtml(formAction)}">
  <input type="hidden" name="token" value="${escapeHtml(token)}">
  <button type="submit">Give the waiting booking access now</button>
</form>
<p class="muted">All times are building time (${escapeHtml(tz)}). This link works once. If you do nothing, connecX writes the waiting booking when the current one's access ends.</p>`,
  );
}

export function grantedPage(): string {
  return page(
    'Done',
    `
<h1>Done: the waiting booking gets the permission now</h1>
<p>connecX is writing it to SALTO; it takes effect within a minute. The booking that held the permission now waits,
and its access state shows until when.</p>
<p class="muted">This link has been used and will not work again.</p>`,
  );
}

export type Refusal =
  | 'malformed'
  | 'forged'
  | 'expired'
  | 'already_used'
  | 'other_building'
  | 'not_actionable'
  | 'unknown_alert'
  | 'booking_gone'
  | 'not_waiting';

const refusals: Record<Refusal, { status: number; title: string; text: string }> = {
  malformed: {
    status: 400,
    title: 'This link is incomplete',
    text: 'The link is damaged or was cut off. Open it again from the email, or copy the whole address.',
  },
  forged: {
    status: 403,
    title: 'This link is not valid',
    text: 'The link was not issued by connecX or has been altered. Nothing was changed.',
  },
  expired: {
    status: 410,
    title: 'This link has expired',
    text: "Action links work for a limited time. Nothing was changed. The waiting booking is still written automatically when the current one's access ends.",
  },
  already_used: {
    status: 409,
    title: 'This link has already been used',
    text: "Each action link works once. Nothing more was changed. The booking's access state shows where things stand.",
  },
  other_building: {
    status: 403,
    title: 'This link does not belong to this building',
    text: 'The link names a building the alert is not about. Nothing was changed.',
  },
  not_actionable: { status: 403, title: 'This link cannot act on that alert', text: 'Nothing was changed.' },
  unknown_alert: {
    status: 404,
    title: 'This alert no longer exists',
    text: 'The alert was removed (for example with its building). Nothing was changed.',
  },
  booking_gone: {
    status: 410,
    title: 'The booking is no longer waiting',
    text: 'It was cancelled or has finished. Nothing was changed, and this link no longer works.',
  },
  not_waiting: {
    status: 409,
    title: 'The booking already has its permission',
    text: 'It no longer waits for another booking, so there was nothing to do. This link no longer works.',
  },
};

export function refusalPage(reason: Refusal): { status: number; html: string } {
  const r = refusals[reason];
  return { status: r.status, html: page(r.title, `<h1>${escapeHtml(r.title)}</h1><p>${escapeHtml(r.text)}</p>`) };
}

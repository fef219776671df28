// What the action page (action-page/) shows after a manager opens the action link of a double-booking
// email: a confirmation stating the consequence (asking changes nothing, so link scanners and previews
// are harmless), the result of the confirmed action, and a clear refusal for a link that cannot act.
// The send-alerts function answers these as JSON; the page puts each string in as text, so nothing
// here is markup. Times are the building's, as its clocks show them.
import { describeLocalDateTime, describeLocalRange } from '../time/local-time.ts';
import type { ActionPreview } from './store.ts';

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

export interface ConfirmReply {
  status: 'confirm';
  title: string;
  facts: { label: string; value: string }[];
  consequence: string[];
  button: string;
  note: string;
}

export interface DoneReply {
  status: 'granted' | Refusal;
  title: string;
  text: string;
  /** A second use: when the link was used, by the link emailed to whom, and what it did. */
  used?: { at: string; emailedTo: string[]; outcome: string };
}

export type ActionReply = ConfirmReply | DoneReply;

export function confirmReply(preview: Extract<ActionPreview, { status: 'ok' }>): ConfirmReply {
  const tz = preview.time_zone;
  const waiting = describeLocalRange(preview.waiting_booking.starts_at, preview.waiting_booking.ends_at, tz);
  const holders = preview.holding_bookings.map((h) => describeLocalRange(h.starts_at, h.ends_at, tz));
  const until = describeLocalDateTime(preview.holders_wait_until, tz);
  const holdersEndBefore = preview.holding_bookings.every(
    (h) => new Date(h.ends_at) <= new Date(preview.holders_wait_until),
  );
  const apartment = preview.apartment_label;
  return {
    status: 'confirm',
    title: `Give apartment ${apartment}'s waiting ${preview.facility_name} booking access now?`,
    facts: [
      { label: 'Building', value: preview.building_name },
      { label: 'Waiting booking', value: waiting },
      { label: 'Holds the permission now', value: holders.join('\n') || '—' },
    ],
    consequence: [
      `connecX writes the waiting booking's permission to SALTO now. SALTO holds one permission per apartment and zone, so the booking that holds it loses its access and waits until ${until}.`,
      ...(holdersEndBefore
        ? [
            `That booking ends before then, so apartment ${apartment}'s key cards will not open the ${preview.facility_name} for it.`,
          ]
        : []),
    ],
    button: 'Give the waiting booking access now',
    note: "This link works once. If you do nothing, connecX writes the waiting booking when the current one's access ends.",
  };
}

export function grantedReply(): DoneReply {
  return {
    status: 'granted',
    title: 'Done: the waiting booking gets the permission now',
    text: 'connecX is writing it to SALTO; it takes effect within a minute. The booking that held the permission now waits, and its access state shows until when. This link has been used and will not work again.',
  };
}

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
    text: "Each action link works once. Nothing more was changed. The booking's access state in connecX shows where things stand.",
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

const usedOutcomes: Record<string, string> = {
  granted: 'The waiting booking was given the permission.',
  not_waiting: 'Nothing was changed: the booking no longer waited.',
  booking_gone: 'Nothing was changed: the booking had been cancelled or had finished.',
};

export interface LinkUse {
  actedAt: Date | string;
  outcome: string;
  timeZone: string;
  /** The recipients of the emails that carried the link: the link is the only credential, so who
   * used it is known only as "someone the link was emailed to". */
  emailedTo: string[];
}

export function refusalReply(reason: Refusal, use?: LinkUse): { status: number; reply: DoneReply } {
  const r = refusals[reason];
  const reply: DoneReply = { status: reason, title: r.title, text: r.text };
  if (reason === 'already_used' && use) {
    const at = describeLocalDateTime(use.actedAt, use.timeZone);
    const by = use.emailedTo.length ? ` from the link emailed to ${use.emailedTo.join(', ')}` : '';
    reply.text = `It was used on ${at}${by}. ${usedOutcomes[use.outcome] ?? ''} Each action link works once; nothing more was changed.`;
    reply.used = { at, emailedTo: use.emailedTo, outcome: use.outcome };
  }
  return { status: r.status, reply };
}

// Alerts in proportion: an outbox email that reports several alerts of one building and kind (a burst,
// gathered by integration.enqueue_alert_email) is a digest, one email with their count and a readable
// list, capped at DIGEST_LIST_LIMIT ("and 12 more"). Each listed alert keeps what a manager acts on: a
// double booking its own signed "give access now" link, a booking without access its reason, an
// unknown SALTO ID where it is used. The facts are worded by buildAlertEmail, as in the email of a
// single alert, so both say the same thing; the template is emails/digest.tsx.

import { describeLocalDateTime } from '../time/local-time.ts';
import {
  type AlertEmail,
  type AlertFacts,
  type AlertKind,
  buildAlertEmail,
  type DoubleBookingEmailProps,
  subjectLine,
  type UnknownSaltoIdEmailProps,
} from './email-content.ts';

/** How many alerts a digest lists; the others are counted ("and 12 more"). */
export const DIGEST_LIST_LIMIT = 10;

/** What one outbox email reports: its first alerts (at most DIGEST_LIST_LIMIT), and how many in all. */
export interface ReportedAlerts {
  alerts: AlertFacts[];
  total: number;
}

/** One alert in the list: a heading, its facts, and its action link when it has one. */
export interface DigestItem {
  title: string;
  rows: [label: string, value: string][];
  action?: DoubleBookingEmailProps['action'];
}

export interface DigestEmailProps {
  buildingName: string;
  timeZone: string;
  kind: AlertKind;
  /** The count in words: "12 double bookings". */
  count: string;
  items: DigestItem[];
  /** Alerts counted but not listed. */
  more: number;
  /** access_not_in_place: the building's lead time in words. */
  leadTime?: string;
}

export type DigestEmail = { kind: 'digest'; subject: string; props: DigestEmailProps };

const nouns: Record<AlertKind, [one: string, many: string]> = {
  double_booking: ['double booking', 'double bookings'],
  access_not_in_place: ['booking without access in place', 'bookings without access in place'],
  unknown_salto_id: ['ID SALTO does not know', 'IDs SALTO does not know'],
  salto_unreachable: ['SALTO outage', 'SALTO outages'],
};

/** "12 double bookings", "1 double booking". */
export function countAlerts(kind: AlertKind, n: number): string {
  return `${n} ${nouns[kind][n === 1 ? 0 : 1]}`;
}

function item(email: AlertEmail): DigestItem {
  switch (email.kind) {
    case 'double_booking': {
      const p = email.props;
      return {
        title: `Apartment ${p.apartmentLabel} · ${p.facilityName}`,
        rows: [
          ['Waiting booking', p.waitingBooking],
          [
            p.overriddenAt ? `Holds the permission (moved by a manager on ${p.overriddenAt})` : 'Holds the permission',
            p.holdingBookings.length ? p.holdingBookings.join('; ') : '—',
          ],
          p.neverWritten
            ? ['Written automatically', `never: it ends before the permission is free (${p.writeAt})`]
            : ['Written automatically', p.writeAt],
          ['Access level (EXT ID)', p.accessLevelId],
          ['Zone ID', p.zoneId],
        ],
        action: p.action,
      };
    }
    case 'access_not_in_place': {
      const p = email.props;
      return {
        title: `Apartment ${p.apartmentLabel} · ${p.facilityName}`,
        rows: [
          ['Booking', p.booking],
          ['Access state', p.state],
          ['Reason', p.reason],
          ['Access level (EXT ID)', p.accessLevelId ?? 'not set'],
          ['Zone ID', p.zoneId ?? 'not set'],
        ],
      };
    }
    case 'unknown_salto_id': {
      const p = email.props;
      return p.what === 'zone'
        ? {
            title: `Access Control Facility ID ${p.unknownId}`,
            rows: [['Facility', p.usedBy.join(', ') || '—'], ['Must match', 'the Zone ID in SALTO'], ...fixRows(p)],
          }
        : {
            title: `Access Control ID ${p.unknownId}`,
            rows: [
              ['Apartment', p.usedBy.join(', ') || '—'],
              ['Must match', 'the User Access Level EXT ID in SALTO'],
              ...fixRows(p),
            ],
          };
    }
    case 'salto_unreachable': {
      const p = email.props;
      return {
        title: `Failing since ${p.since}`,
        rows: [
          ['SALTO server', p.server],
          ['Apartments waiting to be written', String(p.pendingAccessLevels)],
          ['Last error', p.lastError ?? 'no answer'],
        ],
      };
    }
  }
}

/** An unknown ID's closest IDs in SALTO (when there are any) and where to fix it. */
function fixRows(p: UnknownSaltoIdEmailProps): DigestItem['rows'] {
  return [
    ...(p.didYouMean ? [['Closest in SALTO', p.didYouMean] as [string, string]] : []),
    ['Fix in', `${p.fixIn.screen}, ${p.fixIn.field}`],
    ['In Studio', `table ${p.fixIn.table}, column ${p.fixIn.column}`],
  ];
}

function subject(kind: AlertKind, total: number, buildingName: string): string {
  const plural = (one: string, many: string) => `${total} ${total === 1 ? one : many}`;
  switch (kind) {
    case 'double_booking':
      return `${plural('double booking', 'double bookings')} at ${buildingName}`;
    case 'access_not_in_place':
      return `Access not in place: ${plural('booking', 'bookings')} at ${buildingName}`;
    case 'unknown_salto_id':
      return `Configuration problems: SALTO does not know ${plural('ID', 'IDs')} at ${buildingName}`;
    case 'salto_unreachable':
      return `SALTO unreachable at ${buildingName}: ${plural('outage', 'outages')}`;
  }
}

/** The digest of several alerts of one building and kind (`alerts` all of one kind, listed in order). */
export function buildDigestEmail({ alerts, total }: ReportedAlerts): DigestEmail {
  const first = alerts[0];
  if (!first) throw new Error('a digest needs at least one alert');
  const listed = alerts.slice(0, DIGEST_LIST_LIMIT);
  const emails = listed.map((facts) => {
    try {
      return buildAlertEmail(facts);
    } catch (error) {
      // One alert whose facts are gone (its booking deleted since) does not hold back the others.
      return { failed: facts, reason: (error as Error).message };
    }
  });
  const kind = first.kind;
  const count = countAlerts(kind, total);
  const props: DigestEmailProps = {
    buildingName: first.building.name,
    timeZone: first.building.timeZone,
    kind,
    count,
    items: emails.map((email) =>
      'failed' in email
        ? {
            title: `Alert ${email.failed.id}`,
            rows: [
              ['Raised', describeLocalDateTime(email.failed.createdAt, email.failed.building.timeZone)],
              ['Not described', email.reason],
            ],
          }
        : item(email),
    ),
    more: Math.max(0, total - listed.length),
    leadTime: emails.find(
      (e): e is Extract<AlertEmail, { kind: 'access_not_in_place' }> => 'kind' in e && e.kind === 'access_not_in_place',
    )?.props.leadTime,
  };
  return { kind: 'digest', subject: subjectLine(subject(kind, total, first.building.name)), props };
}

/** The email an outbox row sends: the single alert's own email, or the digest of several. */
export function buildOutboxEmail(reported: ReportedAlerts): AlertEmail | DigestEmail {
  const [only] = reported.alerts;
  if (reported.total === 1 && only) return buildAlertEmail(only);
  return buildDigestEmail(reported);
}

// From an alert record (integration.alerts) and the facts around it to what an alert email says:
// the subject and the props of its React Email template, every time in the building's local time.
// Templates in emails/ only lay these out; the wording of facts lives here, next to the rules that
// decide them, and is shared by the send function (Deno), the preview (`npm run email:dev`) and tests.
import { z } from 'zod';
import {
  describeDuration,
  describeLocalDate,
  describeLocalDateTime,
  describeLocalRange,
  isReadableInstant,
} from '../time/local-time.ts';

export type AlertKind = 'double_booking' | 'access_not_in_place' | 'unknown_salto_id' | 'salto_unreachable';
export const alertKinds: readonly AlertKind[] = [
  'double_booking',
  'access_not_in_place',
  'unknown_salto_id',
  'salto_unreachable',
];

const instant = z.union([z.string(), z.date()]).transform((v) => new Date(v));
const bookingTimes = z.object({ id: z.string(), starts_at: instant, ends_at: instant });

/** details of a double_booking alert, as integration.refresh_pair writes them. */
export const doubleBookingDetails = z.object({
  apartment_label: z.string(),
  access_level_id: z.string().nullable(),
  facility_name: z.string(),
  zone_id: z.string().nullable(),
  waiting_booking: bookingTimes,
  holding_bookings: z.array(bookingTimes).nullable(),
  write_at: instant.nullable(),
});

/**
 * details of an unknown_salto_id alert, as the ID check, the sync engine and the nightly check write
 * them. suggestions (the closest IDs SALTO lists, best first) come with the ID check's alert only.
 */
const suggestedIds = z.array(z.string()).optional();
export const unknownSaltoIdDetails = z.discriminatedUnion('what', [
  z.object({
    what: z.literal('zone'),
    zone_id: z.string(),
    facility_id: z.string().nullish(),
    suggestions: suggestedIds,
  }),
  z.object({ what: z.literal('access_level'), access_level_id: z.string(), suggestions: suggestedIds }),
]);

/** details of a salto_unreachable alert, as integration.check_salto_reachable writes them. */
export const saltoUnreachableDetails = z.object({
  failing_since: instant,
  threshold_minutes: z.number(),
  server: z.string(),
  pending_access_levels: z.number(),
  last_error: z.string().nullable(),
});

export interface BuildingFacts {
  name: string;
  timeZone: string;
}

/** A booking as it stands when the email is written (access_not_in_place needs the live state). */
export interface BookingFacts {
  startsAt: Date;
  endsAt: Date;
  apartmentLabel: string;
  facilityName: string;
  accessLevelId: string | null;
  zoneId: string | null;
  state: string | null;
  reason: string | null;
}

export interface AlertFacts {
  id: string;
  kind: AlertKind;
  createdAt: Date;
  details: unknown;
  building: BuildingFacts;
  booking?: BookingFacts;
  /** unknown_salto_id: the facility or apartments that use the unknown ID. */
  usedBy?: string[];
  /**
   * unknown_salto_id: the closest IDs SALTO lists, best first, when the alert's details carry none
   * (an alert raised by the sync or the nightly check; the ID's check found them).
   */
  suggestions?: string[];
  /** access_not_in_place: the building's lead time in minutes. */
  leadTimeMinutes?: number;
  /** double_booking: the signed action link, when one is offered. */
  action?: { url: string; expiresAt: Date };
  /**
   * double_booking: a manager gave the holding booking the permission ahead of its turn (from an
   * earlier email's action link). No link is offered then: it would swap the two back.
   */
  override?: { grantedAt: Date };
}

interface Common {
  buildingName: string;
  timeZone: string;
}

export interface DoubleBookingEmailProps extends Common {
  apartmentLabel: string;
  facilityName: string;
  accessLevelId: string;
  zoneId: string;
  waitingBooking: string;
  holdingBookings: string[];
  /** When the product writes the waiting booking's permission without anyone acting. */
  writeAt: string;
  /** How many bookings the email is about, in words: "two", "three". */
  bookingCount: string;
  /** The waiting booking ends before the permission is free: it gets no access unless someone acts. */
  neverWritten: boolean;
  /** When a manager gave the holding booking the permission ahead of its turn, if one did. */
  overriddenAt?: string;
  /** For the manual SALTO steps: the waiting booking's local date(s) and hours. */
  saltoPeriod: string;
  saltoHours: string;
  action?: { url: string; expires: string };
}

export interface AccessNotInPlaceEmailProps extends Common {
  apartmentLabel: string;
  facilityName: string;
  accessLevelId: string | null;
  zoneId: string | null;
  booking: string;
  leadTime: string;
  state: string;
  reason: string;
}

export interface UnknownSaltoIdEmailProps extends Common {
  what: 'zone' | 'access_level';
  unknownId: string;
  /** The facility name, or the apartment labels, carrying the unknown ID. */
  usedBy: string[];
  /** The closest IDs SALTO lists, best first (the same letters in another case first); may be empty. */
  suggestions: string[];
  /** "Did you mean "POOL"?" (or "... "POOL" or "POOL-1"?"), null without suggestions. */
  didYouMean: string | null;
  /** Where the ID is fixed: the portal screen and field, and the Studio table and column. */
  fixIn: { screen: string; field: string; table: string; column: string };
}

/** Where each kind of SALTO ID is set, in the portal and in Studio (as the views' hints name them). */
export const saltoIdFields: Record<UnknownSaltoIdEmailProps['what'], UnknownSaltoIdEmailProps['fixIn']> = {
  zone: {
    screen: 'Settings > Facilities',
    field: 'Access Control Facility ID',
    table: 'public.facilities',
    column: 'access_control_facility_id',
  },
  access_level: {
    screen: 'Building > Apartments',
    field: 'Access Control ID',
    table: 'public.apartments',
    column: 'access_control_id',
  },
};

/** "Did you mean "POOL"?", "Did you mean "POOL" or "POOL-1"?"; null for none. */
export function didYouMean(suggestions: readonly string[]): string | null {
  return suggestions.length ? `Did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?` : null;
}

export interface SaltoUnreachableEmailProps extends Common {
  since: string;
  threshold: string;
  server: string;
  pendingAccessLevels: number;
  lastError: string | null;
}

export type AlertEmail =
  | { kind: 'double_booking'; subject: string; props: DoubleBookingEmailProps }
  | { kind: 'access_not_in_place'; subject: string; props: AccessNotInPlaceEmailProps }
  | { kind: 'unknown_salto_id'; subject: string; props: UnknownSaltoIdEmailProps }
  | { kind: 'salto_unreachable'; subject: string; props: SaltoUnreachableEmailProps };

/**
 * An email subject is one header line: whatever a building, apartment or facility name holds (the
 * database refuses control and formatting characters in names, but a row stored before that check, or
 * written past it, may still carry them), each run of control, formatting or line-separating
 * characters, with the blanks around it, becomes one space. So a subject never carries CR or LF.
 */
export function subjectLine(text: string): string {
  return text.replace(/\s*[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+\s*/gu, ' ').trim();
}

const stateWords: Record<string, string> = {
  pending: 'just booked, its SALTO access not yet worked out',
  waiting: 'waiting for another booking to release the permission',
  scheduled: 'not yet written to SALTO',
  failed: 'failed',
  released: 'released',
  active: 'active in SALTO',
};

/** SALTO periods run in whole local days; the steps name the dates the booking touches. */
function saltoPeriod(start: Date, end: Date, timeZone: string) {
  const first = describeLocalDate(start, timeZone);
  const last = describeLocalDate(new Date(end.getTime() - 1), timeZone);
  return first === last ? first : `${first} to ${last}`;
}

/** "two", "three" ... "twelve", then digits: for headings. */
export function countWord(n: number): string {
  const words = [
    'no',
    'one',
    'two',
    'three',
    'four',
    'five',
    'six',
    'seven',
    'eight',
    'nine',
    'ten',
    'eleven',
    'twelve',
  ];
  return words[n] ?? String(n);
}

function localHours(start: Date, end: Date, timeZone: string) {
  if (!isReadableInstant(start) || !isReadableInstant(end)) return 'the whole booking (it is open-ended)';
  const range = describeLocalRange(start, end, timeZone);
  return range.slice(range.indexOf(', ') + 2);
}

export function buildAlertEmail(facts: AlertFacts): AlertEmail {
  const { building } = facts;
  const tz = building.timeZone;
  const common: Common = { buildingName: building.name, timeZone: tz };
  switch (facts.kind) {
    case 'double_booking': {
      const d = doubleBookingDetails.parse(facts.details);
      const w = d.waiting_booking;
      const props: DoubleBookingEmailProps = {
        ...common,
        apartmentLabel: d.apartment_label,
        facilityName: d.facility_name,
        accessLevelId: d.access_level_id ?? '(not set)',
        zoneId: d.zone_id ?? '(not set)',
        waitingBooking: describeLocalRange(w.starts_at, w.ends_at, tz),
        holdingBookings: (d.holding_bookings ?? []).map((h) => describeLocalRange(h.starts_at, h.ends_at, tz)),
        writeAt: d.write_at ? describeLocalDateTime(d.write_at, tz) : 'as soon as the current booking finishes',
        bookingCount: countWord((d.holding_bookings ?? []).length + 1),
        neverWritten: d.write_at !== null && isReadableInstant(w.ends_at) && d.write_at >= w.ends_at,
        overriddenAt: facts.override && describeLocalDateTime(facts.override.grantedAt, tz),
        saltoPeriod: saltoPeriod(w.starts_at, w.ends_at, tz),
        saltoHours: localHours(w.starts_at, w.ends_at, tz),
        action: !facts.override
          ? facts.action && { url: facts.action.url, expires: describeLocalDateTime(facts.action.expiresAt, tz) }
          : undefined,
      };
      return {
        kind: 'double_booking',
        subject: subjectLine(
          `Double booking: ${d.facility_name}, apartment ${d.apartment_label}, ${describeLocalDate(w.starts_at, tz)}`,
        ),
        props,
      };
    }
    case 'access_not_in_place': {
      const b = facts.booking;
      if (!b) throw new Error(`access_not_in_place alert ${facts.id} has no booking`);
      const props: AccessNotInPlaceEmailProps = {
        ...common,
        apartmentLabel: b.apartmentLabel,
        facilityName: b.facilityName,
        accessLevelId: b.accessLevelId,
        zoneId: b.zoneId,
        booking: describeLocalRange(b.startsAt, b.endsAt, tz),
        leadTime: describeDuration(facts.leadTimeMinutes ?? 120),
        state: stateWords[b.state ?? ''] ?? b.state ?? 'unknown',
        reason: b.reason ?? 'The permission has not been written to SALTO yet.',
      };
      return {
        kind: 'access_not_in_place',
        subject: subjectLine(
          `Access not in place: ${b.facilityName}, apartment ${b.apartmentLabel}, ${describeLocalDateTime(b.startsAt, tz)}`,
        ),
        props,
      };
    }
    case 'unknown_salto_id': {
      const d = unknownSaltoIdDetails.parse(facts.details);
      const unknownId = d.what === 'zone' ? d.zone_id : d.access_level_id;
      // Never the unknown ID itself, never twice; at most the three the check offers.
      const suggestions = [...new Set(d.suggestions?.length ? d.suggestions : (facts.suggestions ?? []))]
        .filter((s) => s !== unknownId)
        .slice(0, 3);
      const props: UnknownSaltoIdEmailProps = {
        ...common,
        what: d.what,
        unknownId,
        usedBy: facts.usedBy ?? [],
        suggestions,
        didYouMean: didYouMean(suggestions),
        fixIn: saltoIdFields[d.what],
      };
      return {
        kind: 'unknown_salto_id',
        subject: subjectLine(
          d.what === 'zone'
            ? `Configuration problem: SALTO has no zone "${d.zone_id}"`
            : `Configuration problem: SALTO has no access level "${d.access_level_id}"`,
        ),
        props,
      };
    }
    case 'salto_unreachable': {
      const d = saltoUnreachableDetails.parse(facts.details);
      const props: SaltoUnreachableEmailProps = {
        ...common,
        since: describeLocalDateTime(d.failing_since, tz),
        threshold: describeDuration(d.threshold_minutes),
        server: d.server,
        pendingAccessLevels: d.pending_access_levels,
        lastError: d.last_error,
      };
      return {
        kind: 'salto_unreachable',
        subject: subjectLine(`SALTO unreachable at ${building.name} since ${props.since}`),
        props,
      };
    }
  }
}

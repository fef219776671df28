// Realistic sample alerts for the preview (`npm run email:dev`) and the screenshot test: the demo
// building (Harbour View Residences, Sydney), run through the same buildAlertEmail and buildDigestEmail
// the send function uses, so the preview shows exactly what managers receive.
import { buildDigestEmail, type DigestEmailProps, type ReportedAlerts } from '../src/shared/alerts/digest.ts';
import {
  type AccessNotInPlaceEmailProps,
  type AlertFacts,
  type AlertKind,
  buildAlertEmail,
  type DoubleBookingEmailProps,
  type SaltoUnreachableEmailProps,
  type UnknownSaltoIdEmailProps,
} from '../src/shared/alerts/email-content.ts';

const building = { name: 'Harbour View Residences', timeZone: 'Australia/Sydney' };

export const sampleAlerts: Record<AlertKind, AlertFacts> = {
  double_booking: {
    id: '6f1c2a4e-8d3b-4a51-9c7e-2b8f0d4e6a10',
    kind: 'double_booking',
    createdAt: new Date('2026-12-01T02:14:00Z'),
    building,
    details: {
      apartment_label: '501/56',
      access_level_id: 'APT-501-56',
      facility_name: 'Gym',
      zone_id: 'GYM-01',
      // Next Tuesday 18:00-19:00 Sydney (AEDT, UTC+11) waits for today's 18:00-19:00 booking.
      waiting_booking: {
        id: 'b7e3c0f2-3a9d-4c1e-8f5b-6d2a9e4c7b31',
        starts_at: '2026-12-08T07:00:00Z',
        ends_at: '2026-12-08T08:00:00Z',
      },
      holding_bookings: [
        {
          id: 'c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f',
          starts_at: '2026-12-01T07:00:00Z',
          ends_at: '2026-12-01T08:00:00Z',
        },
      ],
      // The holder's end plus the gym's 5-minute after-buffer.
      write_at: '2026-12-01T08:05:00Z',
    },
    action: {
      url: 'http://127.0.0.1:55426/#token=sample',
      expiresAt: new Date('2026-12-04T02:14:00Z'),
    },
  },
  access_not_in_place: {
    id: '0a9b8c7d-6e5f-4a3b-9c1d-2e3f4a5b6c7d',
    kind: 'access_not_in_place',
    createdAt: new Date('2026-12-03T05:30:00Z'),
    building,
    details: {},
    leadTimeMinutes: 120,
    booking: {
      startsAt: new Date('2026-12-03T07:00:00Z'),
      endsAt: new Date('2026-12-03T08:30:00Z'),
      apartmentLabel: '1203/56',
      facilityName: 'Pool room',
      accessLevelId: 'APT-1203-56',
      zoneId: 'POOL-01',
      state: 'failed',
      reason:
        'SALTO has no zone with the Zone ID "POOL-01". Check the facility\'s Access Control Facility ID in Settings > Facilities: it must match the zone\'s ID in SALTO ProAccess SPACE.',
    },
  },
  unknown_salto_id: {
    id: '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
    kind: 'unknown_salto_id',
    createdAt: new Date('2026-12-03T05:30:00Z'),
    building,
    // Found by the check made when the Zone ID was saved: SALTO lists two zones one edit away.
    details: {
      what: 'zone',
      zone_id: 'POOL-01',
      facility_id: 'f0e1d2c3-b4a5-4968-8776-655443322110',
      suggestions: ['POOL-1', 'POOL01'],
    },
    usedBy: ['Pool room'],
  },
  salto_unreachable: {
    id: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
    kind: 'salto_unreachable',
    createdAt: new Date('2026-12-03T09:20:00Z'),
    building,
    details: {
      failing_since: '2026-12-03T09:05:00Z',
      threshold_minutes: 15,
      server: 'https://salto.harbourview.example:8100',
      pending_access_levels: 3,
      last_error: 'connect ECONNREFUSED 203.0.113.10:8100',
    },
  },
};

const built = (kind: AlertKind) => buildAlertEmail(sampleAlerts[kind]);

export const sampleDoubleBooking = built('double_booking').props as DoubleBookingEmailProps;
export const sampleAccessNotInPlace = built('access_not_in_place').props as AccessNotInPlaceEmailProps;
export const sampleUnknownZone = built('unknown_salto_id').props as UnknownSaltoIdEmailProps;
/** An Access Control ID typed in the wrong case: SALTO lists the same letters in capitals. */
export const sampleUnknownAccessLevelAlert: AlertFacts = {
  id: '3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a',
  kind: 'unknown_salto_id',
  createdAt: new Date('2026-12-03T05:31:00Z'),
  building,
  details: { what: 'access_level', access_level_id: 'apt-1203-56', suggestions: ['APT-1203-56'] },
  usedBy: ['1203/56'],
};
export const sampleUnknownAccessLevel = buildAlertEmail(sampleUnknownAccessLevelAlert)
  .props as UnknownSaltoIdEmailProps;

/**
 * A zone SALTO has nothing close to, found by the nightly check (its details carry no suggestions):
 * the email names where to fix it and offers nothing.
 */
export const sampleUnknownZoneNothingClose: AlertFacts = {
  id: '4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b',
  kind: 'unknown_salto_id',
  createdAt: new Date('2026-12-03T05:32:00Z'),
  building,
  details: { what: 'zone', zone_id: 'ROOFTOP', facility_id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d' },
  usedBy: ['Rooftop terrace'],
};

/** Three wrong IDs saved together (a building set up in one go): one digest, each with its closest IDs. */
export const sampleUnknownIdsBurst: ReportedAlerts = {
  total: 3,
  alerts: [sampleAlerts.unknown_salto_id, sampleUnknownAccessLevelAlert, sampleUnknownZoneNothingClose],
};
export const sampleSaltoUnreachable = built('salto_unreachable').props as SaltoUnreachableEmailProps;

/**
 * A burst: twelve apartments booked the gym twice in one evening's bookings (one statement from the
 * app), so twelve second bookings wait. One digest email lists the first ten, each with its own link.
 */
export const sampleDoubleBookingBurst: ReportedAlerts = {
  total: 12,
  alerts: Array.from({ length: 10 }, (_, i): AlertFacts => {
    const floor = 3 + i;
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    const day = (d: number, hour: number) =>
      `2026-12-${String(d).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;
    // Sydney evenings (AEDT, UTC+11): 18:00 + i/2 hours; the waiting booking a week after the holder.
    const hour = 7 + Math.floor(i / 2);
    return {
      id: `6f1c2a4e-8d3b-4a51-9c7e-2b8f0d4e6a${hex(i)}`,
      kind: 'double_booking',
      createdAt: new Date('2026-12-01T02:14:00Z'),
      building,
      details: {
        apartment_label: `${floor}01/56`,
        access_level_id: `APT-${floor}01-56`,
        facility_name: 'Gym',
        zone_id: 'GYM-01',
        waiting_booking: {
          id: `b7e3c0f2-3a9d-4c1e-8f5b-6d2a9e4c7b${hex(i)}`,
          starts_at: day(8, hour),
          ends_at: day(8, hour + 1),
        },
        holding_bookings: [
          { id: `c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e${hex(i)}`, starts_at: day(1, hour), ends_at: day(1, hour + 1) },
        ],
        write_at: `2026-12-01T${String(hour + 1).padStart(2, '0')}:05:00Z`,
      },
      action: {
        url: `http://127.0.0.1:55426/#token=sample-${i + 1}`,
        expiresAt: new Date('2026-12-04T02:14:00Z'),
      },
    };
  }),
};
export const sampleDigest: DigestEmailProps = buildDigestEmail(sampleDoubleBookingBurst).props;

/**
 * After a manager acted: the former holder (Thu 3 Dec 18:00-19:00) now waits for the booking given
 * the permission ahead of its turn (Tue 8 Dec), and ends before that one's access does. The follow-up
 * email says so and offers no button that would swap them back.
 */
export const sampleAfterAction: AlertFacts = {
  id: '7a1c2a4e-8d3b-4a51-9c7e-2b8f0d4e6a11',
  kind: 'double_booking',
  createdAt: new Date('2026-12-01T03:00:00Z'),
  building,
  details: {
    apartment_label: '501/56',
    access_level_id: 'APT-501-56',
    facility_name: 'Gym',
    zone_id: 'GYM-01',
    waiting_booking: {
      id: 'c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f',
      starts_at: '2026-12-03T07:00:00Z',
      ends_at: '2026-12-03T08:00:00Z',
    },
    holding_bookings: [
      {
        id: 'b7e3c0f2-3a9d-4c1e-8f5b-6d2a9e4c7b31',
        starts_at: '2026-12-08T07:00:00Z',
        ends_at: '2026-12-08T08:00:00Z',
      },
    ],
    write_at: '2026-12-08T08:05:00Z',
  },
  override: { grantedAt: new Date('2026-12-01T02:58:00Z') },
  // Would be offered without the override; the email must drop it.
  action: { url: 'http://127.0.0.1:55426/#token=sample-after', expiresAt: new Date('2026-12-03T07:00:00Z') },
};

/** Three bookings of one apartment and facility (two hold, one waits), in a Berlin building. */
export const sampleThreeBookingsBerlin: AlertFacts = {
  id: '8b1c2a4e-8d3b-4a51-9c7e-2b8f0d4e6a12',
  kind: 'double_booking',
  createdAt: new Date('2026-12-01T09:00:00Z'),
  building: { name: 'Spreeblick Höfe', timeZone: 'Europe/Berlin' },
  details: {
    apartment_label: '2.04',
    access_level_id: 'APT-2-04',
    facility_name: 'Sauna',
    zone_id: 'SAUNA-1',
    waiting_booking: {
      id: 'd7e3c0f2-3a9d-4c1e-8f5b-6d2a9e4c7b33',
      starts_at: '2026-12-05T17:00:00Z',
      ends_at: '2026-12-05T18:00:00Z',
    },
    holding_bookings: [
      {
        id: 'e2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e41',
        starts_at: '2026-12-04T17:00:00Z',
        ends_at: '2026-12-04T18:00:00Z',
      },
      {
        id: 'f2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e42',
        starts_at: '2026-12-04T18:00:00Z',
        ends_at: '2026-12-04T19:00:00Z',
      },
    ],
    write_at: '2026-12-04T19:00:00Z',
  },
  action: { url: 'http://127.0.0.1:55426/#token=sample-berlin', expiresAt: new Date('2026-12-04T09:00:00Z') },
};

/** A booking stored with an infinite end (before the dates were checked): the email says open-ended. */
export const sampleOpenEnded: AlertFacts = {
  ...sampleAlerts.access_not_in_place,
  id: '9c1c2a4e-8d3b-4a51-9c7e-2b8f0d4e6a13',
  booking: { ...sampleAlerts.access_not_in_place.booking!, endsAt: new Date(Number.POSITIVE_INFINITY) },
};

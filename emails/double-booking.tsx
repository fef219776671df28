// Double booking: a second booking of the same facility by the same apartment waits, because SALTO
// holds one permission per access level and zone. Says what the product will do on its own and when,
// offers the one-click action, and the exact SALTO steps for a manager who prefers to act there.
import { Button, Text } from '@react-email/components';
import type { DoubleBookingEmailProps } from '../src/shared/alerts/email-content.ts';
import { AlertLayout, colors, Facts, Id, Paragraph, SectionTitle, Steps } from './_components/layout.tsx';
import { sampleDoubleBooking } from './sample-data.ts';

export default function DoubleBookingEmail(p: DoubleBookingEmailProps) {
  return (
    <AlertLayout
      preview={`Apartment ${p.apartmentLabel}'s ${p.facilityName} booking on ${p.waitingBooking} is written at ${p.writeAt}.`}
      tone="warn"
      label="Double booking"
      title={`Apartment ${p.apartmentLabel} has ${p.bookingCount} bookings of the ${p.facilityName}`}
      buildingName={p.buildingName}
      timeZone={p.timeZone}
    >
      <Paragraph>
        SALTO holds one permission per apartment and zone, so the waiting booking cannot be written to SALTO while{' '}
        {p.holdingBookings.length > 1 ? 'the other bookings hold it' : 'the other booking holds it'}.
      </Paragraph>
      <Facts
        rows={[
          ['Apartment', p.apartmentLabel],
          ['Facility', p.facilityName],
          [
            p.overriddenAt ? 'Holds the permission (moved by a manager)' : 'Holds the permission',
            p.holdingBookings.length ? p.holdingBookings.join('; ') : '—',
          ],
          ['Waiting booking', p.waitingBooking],
          [p.neverWritten ? 'Permission free' : 'Written automatically', p.writeAt],
        ]}
      />
      <SectionTitle>What happens next</SectionTitle>
      {p.overriddenAt && (
        <Paragraph>
          A manager moved the permission on {p.overriddenAt}, from an earlier email: SALTO now holds it for{' '}
          {p.holdingBookings.join('; ') || 'the other booking'}, ahead of its turn. This email offers no button, so the
          two bookings are not swapped back by accident.
        </Paragraph>
      )}
      {p.neverWritten ? (
        <Paragraph>
          <strong>This booking gets no access on its own.</strong> It ends before the permission is free ({p.writeAt}),
          so apartment {p.apartmentLabel}'s key cards will not open the {p.facilityName} for {p.waitingBooking}. If the
          resident still needs it, let them in another way{p.action ? ', or move the permission below' : ''}.
        </Paragraph>
      ) : (
        <Paragraph>
          {p.overriddenAt ? '' : 'Nothing is needed from you. '}At <strong>{p.writeAt}</strong>, when the current
          booking's access ends, connecX writes the waiting booking to SALTO and apartment {p.apartmentLabel}'s key
          cards open the {p.facilityName} for {p.waitingBooking}.
        </Paragraph>
      )}
      {p.action && (
        <>
          <SectionTitle>Only if the waiting booking needs its access sooner</SectionTitle>
          <Paragraph>
            connecX can move the permission to the waiting booking now. The booking that holds it then{' '}
            <strong>loses its access</strong> and waits until the waiting booking ends. You will see what changes, and
            confirm, on the next page.
          </Paragraph>
          <Button
            href={p.action.url}
            style={{
              backgroundColor: '#ffffff',
              color: colors.brand,
              border: `1px solid ${colors.brand}`,
              fontSize: 14,
              fontWeight: 600,
              borderRadius: 6,
              padding: '8px 14px',
              textDecoration: 'none',
            }}
          >
            Review moving the permission
          </Button>
          <Text style={{ fontSize: 12, color: colors.muted, margin: '8px 0 0' }}>
            The link works once and expires at {p.action.expires}.
          </Text>
        </>
      )}
      <SectionTitle>Or do it yourself in SALTO ProAccess SPACE</SectionTitle>
      <Steps
        steps={[
          <>
            Open <strong>Access levels</strong> (user access levels) and select the one with EXT ID{' '}
            <Id>{p.accessLevelId}</Id> (apartment {p.apartmentLabel}).
          </>,
          <>
            On its <strong>Zones</strong> tab, open the permission for zone <Id>{p.zoneId}</Id> ({p.facilityName}).
          </>,
          <>
            Set the <strong>Period</strong> to {p.saltoPeriod} and a <strong>Timetable</strong> that allows{' '}
            {p.saltoHours}.
          </>,
          <>Save. The current booking loses its access from that moment.</>,
        ]}
      />
      <Paragraph>
        connecX keeps SALTO in line with the bookings: the next change to apartment {p.apartmentLabel}'s{' '}
        {p.facilityName} bookings rewrites this permission by the rule above
        {p.action ? ', so prefer the button when you can' : ''}.
      </Paragraph>
    </AlertLayout>
  );
}

DoubleBookingEmail.PreviewProps = sampleDoubleBooking;

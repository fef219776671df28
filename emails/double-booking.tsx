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
      title={`Apartment ${p.apartmentLabel} has two bookings of the ${p.facilityName}`}
      buildingName={p.buildingName}
      timeZone={p.timeZone}
    >
      <Paragraph>
        SALTO holds one permission per apartment and zone, so the second booking cannot be written to SALTO while the
        first one holds it.
      </Paragraph>
      <Facts
        rows={[
          ['Apartment', p.apartmentLabel],
          ['Facility', p.facilityName],
          ['Holds the permission', p.holdingBookings.length ? p.holdingBookings.join('; ') : '—'],
          ['Waiting booking', p.waitingBooking],
          ['Written automatically', p.writeAt],
        ]}
      />
      <SectionTitle>What happens next</SectionTitle>
      <Paragraph>
        Nothing is needed from you. At <strong>{p.writeAt}</strong>, when the current booking's access ends, connecX
        writes the waiting booking to SALTO and apartment {p.apartmentLabel}'s key cards open the {p.facilityName} for{' '}
        {p.waitingBooking}.
      </Paragraph>
      {p.action && (
        <>
          <SectionTitle>Give the waiting booking access now</SectionTitle>
          <Paragraph>
            If the waiting booking needs its access sooner, connecX can move the permission to it now. The current
            booking then waits instead, until the waiting booking ends. You will see a confirmation page first.
          </Paragraph>
          <Button
            href={p.action.url}
            style={{
              backgroundColor: colors.brand,
              color: '#ffffff',
              fontSize: 15,
              fontWeight: 600,
              borderRadius: 6,
              padding: '12px 20px',
              textDecoration: 'none',
            }}
          >
            Review and give access now
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
        {p.facilityName} bookings rewrites this permission by the rule above, so prefer the button when you can.
      </Paragraph>
    </AlertLayout>
  );
}

DoubleBookingEmail.PreviewProps = sampleDoubleBooking;

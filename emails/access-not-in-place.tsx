// Access not in place: a booking starts within the building's lead time and its permission is not in
// SALTO. Says which booking, why (the reason recorded with its access state) and what to do.
import type { AccessNotInPlaceEmailProps } from '../src/shared/alerts/email-content.ts';
import { AlertLayout, Facts, Id, Paragraph, SectionTitle, Steps } from './_components/layout.tsx';
import { sampleAccessNotInPlace } from './sample-data.ts';

export default function AccessNotInPlaceEmail(p: AccessNotInPlaceEmailProps) {
  // The SALTO IDs in code style, or null when not set.
  const accessLevelId = p.accessLevelId ? <Id>{p.accessLevelId}</Id> : null;
  const zoneId = p.zoneId ? <Id>{p.zoneId}</Id> : null;
  return (
    <AlertLayout
      preview={`Apartment ${p.apartmentLabel}'s ${p.facilityName} booking (${p.booking}) has no access in SALTO yet.`}
      tone="danger"
      label="Access not in place"
      title={`Apartment ${p.apartmentLabel}'s key cards will not open the ${p.facilityName}`}
      buildingName={p.buildingName}
      timeZone={p.timeZone}
    >
      <Paragraph>This booking starts within {p.leadTime}, and its permission is not in SALTO.</Paragraph>
      <Facts
        rows={[
          ['Apartment', p.apartmentLabel],
          ['Facility', p.facilityName],
          ['Booking', p.booking],
          ['Access state', p.state],
          ['Reason', p.reason],
          ['Access level (EXT ID)', accessLevelId ?? 'not set'],
          ['Zone ID', zoneId ?? 'not set'],
        ]}
      />
      <SectionTitle>What to do</SectionTitle>
      <Steps
        steps={[
          <>
            Fix what the reason names. connecX retries on its own and writes the permission as soon as SALTO accepts it.
          </>,
          <>
            If the booking starts before that, let the resident in another way, or give access level{' '}
            {accessLevelId ?? `of apartment ${p.apartmentLabel}`} a permission for zone{' '}
            {zoneId ?? `of the ${p.facilityName}`} in SALTO ProAccess SPACE for {p.booking}.
          </>,
        ]}
      />
    </AlertLayout>
  );
}

AccessNotInPlaceEmail.PreviewProps = sampleAccessNotInPlace;

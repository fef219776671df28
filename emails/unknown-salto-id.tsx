// An unknown SALTO ID (alert kind unknown_salto_id; managers read "Configuration problem"): connecX
// wrote an ID that SALTO does not know, a facility's Zone ID or an apartment's Access Control ID. Says
// where to fix it and what it must match, in the portal's words (the help article "Updating Salto IDs
// in ConnecX").
import type { UnknownSaltoIdEmailProps } from '../src/shared/alerts/email-content.ts';
import { AlertLayout, Facts, Id, Paragraph, SectionTitle, Steps } from './_components/layout.tsx';
import { sampleUnknownZone } from './sample-data.ts';

export default function UnknownSaltoIdEmail(p: UnknownSaltoIdEmailProps) {
  const zone = p.what === 'zone';
  const usedBy = p.usedBy.length ? p.usedBy.join(', ') : zone ? 'a facility' : 'an apartment';
  return (
    <AlertLayout
      preview={
        zone
          ? `SALTO has no zone "${p.unknownId}" (${usedBy}).`
          : `SALTO has no access level "${p.unknownId}" (apartment ${usedBy}).`
      }
      tone="danger"
      label="Configuration problem"
      title={
        zone
          ? `SALTO does not know the Zone ID of the ${usedBy}`
          : `SALTO does not know the Access Control ID of apartment ${usedBy}`
      }
      buildingName={p.buildingName}
      timeZone={p.timeZone}
    >
      <Paragraph>
        {zone ? (
          <>
            Bookings of the {usedBy} cannot open its doors: its Access Control Facility ID <Id>{p.unknownId}</Id> is not
            a Zone ID in SALTO ProAccess SPACE.
          </>
        ) : (
          <>
            Bookings of apartment {usedBy} cannot be given access: its Access Control ID <Id>{p.unknownId}</Id> is not
            the EXT ID of a user access level in SALTO ProAccess SPACE.
          </>
        )}
      </Paragraph>
      <Facts
        rows={
          zone
            ? [
                ['Facility', usedBy],
                ['Access Control Facility ID', <Id key="id">{p.unknownId}</Id>],
                ['Must match', 'the Zone ID in SALTO'],
              ]
            : [
                ['Apartment', usedBy],
                ['Access Control ID', <Id key="id">{p.unknownId}</Id>],
                ['Must match', 'the User Access Level EXT ID in SALTO'],
              ]
        }
      />
      <SectionTitle>How to fix it</SectionTitle>
      <Steps
        steps={
          zone
            ? [
                <>
                  In SALTO ProAccess SPACE, open <strong>Zones</strong> and find the zone for the {usedBy}. Note its ID
                  exactly.
                </>,
                <>
                  In connecX, go to <strong>Settings &gt; Facilities</strong> and select the {usedBy}.
                </>,
                <>
                  Edit the <strong>Access Control Facility ID</strong> so that it exactly matches the Zone ID in SALTO
                  (it is now <Id>{p.unknownId}</Id>).
                </>,
                <>Save. connecX writes the waiting bookings' permissions to the corrected zone by itself.</>,
              ]
            : [
                <>
                  In SALTO ProAccess SPACE, open <strong>Access levels</strong> and find apartment {usedBy}'s user
                  access level. Note its EXT ID exactly.
                </>,
                <>
                  In connecX, go to <strong>Building &gt; Apartments</strong> and select apartment {usedBy}.
                </>,
                <>
                  Edit the <strong>Access Control ID</strong> field so that it exactly matches the User Access Level EXT
                  ID in SALTO (it is now <Id>{p.unknownId}</Id>).
                </>,
                <>
                  Click <strong>Save Access Control ID</strong>. connecX moves the apartment's bookings to the corrected
                  access level by itself.
                </>,
              ]
        }
      />
    </AlertLayout>
  );
}

UnknownSaltoIdEmail.PreviewProps = sampleUnknownZone;

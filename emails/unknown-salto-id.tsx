// An unknown SALTO ID (alert kind unknown_salto_id; managers read "Configuration problem"): connecX
// holds an ID that SALTO does not know, a facility's Zone ID or an apartment's Access Control ID. Says
// what it must match, offers the closest IDs SALTO lists ("Did you mean "POOL"?"), and where to fix it:
// the portal screen in the portal's words, and the Studio table and column.
import type { ReactNode } from 'react';
import type { UnknownSaltoIdEmailProps } from '../src/shared/alerts/email-content.ts';
import { AlertLayout, Facts, Id, Paragraph, SectionTitle, Steps } from './_components/layout.tsx';
import { sampleUnknownZone } from './sample-data.ts';

export default function UnknownSaltoIdEmail(p: UnknownSaltoIdEmailProps) {
  const zone = p.what === 'zone';
  const usedBy = p.usedBy.length ? p.usedBy.join(', ') : zone ? 'a facility' : 'an apartment';
  const closest = p.suggestions.map((id, i) => (
    <span key={id}>
      {i > 0 ? ' or ' : ''}
      <Id>{id}</Id>
    </span>
  ));
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
                ...closestRow(closest),
              ]
            : [
                ['Apartment', usedBy],
                ['Access Control ID', <Id key="id">{p.unknownId}</Id>],
                ['Must match', 'the User Access Level EXT ID in SALTO'],
                ...closestRow(closest),
              ]
        }
      />
      {p.didYouMean && (
        <Paragraph>
          <strong>{p.didYouMean}</strong> SALTO lists {p.suggestions.length === 1 ? 'it' : 'them'}, and an ID matches
          only when spelled exactly as SALTO lists it, case included.
        </Paragraph>
      )}
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
                  In connecX, go to <strong>{p.fixIn.screen}</strong> and select the {usedBy}.
                </>,
                <>
                  Edit the <strong>Access Control Facility ID</strong> so that it exactly matches the Zone ID in SALTO
                  (it is now <Id>{p.unknownId}</Id>
                  {closest.length ? <>; did you mean {closest}?</> : null}).
                </>,
                <>Save. connecX writes the waiting bookings' permissions to the corrected zone by itself.</>,
              ]
            : [
                <>
                  In SALTO ProAccess SPACE, open <strong>Access levels</strong> and find apartment {usedBy}'s user
                  access level. Note its EXT ID exactly.
                </>,
                <>
                  In connecX, go to <strong>{p.fixIn.screen}</strong> and select apartment {usedBy}.
                </>,
                <>
                  Edit the <strong>Access Control ID</strong> field so that it exactly matches the User Access Level EXT
                  ID in SALTO (it is now <Id>{p.unknownId}</Id>
                  {closest.length ? <>; did you mean {closest}?</> : null}).
                </>,
                <>
                  Click <strong>Save Access Control ID</strong>. connecX moves the apartment's bookings to the corrected
                  access level by itself.
                </>,
              ]
        }
      />
      <Paragraph>
        Without the portal: in Supabase Studio, table <Id>{p.fixIn.table}</Id>, column <Id>{p.fixIn.column}</Id> of the{' '}
        {zone ? 'facility' : 'apartment'}'s row.
      </Paragraph>
    </AlertLayout>
  );
}

/** The facts row with the closest IDs SALTO lists, when there are any. */
function closestRow(closest: ReactNode[]): [string, ReactNode][] {
  return closest.length ? [[closest.length === 1 ? 'Closest ID in SALTO' : 'Closest IDs in SALTO', closest]] : [];
}

UnknownSaltoIdEmail.PreviewProps = sampleUnknownZone;

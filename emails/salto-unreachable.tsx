// SALTO unreachable: connecX has been unable to talk to the building's SALTO server for longer than the
// building's threshold. Bookings made meanwhile are kept and written when it answers again.
import type { SaltoUnreachableEmailProps } from '../src/shared/alerts/email-content.ts';
import { AlertLayout, Facts, Id, Paragraph, SectionTitle, Steps } from './_components/layout.tsx';
import { sampleSaltoUnreachable } from './sample-data.ts';

export default function SaltoUnreachableEmail(p: SaltoUnreachableEmailProps) {
  return (
    <AlertLayout
      preview={`connecX cannot reach SALTO ProAccess SPACE at ${p.buildingName} since ${p.since}.`}
      tone="danger"
      label="SALTO unreachable"
      title="connecX cannot reach your SALTO server"
      buildingName={p.buildingName}
      timeZone={p.timeZone}
    >
      <Paragraph>
        Since {p.since}, more than {p.threshold} ago, every attempt to write booking permissions to SALTO ProAccess
        SPACE has failed. New and changed bookings are kept and written as soon as SALTO answers again; until then their
        key cards may not open the facilities.
      </Paragraph>
      <Facts
        rows={[
          ['Failing since', p.since],
          ['SALTO server', <Id key="server">{p.server}</Id>],
          ['Apartments waiting to be written', String(p.pendingAccessLevels)],
          ['Last error', p.lastError ?? 'no answer'],
        ]}
      />
      <SectionTitle>What to check</SectionTitle>
      <Steps
        steps={[
          <>Is the SALTO ProAccess SPACE server running, and can you sign in to it?</>,
          <>
            In SALTO, is the SHIP interface still enabled on the port shown above, with the same authentication connecX
            uses?
          </>,
          <>
            Did the server's address, port, firewall or certificate change? Tell your connecX contact the new details.
          </>,
        ]}
      />
    </AlertLayout>
  );
}

SaltoUnreachableEmail.PreviewProps = sampleSaltoUnreachable;

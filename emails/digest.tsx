// A digest: several alerts of one building and kind that came together (a burst), in one email with
// their count and a readable list (src/shared/alerts/digest.ts). Says once what they mean and what to
// do, then each alert's facts; each double booking keeps its own "give access now" button.
import { Button, Heading, Section, Text } from '@react-email/components';
import type { DigestEmailProps } from '../src/shared/alerts/digest.ts';
import type { AlertKind } from '../src/shared/alerts/email-content.ts';
import { AlertLayout, colors, Facts, Paragraph, SectionTitle } from './_components/layout.tsx';
import { sampleDigest } from './sample-data.ts';

const labels: Record<AlertKind, string> = {
  double_booking: 'Double bookings',
  access_not_in_place: 'Access not in place',
  unknown_salto_id: 'Configuration problems',
  salto_unreachable: 'SALTO unreachable',
};

function Intro({ p }: { p: DigestEmailProps }) {
  switch (p.kind) {
    case 'double_booking':
      return (
        <>
          <Paragraph>
            Each of these bookings waits: its apartment already has a booking of the same facility, and SALTO holds one
            permission per apartment and zone.
          </Paragraph>
          <Paragraph>
            connecX writes each waiting booking to SALTO when the booking that holds the permission ends (its time is
            shown); a booking that ends before then gets no access on its own, and says so. Only if one needs its access
            sooner, use its button: connecX moves the permission to it, and the booking that holds it{' '}
            <strong>loses its access</strong> and waits instead. You confirm on the next page.
          </Paragraph>
        </>
      );
    case 'access_not_in_place':
      return (
        <Paragraph>
          These bookings start within {p.leadTime ?? 'the lead time'} and their permissions are not in SALTO, so the
          apartments' key cards will not open the facilities. Fix what each reason names: connecX retries on its own and
          writes a permission as soon as SALTO accepts it. If a booking starts before that, let the resident in another
          way.
        </Paragraph>
      );
    case 'unknown_salto_id':
      return (
        <Paragraph>
          Bookings that use these IDs cannot be given access. Make each one exactly match SALTO ProAccess SPACE: a
          facility's Access Control Facility ID (connecX <strong>Settings &gt; Facilities</strong>) must be a Zone ID in
          SALTO, an apartment's Access Control ID (<strong>Building &gt; Apartments</strong>) the EXT ID of a user
          access level. connecX writes the waiting permissions by itself once they match.
        </Paragraph>
      );
    case 'salto_unreachable':
      return (
        <Paragraph>
          Writes of booking permissions to SALTO ProAccess SPACE have failed for longer than the building accepts. New
          and changed bookings are kept and written as soon as SALTO answers again; until then their key cards may not
          open the facilities. Check that the SALTO server runs and that its SHIP interface is reachable.
        </Paragraph>
      );
  }
}

export default function DigestEmail(p: DigestEmailProps) {
  return (
    <AlertLayout
      preview={`${p.count} at ${p.buildingName}.`}
      tone={p.kind === 'double_booking' ? 'warn' : 'danger'}
      label={labels[p.kind]}
      title={p.count.charAt(0).toUpperCase() + p.count.slice(1)}
      buildingName={p.buildingName}
      timeZone={p.timeZone}
    >
      <Intro p={p} />
      {p.items.map((item, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the list is fixed when the email is rendered; it never moves
        <Section key={i} style={{ margin: '20px 0 0' }}>
          <Heading as="h3" style={{ fontSize: 15, lineHeight: '22px', fontWeight: 700, margin: '0' }}>
            {item.title}
          </Heading>
          <Facts rows={item.rows} />
          {item.action && (
            <>
              <Button
                href={item.action.url}
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
              <Text style={{ fontSize: 12, color: colors.muted, margin: '6px 0 0' }}>
                The link works once and expires at {item.action.expires}.
              </Text>
            </>
          )}
        </Section>
      ))}
      {p.more > 0 && (
        <>
          <SectionTitle>And {p.more} more</SectionTitle>
          <Paragraph>
            This email lists the first {p.items.length} of {p.count}. All of them are in the building's access alerts
            (public.access_alerts), each with its booking.
          </Paragraph>
        </>
      )}
    </AlertLayout>
  );
}

DigestEmail.PreviewProps = sampleDigest;

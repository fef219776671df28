// The frame every alert email shares: who it is from, the building, a headline, the facts, and a
// footer saying which clock the times are on and why the reader gets the email. Inline styles and
// tables only (React Email components), which is what email clients render reliably.
import { Body, Container, Head, Heading, Hr, Html, Preview, Section, Text } from '@react-email/components';
import type { ReactNode } from 'react';

export const colors = {
  ink: '#1f2933',
  muted: '#52606d',
  line: '#e4e7eb',
  page: '#f5f7fa',
  brand: '#0b5cad',
  warn: '#b44d12',
  warnBg: '#fff4e5',
  danger: '#b42318',
  dangerBg: '#fdecea',
};

const font = '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

export function AlertLayout(props: {
  preview: string;
  tone: 'warn' | 'danger';
  label: string;
  title: string;
  buildingName: string;
  timeZone: string;
  children: ReactNode;
}) {
  const toneColor = props.tone === 'danger' ? colors.danger : colors.warn;
  const toneBg = props.tone === 'danger' ? colors.dangerBg : colors.warnBg;
  return (
    <Html lang="en">
      <Head>
        {/* Without it a phone lays the email out 980 px wide and shrinks it. */}
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </Head>
      <Preview>{props.preview}</Preview>
      <Body style={{ backgroundColor: colors.page, fontFamily: font, color: colors.ink, margin: 0, padding: '24px 0' }}>
        <Container
          style={{
            backgroundColor: '#ffffff',
            border: `1px solid ${colors.line}`,
            borderRadius: 8,
            maxWidth: 600,
            padding: '0 0 8px',
          }}
        >
          <Section style={{ padding: '20px 32px 0' }}>
            <Text style={{ fontSize: 13, fontWeight: 600, letterSpacing: 0.4, color: colors.brand, margin: 0 }}>
              connecX · {props.buildingName}
            </Text>
          </Section>
          <Section style={{ padding: '12px 32px 0' }}>
            <Text
              style={{
                display: 'inline-block',
                fontSize: 12,
                fontWeight: 700,
                textTransform: 'uppercase',
                letterSpacing: 0.6,
                color: toneColor,
                backgroundColor: toneBg,
                borderRadius: 4,
                padding: '4px 8px',
                margin: 0,
              }}
            >
              {props.label}
            </Text>
            <Heading as="h1" style={{ fontSize: 22, lineHeight: '30px', fontWeight: 700, margin: '12px 0 4px' }}>
              {props.title}
            </Heading>
          </Section>
          <Section style={{ padding: '0 32px' }}>{props.children}</Section>
          <Hr style={{ borderColor: colors.line, margin: '24px 32px 12px', width: 'auto' }} />
          <Section style={{ padding: '0 32px' }}>
            <Text style={{ fontSize: 12, lineHeight: '18px', color: colors.muted, margin: '0 0 8px' }}>
              All times are building time ({props.timeZone}). You receive this email because you manage{' '}
              {props.buildingName} or are listed as one of its alert addresses. Which alerts are emailed, the lead time
              and the quiet hours are set per building in the alert email settings.
            </Text>
          </Section>
        </Container>
      </Body>
    </Html>
  );
}

export function Paragraph({ children }: { children: ReactNode }) {
  return <Text style={{ fontSize: 15, lineHeight: '23px', margin: '12px 0' }}>{children}</Text>;
}

export function SectionTitle({ children }: { children: ReactNode }) {
  return (
    <Heading as="h2" style={{ fontSize: 16, lineHeight: '22px', fontWeight: 700, margin: '24px 0 8px' }}>
      {children}
    </Heading>
  );
}

/** Label/value rows, the facts of the alert at a glance. */
export function Facts({ rows }: { rows: [label: string, value: ReactNode][] }) {
  return (
    <table
      className="facts"
      role="presentation"
      cellPadding={0}
      cellSpacing={0}
      style={{ width: '100%', borderCollapse: 'collapse', margin: '12px 0', fontSize: 14, lineHeight: '20px' }}
    >
      <tbody>
        {rows.map(([label, value]) => (
          <tr key={label}>
            <td
              style={{
                padding: '8px 12px 8px 0',
                color: colors.muted,
                verticalAlign: 'top',
                width: 170,
                borderBottom: `1px solid ${colors.line}`,
              }}
            >
              {label}
            </td>
            <td
              style={{
                padding: '8px 0',
                fontWeight: 600,
                verticalAlign: 'top',
                borderBottom: `1px solid ${colors.line}`,
              }}
            >
              {value}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Steps({ steps }: { steps: ReactNode[] }) {
  return (
    <ol style={{ fontSize: 14, lineHeight: '22px', margin: '8px 0', paddingLeft: 22 }}>
      {steps.map((step, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the steps are a fixed list from the template; they never move
        <li key={i} style={{ margin: '0 0 6px' }}>
          {step}
        </li>
      ))}
    </ol>
  );
}

/** An ID to type into SALTO or connecX exactly as shown. */
export function Id({ children }: { children: ReactNode }) {
  return (
    <code
      style={{
        fontFamily: 'SFMono-Regular, Menlo, Consolas, monospace',
        fontSize: 13,
        backgroundColor: colors.page,
        border: `1px solid ${colors.line}`,
        borderRadius: 4,
        padding: '1px 5px',
        // A long address or ID breaks anywhere rather than widening a phone's screen.
        overflowWrap: 'anywhere',
      }}
    >
      {children}
    </code>
  );
}

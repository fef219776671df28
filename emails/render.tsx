// Renders an alert email or a digest (subject + props from src/shared/alerts) with its template, to the
// HTML and plain-text bodies Resend gets. Used by the send-alerts function (Deno) and the tests (Node).
import { plainTextSelectors, render } from '@react-email/components';
import type { ReactElement } from 'react';
import type { DigestEmail as Digest } from '../src/shared/alerts/digest.ts';
import type { AlertEmail } from '../src/shared/alerts/email-content.ts';
import AccessNotInPlaceEmail from './access-not-in-place.tsx';
import DigestEmail from './digest.tsx';
import DoubleBookingEmail from './double-booking.tsx';
import SaltoUnreachableEmail from './salto-unreachable.tsx';
import UnknownSaltoIdEmail from './unknown-salto-id.tsx';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

function element(email: AlertEmail | Digest): ReactElement {
  switch (email.kind) {
    case 'digest':
      return <DigestEmail {...email.props} />;
    case 'double_booking':
      return <DoubleBookingEmail {...email.props} />;
    case 'access_not_in_place':
      return <AccessNotInPlaceEmail {...email.props} />;
    case 'unknown_salto_id':
      return <UnknownSaltoIdEmail {...email.props} />;
    case 'salto_unreachable':
      return <SaltoUnreachableEmail {...email.props} />;
  }
}

// The plain-text version keeps the facts table as aligned label/value columns and headings as written
// (html-to-text would run table cells together and upper-case headings).
const htmlToTextOptions = {
  // No hard wrapping: IDs, times and the action link stay on one line (mail clients wrap for display).
  wordwrap: false as const,
  selectors: [
    ...plainTextSelectors,
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table.facts', format: 'dataTable', options: { maxColumnWidth: 70, colSpacing: 2 } },
  ],
};

export async function renderAlertEmail(email: AlertEmail | Digest): Promise<RenderedEmail> {
  const node = element(email);
  const html = await render(node);
  const text = await render(node, { plainText: true, htmlToTextOptions });
  return { subject: email.subject, html, text };
}

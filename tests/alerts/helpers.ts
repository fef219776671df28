// What the alert tests need beyond tests/support: the mail capture (the local Resend), the action
// link secret the local functions use, local wall times in a building's zone, and ways to wait for
// emails and outbox rows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import type { Sql } from 'postgres';
import { callFunction } from '../../local/functions-client.ts';
import type { TestBuilding } from '../support/fixtures.ts';
import { eventually, stackEnv } from '../support/stack.ts';

const localDir = join(import.meta.dirname, '..', '..', '.local');

export const captureUrl = parse(readFileSync(join(localDir, 'stack.env'))).MAIL_CAPTURE_URL!;
/** Where the local stack serves the action page, which the emails' action links open. */
export const pageUrl = parse(readFileSync(join(localDir, 'stack.env'))).ALERT_PAGE_URL!;

/** The action link in an email's plain text: the action page with the token in the fragment. */
export function actionLinkIn(text: string): string {
  const escaped = pageUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = new RegExp(`(${escaped}#token=[\\w.-]+)`).exec(text);
  if (!found) throw new Error(`no action link to ${pageUrl} in the email`);
  return found[1]!;
}
/** The local functions' ALERT_LINK_SECRET, to forge a correctly signed but expired or misdirected token. */
export const linkSecret = parse(readFileSync(join(localDir, 'functions.env'))).ALERT_LINK_SECRET!;

export interface Captured {
  id: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  idempotencyKey: string | null;
}

export async function messagesTo(address: string): Promise<Captured[]> {
  const response = await fetch(`${captureUrl}/_capture/messages?to=${encodeURIComponent(address)}`);
  return (await response.json()) as Captured[];
}

export async function requestsTo(address: string): Promise<{ status: number; idempotencyKey: string | null }[]> {
  const response = await fetch(`${captureUrl}/_capture/requests?to=${encodeURIComponent(address)}`);
  return (await response.json()) as { status: number; idempotencyKey: string | null }[];
}

/** Queues failures the capture answers, only for requests addressed to `to`. */
export async function failNext(
  to: string,
  statuses: number[],
  options: { retryAfter?: number; afterStore?: boolean } = {},
) {
  const response = await fetch(`${captureUrl}/_capture/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ statuses, to, ...options }),
  });
  if (!response.ok) throw new Error(`capture faults: ${response.status}`);
}

export async function waitForMessages(address: string, count: number, timeoutMs = 20_000): Promise<Captured[]> {
  return eventually(
    async () => {
      const found = await messagesTo(address);
      return found.length >= count ? found : undefined;
    },
    timeoutMs,
    `${count} email(s) to ${address}`,
  );
}

export async function managerEmail(sql: Sql, building: TestBuilding): Promise<string> {
  const [row] = await sql<{ email: string }[]>`select email from auth.users where id = ${building.managerId}`;
  return row!.email;
}

/** Asks send-alerts for one pass now (as the minute job would), and waits for its report. */
export function sendAlertsNow() {
  const { functionsUrl, functionsSecret } = stackEnv();
  return callFunction({ FUNCTIONS_URL: functionsUrl, FUNCTIONS_SECRET: functionsSecret }, 'send-alerts', {
    query: 'wait=true',
  });
}

/** A local wall time in the building's zone as an instant (no DST ambiguity at the times used here). */
export function at(timeZone: string, local: string): Date {
  const probe = new Date(`${local}Z`);
  const offsetMs = (d: Date) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(d);
    const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - d.getTime();
  };
  return new Date(probe.getTime() - offsetMs(new Date(probe.getTime() - offsetMs(probe))));
}

/** The calendar date `days` from today in the building's zone, as YYYY-MM-DD. */
export function localDay(timeZone: string, days: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(Date.now() + days * 24 * 3600_000),
  );
}

/** How a person writes the date: "Tue 8 Dec 2026" (en-GB parts, written independently of the product's formatter). */
export function spokenDate(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone,
  })
    .format(instant)
    .replace(',', '');
}

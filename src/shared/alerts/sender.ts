// One pass of the send-alerts function over the email outbox: lease due emails, render each once
// (stored, so retries send the same bytes under the same idempotency key), send it at Resend's pace,
// and record the outcome. Waits a little for retries that come due soon (a 429's Retry-After), so a
// short hiccup is over within one pass; longer backoffs are picked up by the next wake-up.
import {
  decideAfterFailure,
  defaultRetryPolicy,
  type ResendFailure,
  type RetryPolicy,
  type SendPacer,
} from './delivery.ts';
import type { AlertFacts } from './email-content.ts';
import type { AlertFactsWithoutAction, AlertStore, OutboxRow } from './store.ts';

export interface OutgoingEmail {
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
}

export type SendResult = { ok: true; id: string } | { ok: false; failure: ResendFailure };

export interface SenderDeps {
  store: AlertStore;
  render: (facts: AlertFacts) => Promise<{ subject: string; html: string; text: string }>;
  send: (email: OutgoingEmail, idempotencyKey: string) => Promise<SendResult>;
  actionLink: (facts: AlertFactsWithoutAction & { buildingId: string }) => Promise<AlertFacts['action']>;
  from: string;
  pacer: SendPacer;
  policy?: RetryPolicy;
  /** How long a pass waits for the next retry to come due before it ends (0: never waits). */
  maxIdleWaitMs: number;
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface SendReport {
  sent: number;
  retried: number;
  failed: number;
}

const LEASE_BATCH = 10;
const LEASE_SECONDS = 120;
/** A pass never runs longer than this; what is left is the next wake-up's. */
const MAX_PASS_MS = 90_000;

export async function runSendPass(deps: SenderDeps): Promise<SendReport> {
  const report: SendReport = { sent: 0, retried: 0, failed: 0 };
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + MAX_PASS_MS;
  while (Date.now() < deadline) {
    const rows = await deps.store.lease(LEASE_BATCH, LEASE_SECONDS);
    if (rows.length === 0) {
      const dueIn = await deps.store.nextDueInMs();
      if (dueIn === undefined || dueIn > deps.maxIdleWaitMs) return report;
      await sleep(Math.max(dueIn, 50));
      continue;
    }
    for (const row of rows) {
      const outcome = await deliver(deps, row);
      report[outcome]++;
    }
  }
  return report;
}

async function deliver(deps: SenderDeps, row: OutboxRow): Promise<keyof SendReport> {
  let rendered = row.rendered;
  if (!rendered) {
    const facts = await deps.store.alertFacts(row.alertId);
    if (!facts) {
      await deps.store.markFailed(row.id, 'The alert no longer exists.');
      return 'failed';
    }
    try {
      const action = await deps.actionLink({ ...facts, buildingId: row.buildingId });
      rendered = await deps.render({ ...facts, action });
    } catch (error) {
      // A template or data problem does not heal by retrying; the row keeps the reason for people.
      await deps.store.markFailed(row.id, `Could not render the email: ${(error as Error).message}`.slice(0, 500));
      deps.log(`alert email ${row.id}: render failed`);
      return 'failed';
    }
    await deps.store.saveRendered(row.id, rendered);
  }

  await deps.pacer.turn();
  const result = await deps.send({ from: deps.from, to: row.recipients, ...rendered }, row.idempotencyKey);
  if (result.ok) {
    await deps.store.markSent(row.id, result.id);
    deps.log(`alert email ${row.id} (${row.kind}) sent to ${row.recipients.length} recipient(s)`);
    return 'sent';
  }
  const decision = decideAfterFailure(result.failure, row.attempts + 1, deps.policy ?? defaultRetryPolicy);
  if (decision.kind === 'retry') {
    if (result.failure.statusCode === 429) deps.pacer.holdFor(decision.delayMs);
    await deps.store.markRetry(row.id, decision.delayMs, decision.error);
    deps.log(`alert email ${row.id}: ${decision.error}; retry in ${decision.delayMs} ms`);
    return 'retried';
  }
  await deps.store.markFailed(row.id, decision.error);
  deps.log(`alert email ${row.id}: ${decision.error}`);
  return 'failed';
}

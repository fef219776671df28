// One pass of the send-alerts function over the email outbox: lease due emails one at a time (the
// database picks urgent kinds first and the buildings in turn, so leasing one per send keeps that order
// fair to an alert raised meanwhile), render each once (stored, so retries send the same bytes under the
// same idempotency key), send it at Resend's pace, and record the outcome. An email reporting several
// alerts is a digest: their count and the first DIGEST_LIST_LIMIT of them. Waits a little for retries
// that come due soon (a 429's Retry-After), so a short hiccup is over within one pass; longer backoffs
// are picked up by the next wake-up.
import {
  decideAfterFailure,
  defaultRetryPolicy,
  type ResendFailure,
  type RetryPolicy,
  type SendPacer,
} from './delivery.ts';
import { DIGEST_LIST_LIMIT, type ReportedAlerts } from './digest.ts';
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
  /** The email of one alert, or the digest of several (buildOutboxEmail). */
  render: (reported: ReportedAlerts) => Promise<{ subject: string; html: string; text: string }>;
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
  /** Not sent because every alert it reported was resolved first. */
  skipped: number;
}

/** One email per lease: at 2 emails a second, an alert raised meanwhile waits for at most this one. */
const LEASE_BATCH = 1;
const LEASE_SECONDS = 120;
/**
 * A pass never runs longer than this; what is left is the next wake-up's. Well inside the edge
 * runtime's wall clock (150 s, the worker retired at half): a retired worker still finishes its pass
 * and one more asked for before, and a worker killed mid-send leaves its email leased for
 * LEASE_SECONDS (docs/decisions/0018).
 */
const MAX_PASS_MS = 25_000;

export async function runSendPass(deps: SenderDeps): Promise<SendReport> {
  const report: SendReport = { sent: 0, retried: 0, failed: 0, skipped: 0 };
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
    // Only alerts whose problem lasts: one resolved before its email went out (a waiting booking
    // cancelled during the quiet hours, an ID fixed within seconds) is not reported as open.
    const { alertIds, total, resolved } = await deps.store.reportedAlerts(row.id, DIGEST_LIST_LIMIT);
    const alerts: AlertFactsWithoutAction[] = [];
    for (const alertId of alertIds) {
      const facts = await deps.store.alertFacts(alertId);
      if (facts) alerts.push(facts);
    }
    if (total === 0 && resolved > 0) {
      const reason = `Not sent: ${resolved === 1 ? 'the alert it reports was' : `all ${resolved} alerts it reports were`} resolved before it was sent (public.access_alerts: resolution).`;
      await deps.store.markSkipped(row.id, reason);
      deps.log(`alert email ${row.id} (${row.kind}): ${reason}`);
      return 'skipped';
    }
    if (alerts.length === 0) {
      await deps.store.markFailed(row.id, 'The alerts of this email no longer exist.');
      return 'failed';
    }
    try {
      // Each alert keeps its own action link (a double booking's "give access now"), in a digest too.
      const withActions: AlertFacts[] = [];
      for (const facts of alerts) {
        withActions.push({ ...facts, action: await deps.actionLink({ ...facts, buildingId: row.buildingId }) });
      }
      rendered = await deps.render({ alerts: withActions, total });
    } catch (error) {
      // A template or data problem does not heal by retrying; the row keeps the reason for people.
      const reason = `Could not render the email: ${(error as Error).message}`.slice(0, 500);
      await deps.store.markFailed(row.id, reason);
      deps.log(`alert email ${row.id} (${row.kind}): ${reason}`);
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

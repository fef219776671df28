// What to do after asking Resend to send one alert email: done, try again later (and when), or give
// up and record why. Pure decisions over what the Resend SDK returns ({ data, error, headers }), so the
// rules are tested without a network and shared by every sender.
//
// Retried: network failures (no status), 429 (rate limit; quotas too, since they reset), 5xx, and
// 409 concurrent_idempotent_requests (the same key is in flight). Every retry reuses the alert's
// idempotency key, so a request Resend did accept is never delivered twice. Everything else (400,
// 401/403 key problems, 409 invalid_idempotent_request, 422 validation) will not get better by
// repeating it: the row is marked failed with the reason, and stays in the outbox for people to see.

export interface ResendFailure {
  /** HTTP status, or null when no answer came (network, DNS, timeout). */
  statusCode: number | null;
  name?: string;
  message?: string;
  /** The Retry-After header, when the answer had one. */
  retryAfter?: string | null;
}

export type DeliveryDecision = { kind: 'retry'; delayMs: number; error: string } | { kind: 'failed'; error: string };

export interface RetryPolicy {
  /** First backoff without a Retry-After; doubles per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Transient failures in a row before the row is marked failed. With the defaults that is about two
   * days of trying, longer than any Resend outage on record and than its 24 h idempotency window.
   */
  maxAttempts: number;
}

export const defaultRetryPolicy: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 3_600_000, maxAttempts: 60 };

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date = new Date()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

export function describeFailure(f: ResendFailure): string {
  const status = f.statusCode === null ? 'no answer' : `HTTP ${f.statusCode}`;
  return `${status}${f.name ? ` ${f.name}` : ''}${f.message ? `: ${f.message}` : ''}`.slice(0, 500);
}

export function isTransient(f: ResendFailure): boolean {
  if (f.statusCode === null || f.statusCode === 429 || f.statusCode >= 500) return true;
  return f.statusCode === 409 && f.name === 'concurrent_idempotent_requests';
}

/** `attempts` counts this attempt too (1 after the first failure). */
export function decideAfterFailure(
  failure: ResendFailure,
  attempts: number,
  policy: RetryPolicy = defaultRetryPolicy,
  now: Date = new Date(),
): DeliveryDecision {
  const error = describeFailure(failure);
  if (!isTransient(failure))
    return { kind: 'failed', error: `Resend refused the email (${error}); it will not be retried.` };
  if (attempts >= policy.maxAttempts)
    return { kind: 'failed', error: `Gave up after ${attempts} attempts; last: ${error}` };
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const retryAfter = parseRetryAfter(failure.retryAfter, now);
  // Resend's own Retry-After wins (it knows when the window reopens), within the same ceiling.
  const delayMs = retryAfter !== undefined ? Math.min(policy.maxDelayMs, retryAfter) : backoff;
  return { kind: 'retry', delayMs, error };
}

/**
 * Spaces requests to stay within Resend's per-team rate limit (documented as 2 or 5 per second
 * depending on the page; 2 is the safe default), and holds every request back after a 429 until the
 * Retry-After has passed, since the limit is per team rather than per email.
 */
export class SendPacer {
  private nextAt = 0;
  constructor(
    private readonly perSecond: number,
    private readonly clock: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async turn(): Promise<void> {
    const wait = this.nextAt - this.clock();
    if (wait > 0) await this.sleep(wait);
    this.nextAt = Math.max(this.clock(), this.nextAt) + Math.ceil(1000 / this.perSecond);
  }

  holdFor(ms: number): void {
    this.nextAt = Math.max(this.nextAt, this.clock() + ms);
  }
}

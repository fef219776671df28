/**
 * When to try an access level again after a transient SALTO failure: exponential backoff with full
 * jitter (so many access levels of one building, or many buildings, do not retry in lockstep), from
 * about a second up to ten minutes. SALTO outages last minutes to hours; ten minutes bounds how late a
 * recovered server is noticed.
 */
export const FIRST_RETRY_MS = 1_000;
export const MAX_RETRY_MS = 10 * 60_000;

export function nextAttemptDelayMs(attemptsSoFar: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attemptsSoFar, 20));
  // Full jitter, but never less than half the first delay.
  return Math.max(FIRST_RETRY_MS / 2, Math.round(random() * ceiling));
}

import { describe, expect, it } from 'vitest';
import { FIRST_RETRY_MS, MAX_RETRY_MS, nextAttemptDelayMs } from '../../src/shared/sync/backoff.ts';

describe('retrying a SALTO server that is failing', () => {
  it('waits about a second after the first failure and doubles the ceiling after each', () => {
    expect(nextAttemptDelayMs(0, () => 1)).toBe(FIRST_RETRY_MS);
    expect(nextAttemptDelayMs(1, () => 1)).toBe(2 * FIRST_RETRY_MS);
    expect(nextAttemptDelayMs(5, () => 1)).toBe(32 * FIRST_RETRY_MS);
  });

  it('never waits longer than ten minutes, however long the outage', () => {
    expect(nextAttemptDelayMs(50, () => 1)).toBe(MAX_RETRY_MS);
    expect(MAX_RETRY_MS).toBe(10 * 60_000);
  });

  it('spreads retries (full jitter) so access levels and buildings do not retry in lockstep', () => {
    const delays = new Set(Array.from({ length: 50 }, () => nextAttemptDelayMs(6)));
    expect(delays.size).toBeGreaterThan(25);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(FIRST_RETRY_MS / 2);
      expect(delay).toBeLessThanOrEqual(64 * FIRST_RETRY_MS);
    }
  });
});

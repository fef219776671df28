import { describe, expect, it } from 'vitest';
import { onePassAtATime } from '../../src/shared/functions/one-pass-at-a-time.ts';

describe('one pass at a time per function instance', () => {
  it('a wake-up during a pass runs exactly one more pass after it, and both callers get the combined report', async () => {
    let passes = 0;
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const pass = onePassAtATime(
      async () => {
        passes++;
        if (passes === 1) await first;
        return 1;
      },
      (a, b) => a + b,
    );
    const a = pass(undefined);
    const b = pass(undefined);
    const c = pass(undefined);
    release();
    expect(await a).toBe(2);
    expect(await b).toBe(2);
    expect(await c).toBe(2);
    expect(passes).toBe(2);
    expect(await pass(undefined)).toBe(1); // idle again: a fresh pass
  });
});

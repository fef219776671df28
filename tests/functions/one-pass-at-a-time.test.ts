import { describe, expect, it } from 'vitest';
import { logPassFailure, onePassAtATime } from '../../src/shared/functions/one-pass-at-a-time.ts';

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

  it('the running pass hears each wake-up that arrives while it runs', async () => {
    let heard = 0;
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    const pass = onePassAtATime(async (_options: undefined, woken) => {
      if (heard > 0) return heard; // the pass after the first
      const listening = (async () => {
        await woken();
        heard++;
        await woken();
        heard++;
      })();
      await done;
      await listening;
      return heard;
    });
    const first = pass(undefined);
    await Promise.resolve();
    void pass(undefined); // heard once
    await new Promise((r) => setTimeout(r, 0));
    void pass(undefined); // heard twice
    await new Promise((r) => setTimeout(r, 0));
    release();
    expect(await first).toBe(2);
    expect(heard).toBe(2);
  });

  it('a wake-up that came while the pass was not listening is heard the next time it listens', async () => {
    let release!: () => void;
    const busy = new Promise<void>((r) => (release = r));
    let heard = false;
    const pass = onePassAtATime(async (_options: undefined, woken) => {
      if (heard) return 'again';
      await busy; // not listening: a round of work, say
      await woken();
      heard = true;
      return 'heard';
    });
    const first = pass(undefined);
    void pass(undefined); // arrives while the pass is busy
    release();
    expect(await first).toBe('again');
    expect(heard).toBe(true);
  });

  it('a failed pass is logged once, however many wake-ups had joined it; the next failure again', async () => {
    const lines: string[] = [];
    const failed = logPassFailure('sync pass failed', (line) => lines.push(line));
    let fail!: (error: Error) => void;
    let passes = 0;
    const pass = onePassAtATime(async () => {
      passes++;
      if (passes === 1) await new Promise<void>((_, reject) => (fail = reject));
      throw new Error(`failure ${passes}`);
    });
    const joined = [pass(undefined), pass(undefined), pass(undefined)].map((p) => p.catch(failed));
    fail(new Error('deadlock detected'));
    await Promise.all(joined);
    await pass(undefined).catch(failed);
    expect(lines).toEqual(['sync pass failed: deadlock detected', 'sync pass failed: failure 2']);
  });

  it('after a failed pass that wake-ups had joined, the next call runs one pass, not two', async () => {
    let passes = 0;
    let fail!: (error: Error) => void;
    const pass = onePassAtATime(async () => {
      passes++;
      if (passes === 1) await new Promise<void>((_, reject) => (fail = reject));
      return passes;
    });
    const joined = [pass(undefined), pass(undefined)].map((p) => p.catch(() => 'failed'));
    fail(new Error('the database restarted'));
    expect(await Promise.all(joined)).toEqual(['failed', 'failed']);
    expect(await pass(undefined)).toBe(2);
    expect(passes).toBe(2);
  });
});

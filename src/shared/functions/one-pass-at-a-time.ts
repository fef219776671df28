/**
 * A function instance runs one pass of its work at a time. A wake-up that arrives during a pass asks
 * for one more pass after it (the running pass may already have read the state the wake-up is about)
 * and gets the result of both, combined. The running pass may also listen for wake-ups (`woken`) to
 * take up new work before it ends; the pass after it runs all the same.
 */
export function onePassAtATime<Options, Report>(
  pass: (options: Options, woken: () => Promise<void>) => Promise<Report>,
  combine: (earlier: Report, later: Report) => Report = (_earlier, later) => later,
): (options: Options) => Promise<Report> {
  let running: Promise<Report> | undefined;
  let again = false;
  // The next wake-up during the running pass, for the pass to await; one that came while the pass was
  // not listening is kept for the next time it does.
  let nextWakeUp: { promise: Promise<void>; resolve: () => void } | undefined;
  let unheardWakeUp = false;
  const woken = () => {
    if (unheardWakeUp) {
      unheardWakeUp = false;
      return Promise.resolve();
    }
    if (!nextWakeUp) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      nextWakeUp = { promise, resolve };
    }
    return nextWakeUp.promise;
  };
  return (options) => {
    if (running) {
      again = true;
      if (nextWakeUp) nextWakeUp.resolve();
      else unheardWakeUp = true;
      nextWakeUp = undefined;
      return running;
    }
    running = (async () => {
      try {
        unheardWakeUp = false;
        let report: Report = await pass(options, woken);
        while (again) {
          again = false;
          unheardWakeUp = false; // a new pass starts by looking at everything
          report = combine(report, await pass(options, woken));
        }
        return report;
      } finally {
        running = undefined;
        // A pass that failed leaves the wake-ups that joined it failed with it: the next call starts a
        // fresh pass, which looks at everything, not that pass and one more.
        again = false;
      }
    })();
    return running;
  };
}

/**
 * The catch handler for callers that start a pass in the background: every wake-up that joins a
 * running pass gets that pass's promise, so a pass that fails (a deadlock, the database restarting)
 * would be logged once per wake-up it had gathered (over a hundred identical lines for one failure in
 * a burst). Logged once per failure instead.
 */
export function logPassFailure(
  label: string,
  log: (line: string) => void = (line) => console.error(line),
): (error: unknown) => void {
  let lastLogged: unknown;
  return (error) => {
    if (error === lastLogged) return;
    lastLogged = error;
    log(`${label}: ${error instanceof Error ? error.message : String(error)}`);
  };
}

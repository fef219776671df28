/**
 * A function instance runs one pass of its work at a time. A wake-up that arrives during a pass asks
 * for one more pass after it (the running pass may already have read the state the wake-up is about)
 * and gets the result of both, combined.
 */
export function onePassAtATime<Options, Report>(
  pass: (options: Options) => Promise<Report>,
  combine: (earlier: Report, later: Report) => Report = (_earlier, later) => later,
): (options: Options) => Promise<Report> {
  let running: Promise<Report> | undefined;
  let again = false;
  return (options) => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        let report: Report = await pass(options);
        while (again) {
          again = false;
          report = combine(report, await pass(options));
        }
        return report;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}

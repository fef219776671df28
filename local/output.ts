// Progress lines for people watching `npm start` / `npm test`: one line per step, to stderr so that
// machine-readable output (status --json) stays clean on stdout.
export function step(message: string) {
  process.stderr.write(`• ${message}\n`);
}

export function warn(message: string) {
  process.stderr.write(`! ${message}\n`);
}

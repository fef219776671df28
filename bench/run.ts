// `npm run bench`: every benchmark of issue 7, each printing its figure next to its goal, and
// BENCHMARKS.md rewritten with the figures, the machine and the method. Brings the local stack up if
// it is not running, and down again afterwards (left as found). `npm run bench -- rls burst` runs some.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../local/config.ts';
import { down, isUp, status, up } from '../local/stack.ts';
import { bookingLatency } from './booking-latency.ts';
import { burstThroughput, callsPerBooking } from './burst.ts';
import { floodFairness } from './flood-fairness.ts';
import { foldCost } from './fold-cost.ts';
import { nightlyCleanup } from './nightly-cleanup.ts';
import { nightlyFanOut } from './nightly-fan-out.ts';
import { pgNetTiming } from './pg-net-timing.ts';
import { rlsCost } from './rls-cost.ts';
import { type BenchResult, connect } from './support.ts';
import { triggerOverhead } from './trigger-overhead.ts';

const benchmarks = [
  { key: 'trigger', run: triggerOverhead },
  { key: 'latency', run: bookingLatency },
  { key: 'calls', run: callsPerBooking },
  { key: 'burst', run: burstThroughput },
  { key: 'cleanup', run: nightlyCleanup },
  { key: 'rls', run: rlsCost },
  { key: 'flood', run: floodFairness },
  { key: 'fold', run: foldCost },
  { key: 'fanout', run: nightlyFanOut },
  { key: 'pgnet', run: pgNetTiming },
];

function machine() {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const pg = (() => {
    try {
      return execSync('/usr/lib/postgresql/15/bin/postgres --version', { encoding: 'utf8' }).trim();
    } catch {
      return 'PostgreSQL 15';
    }
  })();
  return `${cpus().length} CPUs (${cpu}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory, ${process.platform} ${execSync('uname -r', { encoding: 'utf8' }).trim()}, Node ${process.version}, ${pg}`;
}

function line(result: BenchResult) {
  return `${result.met ? 'MET    ' : 'NOT MET'}  ${result.name}: ${result.figure}   (goal: ${result.goal})`;
}

const ANALYSIS_HEADING = '## Goals not met: what limits them, what would move them';

/** The hand-written analysis below the figures, kept from the previous BENCHMARKS.md. */
function analysis() {
  const file = join(repoRoot, 'BENCHMARKS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = text.indexOf(ANALYSIS_HEADING);
  return at >= 0 ? text.slice(at + ANALYSIS_HEADING.length).trim() + '\n' : '(to be written after the first run)\n';
}

function markdown(results: BenchResult[], started: Date, seconds: number, only: string[]) {
  const rows = results.map((r) => `| ${r.name} | ${r.figure} | ${r.goal} | ${r.met ? 'met' : '**not met**'} |`);
  const sections = results.map((r) =>
    [`### ${r.name}`, '', r.method, ...(r.details?.length ? ['', ...r.details.map((d) => `- ${d}`)] : [])].join('\n'),
  );
  return [
    '# Benchmarks',
    '',
    `Measured by \`npm run bench\`${only.length ? ` (this run: ${only.join(', ')})` : ''} on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${Math.round(seconds)} s.`,
    '',
    `Machine: ${machine()}. The local stack (\`npm run stack:up\`): PostgreSQL, the pg_net stand-in dispatcher, the Deno edge functions ` +
      "behind the gateway, and SALTO simulators started in the benchmark's own process. Every comparison is made within one run " +
      '(the machines are noisy): each figure is a ratio of two things measured side by side, or against a bound computed from the same run. ' +
      'Each benchmark starts from a vacuumed, analyzed database, and analyzes the buildings, apartments and facilities it creates (months old in production) before it measures.',
    '',
    '| benchmark | figure | goal | |',
    '|---|---|---|---|',
    ...rows,
    '',
    '## Method',
    '',
    ...sections.flatMap((s) => [s, '']),
    ANALYSIS_HEADING,
    '',
    analysis(),
  ].join('\n');
}

async function main() {
  const only = process.argv.slice(2);
  const selected = only.length ? benchmarks.filter((b) => only.includes(b.key)) : benchmarks;
  const startedHere = !isUp(await status());
  if (startedHere) await up();
  const sql = connect(6);
  const started = new Date();
  const results: BenchResult[] = [];
  try {
    for (const benchmark of selected) {
      const t0 = performance.now();
      process.stdout.write(`• ${benchmark.key} ...\n`);
      // Each benchmark starts from a vacuumed, analyzed database, as autovacuum keeps a production
      // one: not amid the dead rows and stale statistics of the tens of thousands of rows the
      // previous benchmark wrote and deleted seconds ago.
      await sql`vacuum (analyze)`;
      try {
        const result = await benchmark.run(sql);
        results.push(result);
        process.stdout.write(`${line(result)}   [${((performance.now() - t0) / 1000).toFixed(0)} s]\n`);
        for (const d of result.details ?? []) process.stdout.write(`           ${d}\n`);
      } catch (error) {
        const result = {
          name: benchmark.key,
          figure: `failed: ${(error as Error).message}`,
          goal: '-',
          met: false,
          method: 'The benchmark did not complete.',
        };
        results.push(result);
        process.stdout.write(`${line(result)}\n`);
      }
    }
  } finally {
    await sql.end();
    if (startedHere) await down();
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  process.stdout.write(
    `\n${results.map(line).join('\n')}\n\n${results.filter((r) => r.met).length} of ${results.length} goals met in ${Math.round(seconds)} s\n`,
  );
  const file = join(repoRoot, 'BENCHMARKS.md');
  writeFileSync(
    only.length ? join(repoRoot, '.local', 'BENCHMARKS.partial.md') : file,
    markdown(results, started, seconds, only),
  );
  process.exitCode = results.every((r) => !r.figure.startsWith('failed')) ? 0 : 1;
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});

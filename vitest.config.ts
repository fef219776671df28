import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Two projects. `stack`: the test files that need the running local stack (its database, functions,
// simulator or mail capture), i.e. those importing tests/support/stack.ts, directly or through a test
// helper (tests/alerts/helpers.ts, tests/faults/support.ts, ...). `unit`: all the others, which need
// nothing but this checkout (`npm run test:unit` runs them alone). `npm test` runs both.
const testsDir = join(import.meta.dirname, 'tests');
const stackModule = join(testsDir, 'support', 'stack.ts');

function importsStack(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^;]*?from '(\.[^']+)'/gm)) {
    const target = resolve(dirname(file), specifier);
    if (target === stackModule) return true;
    if (target.startsWith(testsDir) && importsStack(target, seen)) return true;
  }
  return false;
}

const stack = readdirSync(testsDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => join(testsDir, file))
  .filter((file) => importsStack(file))
  .map((file) =>
    relative(import.meta.dirname, file)
      .split('\\')
      .join('/'),
  );

export default defineConfig({
  test: {
    // One file at a time: the stack's tests share one local stack (database, functions, simulator),
    // and the timing-sensitive unit tests (SHIP timeouts, simulator clocks) keep their CPU to themselves.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/**/*.test.ts'], exclude: stack } },
      { extends: true, test: { name: 'stack', include: stack } },
    ],
  },
});

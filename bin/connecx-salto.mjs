#!/usr/bin/env node
// `npx connecx-salto ...`: the operator command line (src/operator/cli.ts), run through tsx. main()
// prints its own errors and returns the exit code (0 ok, 1 problem found, 2 usage, 3 unreachable).
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../src/operator/cli.ts', import.meta.url);
try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`connecx-salto failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

#!/usr/bin/env node
// `npx connecx-salto ...`: the operator command line (src/operator/cli.ts), run through tsx.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../src/operator/cli.ts', import.meta.url);
try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

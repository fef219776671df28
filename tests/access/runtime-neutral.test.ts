import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The access domain is imported by Deno edge functions and by Node tests alike.
const folder = join(import.meta.dirname, '../../src/shared/access');
const sources = readdirSync(folder)
  .filter((name) => name.endsWith('.ts'))
  .map((name) => ({ name, code: readFileSync(join(folder, name), 'utf8') }));

describe('the access domain runs on Deno and Node alike', () => {
  it.each(sources)('$name uses no Node or Deno globals', ({ code }) => {
    const withoutComments = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(withoutComments).not.toMatch(/\bnode:|\bDeno\b|\bprocess\.|\bBuffer\b|\brequire\(/);
  });

  it.each(sources)('$name imports siblings by relative path with the .ts extension', ({ code }) => {
    for (const [, specifier] of code.matchAll(/from '([^']+)'/g)) {
      expect(specifier).toMatch(/^\.\/[\w-]+\.ts$/);
    }
  });
});

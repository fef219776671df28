import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// src/shared is imported by the Deno edge functions and by the Node tests alike: no runtime's globals,
// and imports that both resolve the same way (relative paths with the .ts extension, or npm packages
// the project depends on, which the functions map through their import maps).
const shared = resolve(import.meta.dirname, '../../src/shared');
const sources = readdirSync(shared, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts'))
  .sort()
  .map((name) => ({ name, code: readFileSync(join(shared, name), 'utf8') }));
const dependencies = Object.keys(
  (JSON.parse(readFileSync(resolve(shared, '../../package.json'), 'utf8')) as { dependencies: Record<string, string> })
    .dependencies,
);

describe('src/shared runs on Deno and Node alike', () => {
  it('covers every folder of src/shared', () => {
    const folders = new Set(sources.filter(({ name }) => name.includes('/')).map(({ name }) => name.split('/')[0]));
    expect([...folders].sort()).toEqual(
      readdirSync(shared, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort(),
    );
  });

  it.each(sources)('$name uses no Node or Deno globals', ({ code }) => {
    const withoutComments = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(withoutComments).not.toMatch(/\bnode:|\bDeno\b|\bprocess\.|\bBuffer\b|\brequire\(/);
  });

  it.each(sources)('$name imports inside src/shared with .ts paths, or npm dependencies', ({ name, code }) => {
    for (const [, specifier] of code.matchAll(/from '([^']+)'/g)) {
      if (specifier!.startsWith('.')) {
        expect(specifier).toMatch(/\.ts$/);
        expect(relative(shared, resolve(dirname(join(shared, name)), specifier!))).not.toMatch(/^\.\./);
      } else {
        // A package or one of its subpaths (hono/body-limit).
        const name = specifier!.startsWith('@')
          ? specifier!.split('/').slice(0, 2).join('/')
          : specifier!.split('/')[0];
        expect(dependencies).toContain(name);
      }
    }
  });
});

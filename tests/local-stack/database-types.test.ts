import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateTypes, typesFile } from '../../local/gen-types.ts';
import { stackEnv } from '../support/stack.ts';

describe('the committed database types', () => {
  it("match what Supabase's generator makes of the migrated database (run `npm run gen:types` after a migration)", () => {
    expect(readFileSync(typesFile, 'utf8')).toBe(generateTypes(stackEnv().databaseUrl));
  }, 60_000);
});

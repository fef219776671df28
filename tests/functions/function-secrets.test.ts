// The one list of function secrets (src/shared/functions/function-secrets.ts) and what the README
// tells a deployer: every secret a function needs is in its "Function secrets" table and in the
// deploy step that sets them, and the health function's report names missing ones, never values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionSecrets, missingFunctionSecrets } from '../../src/shared/functions/function-secrets.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const section = (title: string) => {
  const start = readme.indexOf(title);
  expect(start, title).toBeGreaterThan(-1);
  return readme.slice(start, readme.indexOf('\n## ', start + title.length));
};

describe('function secrets', () => {
  it('the README names every secret each function needs, and the deploy step sets each one', () => {
    const table = section('### Function secrets');
    const deploy = section('## Deploying to a hosted Supabase project');
    for (const [fn, secrets] of Object.entries(functionSecrets)) {
      expect(table, fn).toContain(`\`${fn}\``);
      for (const s of secrets) {
        expect(table, `${fn}: ${s.name}`).toContain(s.name);
        if (!s.optional && !s.setBySupabase) expect(deploy, `deploy sets ${s.name}`).toContain(`${s.name}=`);
      }
    }
  });

  it('reports missing names per function, never values', () => {
    const env = { SUPABASE_URL: 'u', SUPABASE_DB_URL: 'd', FUNCTIONS_SECRET: 'secret-value-1234', ALERT_FROM: '' };
    const missing = missingFunctionSecrets(env);
    expect(missing['salto-sync']).toEqual([]);
    expect(missing['send-alerts']).toEqual(['RESEND_API_KEY', 'ALERT_FROM', 'ALERT_LINK_SECRET', 'ALERT_PAGE_URL']);
    expect(JSON.stringify(missing)).not.toContain('secret-value-1234');
  });
});

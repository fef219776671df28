// Naming a building on the operator command line: by its name in any case or by its id; a name two
// buildings share, or one no building has, is a usage error that lists what there is to choose from.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, stackEnv } from '../support/stack.ts';
import { connecxSalto } from './run-cli.ts';

const sql = connect(2);
const tag = randomBytes(4).toString('hex').toUpperCase();
const harbour = { id: randomUUID(), name: `Harbour View Residences ${tag}` };
const quay = { id: randomUUID(), name: `Quay Gardens ${tag}` };
const quayAgain = { id: randomUUID(), name: `QUAY GARDENS ${tag}` };

const run = (...args: string[]) => connecxSalto(args, { DATABASE_URL: stackEnv().databaseUrl });

describe('npx connecx-salto --building <name or id>', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    for (const b of [harbour, quay, quayAgain])
      await sql`insert into public.buildings (id, name, timezone) values (${b.id}, ${b.name}, 'Europe/Berlin')`;
  });

  afterAll(async () => {
    await sql`delete from public.buildings where id in ${sql([harbour.id, quay.id, quayAgain.id])}`;
    await sql.end();
  });

  it('finds a building by its name in any case, or by its id', async () => {
    const byName = await run('status', '--building', harbour.name.toLowerCase(), '--json');
    expect(JSON.parse(byName.stdout)).toEqual([expect.objectContaining({ id: harbour.id, name: harbour.name })]);
    const byId = await run('status', '--building', harbour.id, '--json');
    expect(JSON.parse(byId.stdout)).toEqual([expect.objectContaining({ id: harbour.id })]);
  });

  it('status of a building without a SALTO server says so and exits 1', async () => {
    const { code, stdout } = await run('status', '--building', harbour.name);
    expect(stdout).toMatch(/SALTO\s+not configured: no SALTO server configured \(integration\.salto_servers\)/);
    expect(code).toBe(1);
  });

  it('a name two buildings share lists both with their ids, and exits 2', async () => {
    const { code, stdout, stderr } = await run('doctor', '--building', `quay gardens ${tag.toLowerCase()}`);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`2 buildings are named "quay gardens ${tag.toLowerCase()}":`);
    expect(stderr).toContain(`  ${quay.id}  ${quay.name}`);
    expect(stderr).toContain(`  ${quayAgain.id}  ${quayAgain.name}`);
    expect(stderr).toMatch(/Name one by its id: --building <id>\.\n$/);
  });

  it('a name no building has says so, offers similar names, and exits 2', async () => {
    const typo = `Harbor View Residences ${tag}`;
    const { code, stderr } = await run('status', '--building', typo);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      new RegExp(`^No building named "${typo}"\\. Buildings with a similar name: .*"${harbour.name}"`),
    );
    const json = await run('resync', '--building', `Nowhere ${tag}`, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr).error).toMatchObject({
      code: 'not_found',
      message: `No building named "Nowhere ${tag}". \`npx connecx-salto status\` lists every building.`,
    });
  });

  it('an id no building has says so, and exits 2', async () => {
    const unknown = randomUUID();
    const { code, stderr } = await run('doctor', '--building', unknown);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^No building has the id ${unknown}\\.`));
  });

  it('resync takes a building by name', async () => {
    const { code, stdout } = await run('resync', '--building', harbour.name, '--wait');
    expect(code).toBe(0);
    expect(stdout).toBe('Nothing to resync: no access level is involved.\n');
  });
});

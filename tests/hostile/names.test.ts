// Names of buildings, apartments and facilities reach screens and email subjects. A control or
// formatting character in one (a line break, a tab, an escape, a right-to-left override, a zero-width
// space) breaks a header, hides text or makes a name read as another; a name of blanks only shows as
// nothing. The database refuses them, naming the character, whoever writes the name (issue "Access
// safety", finding 8). Names in any script, with accents, apostrophes or emoji, are fine.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actingAs, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const sql = connect(2);
let building: TestBuilding;

beforeAll(async () => {
  building = await createTestBuilding(sql, { facilities: [{ name: 'Gym' }], apartments: [{ label: '101' }] });
});
afterAll(async () => {
  await sql`delete from public.apartments where building_id = ${building.id} and label <> '101'`;
  await sql`delete from public.facilities where building_id = ${building.id} and name <> 'Gym'`;
  await building.close();
  await sql.end();
});

/** [what is in the name, the character as the refusal names it] */
const hostile: [string, string, string][] = [
  ['a carriage return and line feed', 'Gym\r\nBcc: spy@evil.example', 'U+000D CARRIAGE RETURN, a control character'],
  ['a line feed', 'Gym\nPool', 'U+000A LINE FEED, a control character'],
  ['a tab only', '\t', 'U+0009 CHARACTER TABULATION, a control character'],
  ['an escape sequence', 'Gym\u001b[31m', 'U+001B ESCAPE, a control character'],
  ['a C1 control', 'Gym\u0085', 'U+0085 NEXT LINE, a control character'],
  [
    'a right-to-left override',
    'Gym \u202Egnikcolnu',
    'U+202E RIGHT-TO-LEFT OVERRIDE, an invisible formatting character',
  ],
  ['a right-to-left isolate', '\u2067Gym', 'U+2067 RIGHT-TO-LEFT ISOLATE, an invisible formatting character'],
  ['a zero-width space', 'G\u200Bym', 'U+200B ZERO WIDTH SPACE, an invisible formatting character'],
  ['a zero-width joiner', 'Gym\u200D', 'U+200D ZERO WIDTH JOINER, an invisible formatting character'],
  ['a byte order mark', '\uFEFFGym', 'U+FEFF ZERO WIDTH NO-BREAK SPACE, an invisible formatting character'],
  ['a word joiner', 'Gy\u2060m', 'U+2060 WORD JOINER, an invisible formatting character'],
  ['a line separator', 'Gym\u2028Pool', 'U+2028 LINE SEPARATOR, an invisible formatting character'],
];

const manager = () => ({ as: 'manager' as const, userId: building.managerId });

async function refusal(work: Promise<unknown>) {
  return work.then(
    () => undefined,
    (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
  );
}

describe('names with control or formatting characters are refused, naming the character', () => {
  it.each(hostile)('a building name with %s', async (_what, name, character) => {
    expect(
      await refusal(
        actingAs(sql, manager(), (tx) => tx`update public.buildings set name = ${name} where id = ${building.id}`),
      ),
    ).toEqual({ code: '23514', message: `The building name cannot be used: it contains ${character}.` });
  });

  it.each(hostile)('an apartment label with %s', async (_what, label, character) => {
    expect(
      await refusal(
        actingAs(
          sql,
          manager(),
          (tx) => tx`insert into public.apartments (building_id, label) values (${building.id}, ${label})`,
        ),
      ),
    ).toEqual({ code: '23514', message: `The apartment label cannot be used: it contains ${character}.` });
  });

  it.each(hostile)('a facility name with %s', async (_what, name, character) => {
    expect(
      await refusal(
        actingAs(
          sql,
          manager(),
          (tx) => tx`update public.facilities set name = ${name} where id = ${building.facilities.Gym!.id}`,
        ),
      ),
    ).toEqual({ code: '23514', message: `The facility name cannot be used: it contains ${character}.` });
  });

  it('a name of blanks only (no-break and ideographic spaces) is refused', async () => {
    for (const [table, column, what] of [
      ['buildings', 'name', 'The building name'],
      ['facilities', 'name', 'The facility name'],
    ] as const) {
      const id = table === 'buildings' ? building.id : building.facilities.Gym!.id;
      expect(
        await refusal(
          actingAs(
            sql,
            manager(),
            (tx) => tx`update ${tx(`public.${table}`)} set ${tx(column)} = ${'\u00a0\u3000'} where id = ${id}`,
          ),
        ),
      ).toEqual({ code: '23514', message: `${what} cannot be used: it has no visible character.` });
    }
  });

  it('the service role and Studio are held to it too, and so is the table with its triggers off', async () => {
    expect(
      await refusal(sql`update public.facilities set name = ${'Gym\r\n'} where id = ${building.facilities.Gym!.id}`),
    ).toEqual({
      code: '23514',
      message: 'The facility name cannot be used: it contains U+000D CARRIAGE RETURN, a control character.',
    });
    const replica = await refusal(
      sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`insert into public.apartments (building_id, label) values (${building.id}, ${'\u202E101'})`;
      }),
    );
    expect(replica?.message).toBe(
      'new row for relation "apartments" violates check constraint "apartments_label_printable"',
    );
  });

  it('names in any script, with accents, apostrophes and emoji, are accepted', async () => {
    const tag = randomBytes(3).toString('hex');
    for (const name of [`Café d'été ${tag}`, `体育馆 ${tag}`, `Piscine 🏊 ${tag}`, `حمام السباحة ${tag}`]) {
      expect(
        await refusal(
          actingAs(
            sql,
            manager(),
            (tx) => tx`insert into public.facilities (building_id, name) values (${building.id}, ${name})`,
          ),
        ),
      ).toBeUndefined();
    }
    expect(
      await refusal(
        actingAs(
          sql,
          manager(),
          (tx) =>
            tx`insert into public.apartments (building_id, label) values (${building.id}, ${`Penthouse №1 ${tag}`})`,
        ),
      ),
    ).toBeUndefined();
  });
});

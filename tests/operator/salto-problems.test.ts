// A building's SALTO server that cannot be reached or refuses, as the operator command line reports it:
// the error once, the fix that matches its cause (a host name that does not resolve is fixed in
// integration.salto_servers.host, not with the SHIP key), and exit code 3 when SALTO cannot be reached.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';
import { connecxSalto } from './run-cli.ts';

const sql = connect(2);
const run = (...args: string[]) => connecxSalto(args, { DATABASE_URL: stackEnv().databaseUrl });

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const bare: string[] = [];
const secrets: string[] = [];

/** A building with only a SALTO server row (and, when `key` is given, its Vault secret). */
async function buildingWithServer(server: { host: string; port: number; key?: string; secretName?: string }) {
  const id = randomUUID();
  const name = `SALTO problem ${randomBytes(4).toString('hex').toUpperCase()}`;
  const secretName = server.secretName ?? `salto_ship_key:${id}`;
  await sql`insert into public.buildings (id, name, timezone) values (${id}, ${name}, 'Europe/Berlin')`;
  bare.push(id);
  if (server.key !== undefined) {
    await sql`select vault.create_secret(${server.key}, ${secretName})`;
    secrets.push(secretName);
  }
  await sql`
    insert into integration.salto_servers (building_id, transport, host, port, auth_mode, credential_secret_name,
      connect_timeout_ms, reply_timeout_ms)
    values (${id}, 'http', ${server.host}, ${server.port}, 'key', ${secretName}, 500, 500)`;
  return { id, name };
}

describe('npx connecx-salto and a SALTO server that does not answer', { timeout: 90_000 }, () => {
  let building: TestBuilding;
  let silent: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    building = await createTestBuilding(sql, { facilities: [{ name: 'Gym' }], apartments: [{ label: '1' }] });
    // Accepts connections and never answers: a firewall that drops replies, a hung server.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await building.close();
    if (bare.length) await sql`delete from public.buildings where id in ${sql(bare)}`;
    if (secrets.length) await sql`delete from vault.secrets where name in ${sql(secrets)}`;
    await sql.end();
  });

  it('doctor: a host name that does not resolve points to integration.salto_servers.host, not the SHIP key, and exits 3', async () => {
    const b = await buildingWithServer({ host: 'salto-typo.invalid', port: 8100, key: 'a-key' });
    const { code, stdout } = await run('doctor', '--building', b.name);
    expect(code).toBe(3);
    const problems = stdout.split('\n').filter((line) => line.includes('PROBLEM'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^ {2}PROBLEM: SALTO does not answer at http:\/\/salto-typo\.invalid:8100: .*salto-typo\.invalid.* Fix: The host name "salto-typo\.invalid" does not resolve: check integration\.salto_servers\.host/,
    );
    expect(stdout).not.toMatch(/SHIP key|Vault/);
    // The SALTO error is said once, not in a header and again in the problem.
    expect(stdout.match(/getaddrinfo/g)).toHaveLength(1);
    expect(stdout).not.toMatch(/^ {2}SALTO:/m);
  });

  it('doctor: nothing listening on the port points to the port, transport and SHIP being enabled, and exits 3', async () => {
    const b = await buildingWithServer({ host: '127.0.0.1', port: await closedPort(), key: 'a-key' });
    const { code, stdout } = await run('doctor', '--building', b.id);
    expect(code).toBe(3);
    expect(stdout).toMatch(
      /PROBLEM: SALTO does not answer at .*ECONNREFUSED.* Fix: Nothing accepts connections on 127\.0\.0\.1:\d+: check integration\.salto_servers\.port and transport/,
    );
    expect(stdout).not.toMatch(/SHIP key/);
  });

  it('doctor: no answer in time points to the network, firewall and port, and exits 3', async () => {
    const { port } = silent.address() as { port: number };
    const b = await buildingWithServer({ host: '127.0.0.1', port, key: 'a-key' });
    const { code, stdout } = await run('doctor', '--building', b.id);
    expect(code).toBe(3);
    expect(stdout).toMatch(
      /PROBLEM: SALTO does not answer at .*: .*no reply .* within \d+ ms.* Fix: No answer from 127\.0\.0\.1:\d+ in time: check the network path to the building \(port forwarding of port \d+, the firewall/,
    );
    expect(stdout).not.toMatch(/SHIP key/);
  });

  it('doctor: credentials SALTO refuses point to the SHIP key in its Vault secret, and exit 1', async () => {
    const b = await buildingWithServer({ host: '127.0.0.1', port: building.simulator.httpPort, key: 'not-the-key' });
    const { code, stdout } = await run('doctor', '--building', b.id);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /PROBLEM: SALTO at http:\/\/127\.0\.0\.1:\d+ refuses: .*HTTP 401.* Fix: SALTO refused the credentials: make the Vault secret "salto_ship_key:[0-9a-f-]+" \(integration\.salto_servers\.credential_secret_name\) hold the SHIP key/,
    );
    expect(stdout).not.toMatch(/salto_servers\.host|firewall/);
  });

  it('doctor: a Vault secret that is missing is named, with how to store it, and exits 1', async () => {
    const b = await buildingWithServer({ host: '127.0.0.1', port: building.simulator.httpPort });
    const { code, stdout } = await run('doctor', '--building', b.id);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /PROBLEM: The SALTO server at .* cannot be used: the Vault secret "salto_ship_key:[0-9a-f-]+" is missing or empty\. Fix: Store the SHIP key in Vault under that name: select vault\.create_secret\(/,
    );
  });

  it('status exits 3 when a SALTO server cannot be reached, and says why and the fix', async () => {
    const b = await buildingWithServer({ host: '127.0.0.1', port: await closedPort(), key: 'a-key' });
    const { code, stdout } = await run('status', '--building', b.id);
    expect(code).toBe(3);
    expect(stdout).toMatch(/^ {2}SALTO {8}NOT REACHABLE: .*ECONNREFUSED/m);
    expect(stdout).toMatch(/^ {15}fix: Nothing accepts connections on 127\.0\.0\.1:\d+/m);
    const json = await run('status', '--building', b.id, '--json');
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)[0].salto).toMatchObject({
      configured: true,
      reachable: false,
      problem: { cause: 'refused', unreachable: true, fix: expect.stringMatching(/^Nothing accepts connections/) },
    });
  });

  it('resync --wait reports a SALTO that cannot be reached, with the fix, and exits 3', async () => {
    const apt = building.apartments['1']!;
    const startsAt = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 5 * 3600_000);
    const bookingId = await book(
      sql,
      { as: 'service_role' },
      {
        facilityId: building.facilities.Gym!.id,
        apartmentId: apt.id,
        startsAt,
        endsAt: new Date(startsAt.getTime() + 3600_000),
      },
    );
    await eventually(
      async () => {
        const [row] = await sql`select state from integration.booking_access where booking_id = ${bookingId}`;
        return row?.state === 'active' ? true : undefined;
      },
      30_000,
      'the booking active',
    );
    await sql`update integration.salto_servers set port = ${await closedPort()} where building_id = ${building.id}`;

    const { code, stdout, stderr } = await run('resync', '--booking', bookingId, '--wait', '--timeout', '30');
    expect(stderr).toBe('Waiting up to 30 s for the sync...\n');
    expect(stdout).toMatch(
      new RegExp(
        `^ {2}${apt.accessLevelId}\\s+failed: .*(ECONNREFUSED|Connection refused).*\\(the sync tries again at `,
        'm',
      ),
    );
    expect(stdout).toMatch(/^SALTO NOT REACHABLE: .*\n {2}fix: Nothing accepts connections on 127\.0\.0\.1:\d+/m);
    expect(stdout).toMatch(/^Written 0, failed 1, still waiting 0\.$/m);
    expect(code).toBe(3);
  });
});

// Malformed, truncated, oversized and hostile SHIP replies (fuzzed) never crash the sync function:
// it keeps answering, later work is still written, and the bookings of the building whose "SALTO"
// misbehaves end failed or waiting for a retry, with a reason a person can read.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MALFORMED_KINDS, seededRandom } from '../../src/simulator/faults.ts';
import { book, createTestBuilding, endBackoff, syncNow, type TestBuilding } from '../support/fixtures.ts';
import { connect, eventually, failedWorkerIds, functionAuthorization, stackEnv } from '../support/stack.ts';
import { expectReadable } from './support.ts';

const sql = connect(2);
const { functionsUrl, functionsSecret } = stackEnv();
/** salto-sync workers that crashed or hit a limit (the runtime retiring one in due course is no failure). */
const syncFailures = () => failedWorkerIds('salto-sync');
const HOUR = 3_600_000;
const tomorrow = Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 86_400_000;

const random = seededRandom(7);
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
const plausible = (name: string) =>
  `<?xml version="1.0" encoding="utf-8"?><RequestResponse><RequestName>${name}</RequestName><Params><SaltoDBGroupList><SaltoDBGroup><ExtGroupID>APT</ExtGroupID><Name>x</Name><SaltoDBZoneGroupList/></SaltoDBGroup></SaltoDBGroupList><EOF/></Params></RequestResponse>`;

/** What a hostile or broken "SALTO server" answers; one is drawn at random for every request. */
type Reply = (
  request: string,
  respond: (status: number, body: Buffer | string, headers?: Record<string, string>) => void,
  socket: { destroy(): void; hang(): void },
) => void;
const replies: Record<string, Reply> = {
  'random bytes': (_, respond) => respond(200, junk(1 + Math.floor(random() * 4096))),
  'truncated reply': (request, respond) => {
    const full = plausible(requestName(request));
    respond(200, full.slice(0, Math.floor(random() * (full.length - 1))));
  },
  'oversized reply (8 MB)': (request, respond) =>
    respond(
      200,
      plausible(requestName(request)).replace('<Name>x</Name>', `<Name>${'A'.repeat(8 * 1024 * 1024)}</Name>`),
    ),
  'entity bomb': (_, respond) => {
    const lol = [
      '<!ENTITY a0 "lollollollollollollollollollol">',
      ...Array.from({ length: 9 }, (_, i) => `<!ENTITY a${i + 1} "${`&a${i};`.repeat(10)}">`),
    ];
    respond(
      200,
      `<?xml version="1.0"?><!DOCTYPE RequestResponse [${lol.join('')}]><RequestResponse><RequestName>&a9;</RequestName><Params/></RequestResponse>`,
    );
  },
  'external entity': (_, respond) =>
    respond(
      200,
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><RequestResponse><RequestName>&x;</RequestName><Params/></RequestResponse>',
    ),
  'deep nesting': (_, respond) =>
    respond(200, `<RequestResponse>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</RequestResponse>`),
  'an HTML page': (_, respond) =>
    respond(200, '<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>', {
      'content-type': 'text/html',
    }),
  'empty body': (_, respond) => respond(200, ''),
  'exception with a nonsense code': (request, respond) =>
    respond(
      200,
      `<RequestResponse><RequestName>${requestName(request)}</RequestName><Exception><Code>${pick(['-1', '1e309', 'NaN', '４', '99999999999999999999'])}</Code><Message>${junk(40).toString('base64')}</Message></Exception></RequestResponse>`,
    ),
  'control characters and bad UTF-8': (request, respond) =>
    respond(
      200,
      Buffer.concat([
        Buffer.from(`<RequestResponse><RequestName>${requestName(request)}</RequestName><Params>`),
        Buffer.from([0, 1, 2, 0xc3, 0x28, 0xff, 0x1b]),
        Buffer.from('</Params></RequestResponse>'),
      ]),
    ),
  'another request named': (_, respond) => respond(200, plausible('SaltoDBUser.Delete')),
  'wrong length': (_, respond) => respond(200, '<RequestResponse>', { 'content-length': '5000' }),
  'connection cut': (_, __, socket) => socket.destroy(),
  'no answer': (_, __, socket) => socket.hang(),
  'HTTP 500 with a stack trace': (_, respond) =>
    respond(500, `java.lang.NullPointerException\n\tat com.salto.${junk(20).toString('hex')}`),
};

function requestName(request: string) {
  return /<RequestName>([^<]{1,100})<\/RequestName>/.exec(request)?.[1] ?? 'GetInfo';
}

let hostile: Server;
const served: string[] = [];

beforeAll(async () => {
  hostile = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const kind = pick(Object.keys(replies));
      served.push(kind);
      replies[kind]!(
        Buffer.concat(chunks).toString('utf8'),
        (status, body, headers = {}) => {
          res.writeHead(status, { 'content-type': 'application/vnd.saltosystems.ship.v1+xml', ...headers });
          res.end(body);
        },
        { destroy: () => req.socket.destroy(), hang: () => undefined },
      );
    });
  });
  await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  hostile.closeAllConnections();
  await new Promise((resolve) => hostile.close(resolve));
  await sql.end();
});

async function pointAt(building: TestBuilding, port: number) {
  await sql`update integration.salto_servers set port = ${port}, connect_timeout_ms = 1000, reply_timeout_ms = 1500 where building_id = ${building.id}`;
}

async function bookEveryApartment(building: TestBuilding, dayOffset = 0) {
  const facility = Object.values(building.facilities)[0]!;
  const ids: string[] = [];
  for (const [i, apartment] of Object.values(building.apartments).entries()) {
    const startsAt = new Date(tomorrow + dayOffset * 86_400_000 + (8 + i) * HOUR);
    ids.push(
      await book(
        sql,
        { as: 'service_role' },
        { facilityId: facility.id, apartmentId: apartment.id, startsAt, endsAt: new Date(startsAt.getTime() + HOUR) },
      ),
    );
  }
  return ids;
}

async function expectRecordedReadably(bookingIds: string[], buildingId: string) {
  const states = await sql<{ state: string; reason: string | null }[]>`
    select state, reason from integration.booking_access where booking_id = any (${bookingIds}::uuid[])`;
  expect(states).toHaveLength(bookingIds.length);
  for (const { state, reason } of states) {
    expect(['failed', 'scheduled']).toContain(state);
    expectReadable(reason);
  }
  const work = await sql<
    { last_error: string | null }[]
  >`select last_error from integration.access_level_work where building_id = ${buildingId}`;
  for (const { last_error } of work) if (last_error !== null) expectReadable(last_error);
}

describe('hostile SALTO replies', { timeout: 110_000 }, () => {
  it('a fuzzing "SALTO server": the function never crashes, the bookings say what went wrong, other buildings are still written', async () => {
    const evil = await createTestBuilding(sql, {
      apartments: ['1', '2', '3', '4', '5', '6'].map((label) => ({ label })),
    });
    const fine = await createTestBuilding(sql, { apartments: [{ label: '1' }, { label: '2' }] });
    const failures = await syncFailures();
    try {
      await pointAt(evil, (hostile.address() as AddressInfo).port);
      const evilBookings = await bookEveryApartment(evil);
      for (let round = 0; round < 14 && new Set(served).size < Object.keys(replies).length; round++) {
        // Time moved, not waited for: whatever is in backoff is due again; a pass also re-tries
        // failed access levels once a booking changes, so ask again for every one of them.
        await endBackoff(sql, [evil.id]);
        await sql`select integration.request_sync(${evil.id}, a.access_control_id) from public.apartments as a where a.building_id = ${evil.id}`;
        await syncNow(functionsUrl, functionsSecret);
        expect(await syncFailures(), 'the sync function never crashed').toEqual(failures);
      }
      expect(
        new Set(served).size,
        `every kind of hostile reply was served (${served.length} replies)`,
      ).toBeGreaterThanOrEqual(Object.keys(replies).length - 2);
      await expectRecordedReadably(evilBookings, evil.id);

      // Still answering, and still writing for the building whose SALTO behaves.
      const health = await fetch(`${functionsUrl}/health`, {
        headers: { Authorization: await functionAuthorization('health', { method: 'GET' }) },
      });
      expect(health.status).toBe(200);
      const fineBookings = await bookEveryApartment(fine);
      await syncNow(functionsUrl, functionsSecret);
      const states = await sql<
        { state: string }[]
      >`select state from integration.booking_access where booking_id = any (${fineBookings}::uuid[])`;
      expect(states.map((s) => s.state)).toEqual(['active', 'active']);
      expect(await syncFailures()).toEqual(failures);
    } finally {
      await evil.close();
      await fine.close();
    }
  });

  it("the simulator's broken replies, one kind at a time: each ends in a recorded, readable failure or retry", async () => {
    const building = await createTestBuilding(sql, {
      apartments: MALFORMED_KINDS.map((_, i) => ({ label: String(i + 1) })),
    });
    const failures = await syncFailures();
    try {
      await sql`update integration.salto_servers set reply_timeout_ms = 1500 where building_id = ${building.id}`;
      const facility = Object.values(building.facilities)[0]!;
      for (const [i, kind] of MALFORMED_KINDS.entries()) {
        const apartment = building.apartments[String(i + 1)]!;
        await building.simulator.setFaults({ malformed: { kind, count: 1, requestName: 'SaltoDBGroupList.Read' } });
        const startsAt = new Date(tomorrow + (8 + i) * HOUR);
        const id = await book(
          sql,
          { as: 'service_role' },
          { facilityId: facility.id, apartmentId: apartment.id, startsAt, endsAt: new Date(startsAt.getTime() + HOUR) },
        );
        await syncNow(functionsUrl, functionsSecret);
        expect(await syncFailures(), `the function survived "${kind}"`).toEqual(failures);
        if (kind === 'no-reply') {
          // A silent server is a timeout: transient, so retried after its backoff (time moved, not
          // waited for) and then written, the fault being spent.
          const reads = await eventually(
            async () => {
              const last = building.simulator.requests({ requestName: 'SaltoDBGroupList.Read' }).slice(-2);
              if (last[0]?.fault === 'malformed no-reply' && last[1] && last[1].fault === undefined) return last;
              await endBackoff(sql, [building.id]);
              await syncNow(functionsUrl, functionsSecret);
              return undefined;
            },
            20_000,
            'the silent read retried',
          );
          expect(reads.map((r) => r.fault)).toEqual(['malformed no-reply', undefined]);
        } else {
          await expectRecordedReadably([id], building.id);
        }
        await building.simulator.clearFaults();
      }
    } finally {
      await building.close();
    }
  });
});

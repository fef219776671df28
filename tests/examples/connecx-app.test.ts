// The connecX app's side, run: examples/connecx-app.ts, unchanged, as its own Node process on this
// machine's Node (20 here), with the pinned supabase-js, against the local stack. The local stack has
// no PostgREST, so its /rest/v1 comes from local/rest-adapter.ts, which runs each request as PostgREST
// would: the JWT's role, its claims in request.jwt.claims, so row-level security and the booking
// policy decide exactly as they do hosted.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt, startRestAdapter } from '../../local/rest-adapter.ts';
import { createTestBuilding, type TestBuilding } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const sql = connect(4);
const jwtSecret = randomBytes(32).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
let building: TestBuilding;
let rest: { url: string; server: Server };

beforeAll(async () => {
  building = await createTestBuilding(sql);
  rest = await startRestAdapter(sql, jwtSecret);
});
afterAll(async () => {
  await new Promise((resolve) => rest?.server.close(resolve));
  await building?.close();
  await sql.end({ timeout: 5 });
});

function runExample(nodeFlags: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeFlags, '--import', 'tsx', join(repoRoot, 'examples/connecx-app.ts')],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function residentEnv() {
  const apartment = building.apartments['501/56']!;
  return {
    SUPABASE_URL: rest.url,
    SUPABASE_ANON_KEY: signJwt({ role: 'anon', iss: 'supabase', exp: inAnHour() }, jwtSecret),
    RESIDENT_ACCESS_TOKEN: signJwt(
      { sub: apartment.residentId, role: 'authenticated', aud: 'authenticated', exp: inAnHour() },
      jwtSecret,
    ),
    FACILITY_ID: building.facilities.Gym!.id,
    APARTMENT_ID: apartment.id,
  };
}

describe('examples/connecx-app.ts, run against the local stack', () => {
  it(`books, reads the access state and cancels as a resident, on Node ${process.versions.node}`, async () => {
    const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
    const run = await runExample(flags, residentEnv());
    expect(run.stderr.replace(/.*Node\.js 20 and below are deprecated.*\n?/g, '')).toBe('');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const id = /booked: ([0-9a-f-]{36})/.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    expect(run.stdout).toContain('after booking: active');
    expect(run.stdout).toContain('after cancelling: released');

    // What the app did, as the database holds it: the resident's booking, cancelled, and SALTO without it.
    const [booking] = await sql<{ status: string; building_id: string; created_by: string | null }[]>`
      select status, building_id, created_by from public.bookings where id = ${id!}`;
    expect(booking).toMatchObject({ status: 'cancelled', building_id: building.id });
    expect(booking!.created_by).toBe(building.apartments['501/56']!.residentId);
    const level = building.simulator
      .snapshot()
      .accessLevels.find((l) => l.id === building.apartments['501/56']!.accessLevelId);
    expect(level?.zonePermissions.map((p) => p.zoneId).sort()).toEqual([...building.permanentZones].sort());
  }, 120_000);

  it('says what to do on a Node without WebSocket, rather than failing inside supabase-js', async () => {
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'undefined') return; // Node 22+
    const run = await runExample([], residentEnv());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('run Node.js 20 with --experimental-websocket');
  });

  it("refuses a resident's move of a booking with the policy's words, as PostgREST would", async () => {
    const env = residentEnv();
    const headers = {
      apikey: env.SUPABASE_ANON_KEY,
      authorization: `Bearer ${env.RESIDENT_ACCESS_TOKEN}`,
      'content-type': 'application/json',
      prefer: 'return=representation',
      accept: 'application/vnd.pgrst.object+json',
    };
    const startsAt = new Date(Date.now() + 48 * 3600_000);
    startsAt.setUTCMinutes(0, 0, 0);
    const created = await fetch(`${rest.url}/rest/v1/bookings?select=id`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        facility_id: env.FACILITY_ID,
        apartment_id: env.APARTMENT_ID,
        starts_at: startsAt.toISOString(),
        ends_at: new Date(startsAt.getTime() + 3600_000).toISOString(),
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const moved = await fetch(`${rest.url}/rest/v1/bookings?id=eq.${id}`, {
      method: 'PATCH',
      headers: { ...headers, prefer: 'return=minimal', accept: 'application/json' },
      body: JSON.stringify({
        starts_at: new Date(startsAt.getTime() + 3600_000).toISOString(),
        ends_at: new Date(startsAt.getTime() + 2 * 3600_000).toISOString(),
      }),
    });
    const refusal = await moved.json();
    expect(moved.status, JSON.stringify(refusal)).toBe(403);
    expect(refusal).toMatchObject({ code: '42501', message: 'Residents can only cancel a booking.' });

    // Another apartment's bookings are invisible to this resident: row-level security, not the adapter.
    const others = await fetch(`${rest.url}/rest/v1/bookings?select=id&apartment_id=neq.${env.APARTMENT_ID}`, {
      headers: { ...headers, accept: 'application/json' },
    });
    expect(await others.json()).toEqual([]);

    // A token not signed with the project's secret is refused before any SQL runs.
    const forged = await fetch(`${rest.url}/rest/v1/bookings?select=id`, {
      headers: { authorization: `Bearer ${signJwt({ role: 'service_role' }, 'another secret')}` },
    });
    expect(forged.status).toBe(401);
  });
});

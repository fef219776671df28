/**
 * The simulator as the local stack runs it: started from the command line with the demo site, driven
 * through its HTTP control API from another process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSaltoClient } from '../../src/shared/salto/client.ts';
import { periodForDates } from '../../src/shared/salto/model.ts';
import { setZonePermissions } from '../../src/shared/salto/permissions.ts';
import { nodeStpConnector } from '../../src/simulator/node-stp-connector.ts';
import type { SiteSnapshot } from '../../src/simulator/state.ts';
import { saltoError } from '../salto/helpers.ts';

let child: ChildProcess;
let httpPort: number;
let stpPort: number;
const control = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${httpPort}/_simulator${path}`, init);
const json = async <T = unknown>(path: string, init?: RequestInit) => (await control(path, init)).json() as Promise<T>;

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/simulator/main.ts',
      '--http-port',
      '0',
      '--stp-port',
      '0',
      '--seed',
      'local/demo/salto-site.json',
      '--auth',
      'key',
      '--key',
      'demo-key',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const listening = JSON.parse(firstLine) as { httpPort: number; stpPort: number };
  httpPort = listening.httpPort;
  stpPort = listening.stpPort;
});

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

describe('the simulator started by `npm run simulator`', () => {
  it('prints its ports and serves the demo site in Sydney time', async () => {
    expect(httpPort).toBeGreaterThan(0);
    expect(stpPort).toBeGreaterThan(0);
    const state = await json<SiteSnapshot>('/state');
    expect(state.timeZone).toBe('Australia/Sydney');
    expect(state.zones.map((z) => z.id)).toEqual(['GYM', 'POOL', 'BBQ', 'MAIN-ENTRANCE', 'CAR-PARK', 'LIFTS']);
    expect(state.timetables).toEqual([]);
    const carPark = state.accessLevels
      .filter((l) => l.zonePermissions.some((p) => p.zoneId === 'CAR-PARK'))
      .map((l) => l.id);
    expect(carPark).toEqual(['APT-501-56', 'APT-601-56']);
  });

  it('answers may-open for a local wall time and for an instant', async () => {
    expect(await json('/may-open?accessLevel=APT-502-56&zone=CAR-PARK&at=2026-05-01T10:00:00')).toMatchObject({
      open: false,
    });
    expect(await json('/may-open?accessLevel=APT-501-56&zone=CAR-PARK&at=2026-05-01T00:00:00Z')).toMatchObject({
      open: true,
      localTime: '2026-05-01T10:00:00',
    });
    expect((await control('/may-open?accessLevel=APT-501-56')).status).toBe(400);
  });

  it('records what the client wrote over STP, and forgets it on request', async () => {
    await control('/requests', { method: 'DELETE' });
    const client = createSaltoClient(
      { transport: 'stp', host: '127.0.0.1', port: stpPort },
      { connector: nodeStpConnector },
    );
    const gym = { zoneId: 'GYM', timetableId: 0, usePeriod: true, period: periodForDates('2026-05-01', '2026-05-01') };
    await setZonePermissions(client, 'APT-602-56', [gym], ['GYM', 'POOL', 'BBQ']);
    await client.close();
    const requests = await json<unknown[]>('/requests?requestName=SaltoDBGroup.Update');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ transport: 'stp', applied: true });
    expect(await json('/may-open?accessLevel=APT-602-56&zone=GYM&at=2026-05-01T23:59:59')).toMatchObject({
      open: true,
    });
    await control('/requests', { method: 'DELETE' });
    expect(await json('/requests')).toEqual([]);
  });

  it('injects faults, clears them, and resets the site to the seed', async () => {
    const client = createSaltoClient({
      transport: 'http',
      host: '127.0.0.1',
      port: httpPort,
      auth: { mode: 'key', key: 'demo-key' },
    });
    expect(
      (await control('/faults', { method: 'POST', body: JSON.stringify({ shipError: { code: 1, count: 2 } }) })).status,
    ).toBe(200);
    expect((await saltoError(client.getInfo())).code).toBe(1);
    expect((await saltoError(client.getInfo())).kind).toBe('transient');
    await expect(client.getInfo()).resolves.toMatchObject({ protocolId: 'SHIP' });
    expect((await control('/faults', { method: 'POST', body: '{"shipError":{"code":"x"}}' })).status).toBe(400);
    await control('/faults', { method: 'DELETE' });

    expect((await control('/reset', { method: 'POST' })).status).toBe(200);
    const state = await json<SiteSnapshot>('/state');
    expect(state.accessLevels.find((l) => l.id === 'APT-602-56')!.zonePermissions.map((p) => p.zoneId)).toEqual([
      'MAIN-ENTRANCE',
      'LIFTS',
    ]);
  });

  it('restarts with its state kept', async () => {
    await control('/reset', {
      method: 'POST',
      body: JSON.stringify({ timeZone: 'Australia/Sydney', zones: [{ id: 'ONLY' }] }),
    });
    await control('/restart', { method: 'POST', body: JSON.stringify({ downMs: 50 }) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await json<SiteSnapshot>('/state')).zones).toEqual([
      { id: 'ONLY', name: '', description: '', isLow: false, isFreeAssignment: false, freeAssignmentGroup: 1 },
    ]);
    await control('/reset', { method: 'POST' });
  });

  it('requires the configured key for SHIP but not for the control API', async () => {
    const client = createSaltoClient({ transport: 'http', host: '127.0.0.1', port: httpPort });
    expect((await saltoError(client.getInfo())).httpStatus).toBe(401);
    expect((await control('/health')).status).toBe(200);
  });
});

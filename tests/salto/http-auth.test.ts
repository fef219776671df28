/** HTTP-level refusals: wrong credentials, wrong media type, HTTP switched off. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIP_MEDIA_TYPE } from '../../src/shared/salto/endpoint.ts';
import type { FetchLike } from '../../src/shared/salto/transport-http.ts';
import { type SimulatorHandle, startSimulator } from '../../src/simulator/simulator.ts';
import { clientFor, demoSeed, saltoError } from './helpers.ts';

describe('SHIP over HTTP refuses what SALTO refuses', () => {
  let basic: SimulatorHandle;
  let keyed: SimulatorHandle;
  let switchedOff: SimulatorHandle;

  beforeAll(async () => {
    basic = await startSimulator({
      seed: demoSeed(),
      stpPort: null,
      auth: { mode: 'basic', username: 'integrator', password: 'secret' },
    });
    keyed = await startSimulator({ seed: demoSeed(), stpPort: null, auth: { mode: 'key', key: 'the-key' } });
    switchedOff = await startSimulator({ seed: demoSeed(), stpPort: null, shipOverHttp: false });
  });
  afterAll(async () => {
    await Promise.all([basic.close(), keyed.close(), switchedOff.close()]);
  });

  it('answers wrong Basic credentials with 401, permanent', async () => {
    const client = clientFor(basic, 'http', { auth: { mode: 'basic', username: 'integrator', password: 'wrong' } });
    const error = await saltoError(client.getInfo());
    expect([error.reason, error.httpStatus, error.kind]).toEqual(['http', 401, 'permanent']);
    expect(error.message).toMatch(/credentials/);
  });

  it('answers missing credentials with 401', async () => {
    const client = clientFor(basic, 'http', { auth: { mode: 'none' } });
    expect((await saltoError(client.getInfo())).httpStatus).toBe(401);
  });

  it('answers a wrong Salto-SHIP-Key with 401, and Basic credentials do not stand in for the key', async () => {
    expect(
      (await saltoError(clientFor(keyed, 'http', { auth: { mode: 'key', key: 'nope' } }).getInfo())).httpStatus,
    ).toBe(401);
    expect(
      (
        await saltoError(
          clientFor(keyed, 'http', { auth: { mode: 'basic', username: 'the-key', password: 'the-key' } }).getInfo(),
        )
      ).httpStatus,
    ).toBe(401);
    await expect(clientFor(keyed, 'http').getInfo()).resolves.toMatchObject({ protocolId: 'SHIP' });
  });

  it('answers a wrong media type with 415, permanent, and logs the refusal', async () => {
    const plainXml: FetchLike = (url, init) =>
      fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), 'content-type': 'text/xml' } });
    const client = clientFor(keyed, 'http', {}, { fetch: plainXml });
    const error = await saltoError(client.getInfo());
    expect([error.reason, error.httpStatus, error.kind]).toEqual(['http', 415, 'permanent']);
    expect(keyed.requests().at(-1)).toMatchObject({ httpStatus: 415, requestName: 'GetInfo', applied: false });
  });

  it('accepts the media type with parameters and in any letter case', async () => {
    const withCharset: FetchLike = (url, init) =>
      fetch(url, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          'content-type': `${SHIP_MEDIA_TYPE.toUpperCase()}; charset=utf-8`,
        },
      });
    await expect(clientFor(keyed, 'http', {}, { fetch: withCharset }).getInfo()).resolves.toMatchObject({
      protocolId: 'SHIP',
    });
  });

  it('answers 501 when the HTTP transport is switched off on the server', async () => {
    const error = await saltoError(clientFor(switchedOff, 'http').getInfo());
    expect([error.reason, error.httpStatus, error.kind]).toEqual(['http', 501, 'permanent']);
  });

  it('serves SHIP only at the root: other paths are 404, and control routes do not speak SHIP', async () => {
    const request = '<RequestCall><RequestName>GetInfo</RequestName></RequestCall>';
    const headers = { 'content-type': SHIP_MEDIA_TYPE };
    const base = `http://127.0.0.1:${switchedOff.httpPort}`;
    expect((await fetch(`${base}/other`, { method: 'POST', headers, body: request })).status).toBe(404);
    expect((await fetch(`${base}/_simulator/`, { method: 'POST', headers, body: request })).status).toBe(404);
    expect((await fetch(`${base}/_simulator/state`, { method: 'POST', headers, body: request })).status).toBe(404);
  });
});

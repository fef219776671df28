/** The STP transport against misbehaving TCP peers: slow dribbles, extra frames, hangs, early close. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSaltoClient } from '../../src/shared/salto/client.ts';
import { encodeStpFrame } from '../../src/shared/salto/stp-framing.ts';
import type { StpConnector } from '../../src/shared/salto/transport-stp.ts';
import { nodeStpConnector } from '../../src/simulator/node-stp-connector.ts';
import { saltoError } from './helpers.ts';

const INFO =
  '<RequestResponse><RequestName>GetInfo</RequestName><Params><ProtocolID>SHIP</ProtocolID><ProtocolVersion>1.0</ProtocolVersion>' +
  '<DateTime>2026-05-01T10:00:00</DateTime><DefaultLanguage>en-GB</DefaultLanguage></Params></RequestResponse>';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A TCP server that answers each received frame with `respond(socket)`. */
async function peer(respond: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const match = /^STP\/00\/(\d+)\//.exec(buffered);
      if (match && buffered.length >= match[0].length + Number(match[1])) {
        buffered = buffered.slice(match[0].length + Number(match[1]));
        respond(socket);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return (server.address() as net.AddressInfo).port;
}

const clientOn = (port: number, connector: StpConnector = nodeStpConnector, replyTimeoutMs = 500) =>
  createSaltoClient(
    { transport: 'stp', host: '127.0.0.1', port, replyTimeoutMs, connectTimeoutMs: 200 },
    { connector },
  );

describe('SHIP over TCP/STP', () => {
  it('reassembles a reply that arrives one byte at a time', async () => {
    const port = await peer((socket) => {
      const frame = encodeStpFrame(INFO);
      let i = 0;
      const drip = setInterval(() => {
        if (i >= frame.byteLength || socket.destroyed) return clearInterval(drip);
        socket.write(frame.subarray(i, i + 1));
        i += 1;
      }, 0);
    });
    const client = clientOn(port, nodeStpConnector, 5_000);
    await expect(client.getInfo()).resolves.toMatchObject({ dateTime: '2026-05-01T10:00:00' });
    await client.close();
  });

  it('treats an unrequested extra frame as a broken connection and starts afresh', async () => {
    const port = await peer((socket) => socket.write(Buffer.concat([encodeStpFrame(INFO), encodeStpFrame(INFO)])));
    const client = clientOn(port);
    await expect(client.getInfo()).resolves.toMatchObject({ protocolId: 'SHIP' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(client.getInfo()).resolves.toMatchObject({ protocolId: 'SHIP' });
    await client.close();
  });

  it('reports a peer that closes before replying as a transient transport failure', async () => {
    const port = await peer((socket) => socket.end());
    const error = await saltoError(clientOn(port).getInfo());
    expect([error.reason, error.kind]).toEqual(['transport', 'transient']);
  });

  it('reports a silent peer as a reply timeout', async () => {
    const port = await peer(() => undefined);
    const started = Date.now();
    const error = await saltoError(clientOn(port, nodeStpConnector, 150).getInfo());
    expect(error.message).toMatch(/no reply .* within 150 ms/);
    // The peer never answers: any bound shows the client gave up by itself; a wide one holds on a busy machine.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up connecting after the connect timeout', async () => {
    const never: StpConnector = (_host, _port, signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const error = await saltoError(clientOn(1, never).getInfo());
    expect([error.reason, error.kind]).toEqual(['transport', 'transient']);
    expect(error.message).toMatch(/within 200 ms/);
  });

  it('refuses a reply frame larger than the reply cap without reading it', async () => {
    const port = await peer((socket) => socket.write('STP/00/999999999/'));
    const client = createSaltoClient(
      { transport: 'stp', host: '127.0.0.1', port, maxReplyBytes: 1024 },
      { connector: nodeStpConnector },
    );
    const error = await saltoError(client.getInfo());
    expect([error.reason, error.kind]).toEqual(['malformed', 'permanent']);
  });

  it('needs no credentials and refuses an endpoint that configures some', () => {
    expect(() =>
      createSaltoClient(
        { transport: 'stp', host: '127.0.0.1', port: 6500, auth: { mode: 'key', key: 'k' } },
        { connector: nodeStpConnector },
      ),
    ).toThrow(/STP carries no credentials/);
  });
});

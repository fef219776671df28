/**
 * The STP connector for Node (tests, benchmarks, scripts): node:net socket exposed as Web Streams.
 * The Deno counterpart is supabase/functions/_shared/salto-tcp.ts.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { StpConnector } from '../shared/salto/transport-stp.ts';

export const nodeStpConnector: StpConnector = (host, port, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = net.connect({ host, port });
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // surfaced through the streams
      const { readable, writable } = Duplex.toWeb(socket);
      resolve({
        readable: readable as ReadableStream<Uint8Array>,
        writable: writable as WritableStream<Uint8Array>,
        close: () => socket.destroy(),
      });
    });
  });

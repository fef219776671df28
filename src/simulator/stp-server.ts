/**
 * SHIP over TCP with STP framing (node:net). Requests on one connection are answered in order, one at
 * a time. A byte stream that is not STP closes the connection, as there is no way to answer it.
 */
import net from 'node:net';
import { encodeStpFrame, type StpFrame, StpFrameDecoder } from '../shared/salto/stp-framing.ts';
import type { ShipEngine } from './engine.ts';

export function createStpServer(engine: ShipEngine, maxRequestBytes: number): net.Server {
  return net.createServer((socket) => {
    const decoder = new StpFrameDecoder(maxRequestBytes);
    let queue = Promise.resolve();
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let frames: StpFrame[];
      try {
        frames = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        queue = queue.then(async () => {
          let request: string;
          try {
            request = new TextDecoder('utf-8', { fatal: true }).decode(frame.payload);
          } catch {
            request = '\uFFFD'; // not UTF-8: the engine answers 500 (invalid XML)
          }
          const outcome = await engine.handle(request, 'stp');
          if (socket.destroyed) return;
          if (outcome.kind === 'reply') socket.write(encodeStpFrame(outcome.body));
          else if (outcome.kind === 'raw') socket.write(outcome.bytes);
          // 'silence': nothing; 'http-status' cannot happen on STP.
        });
      }
    });
  });
}

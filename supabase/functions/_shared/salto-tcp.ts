// The STP connector for Deno (edge functions): Deno.connect already exposes Web Streams, which is
// what the runtime-neutral SHIP client (src/shared/salto/transport-stp.ts) works on.
import type { StpConnector } from '../../../src/shared/salto/index.ts';

export const denoStpConnector: StpConnector = async (hostname, port, signal) => {
  signal.throwIfAborted();
  const connecting = Deno.connect({ hostname, port, transport: 'tcp' });
  const aborted = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  const conn = await Promise.race([connecting, aborted]).catch(async (error) => {
    // A connection that completes after the abort must not leak.
    connecting.then((late) => late.close()).catch(() => {});
    throw error;
  });
  return {
    readable: conn.readable,
    writable: conn.writable,
    close: () => {
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
};

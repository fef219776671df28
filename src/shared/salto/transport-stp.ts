/**
 * SHIP over TCP with STP framing, over Web Streams. The socket itself comes from an injected connector
 * (node:net in Node, Deno.connect in Deno), so this file stays runtime-neutral.
 *
 * One connection is opened lazily and reused for later requests; requests on it are strictly one at a
 * time (one request, one reply). After any failure or timeout the connection is in an unknown state
 * (a late reply could still arrive), so it is closed and the next request opens a fresh one.
 */
import type { SaltoEndpoint } from './endpoint.ts';
import { SaltoError } from './errors.ts';
import { StpFrameDecoder, StpFramingError, encodeStpFrame, type StpFrame } from './stp-framing.ts';
import { decodeUtf8 } from './transport-http.ts';
import { deadline, isTimeout, raceAbort, type ShipTransport } from './transport.ts';

export interface StpConnection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  close(): void;
}

/** Opens a TCP connection. Must reject (not hang) when `signal` aborts. */
export type StpConnector = (host: string, port: number, signal: AbortSignal) => Promise<StpConnection>;

interface OpenConnection {
  readonly connection: StpConnection;
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly decoder: StpFrameDecoder;
  readonly pending: StpFrame[];
}

export function createStpTransport(endpoint: SaltoEndpoint, connector: StpConnector): ShipTransport {
  let open: OpenConnection | undefined;
  // Serialises exchanges: the protocol has no request ids, so replies are matched by order alone.
  let queue: Promise<unknown> = Promise.resolve();
  const target = `${endpoint.host}:${endpoint.port}`;

  function discard(): void {
    const current = open;
    open = undefined;
    if (!current) return;
    current.reader.cancel().catch(() => undefined);
    current.writer.abort().catch(() => undefined);
    try {
      current.connection.close();
    } catch {
      // already closed
    }
  }

  async function connect(outer?: AbortSignal): Promise<OpenConnection> {
    if (open) return open;
    const signal = deadline(endpoint.connectTimeoutMs, outer);
    let connection: StpConnection;
    try {
      connection = await raceAbort(connector(endpoint.host, endpoint.port, signal), signal);
    } catch (error) {
      if (signal.aborted && isTimeout(signal)) {
        throw SaltoError.transport(`could not connect to ${target} within ${endpoint.connectTimeoutMs} ms`, error);
      }
      throw SaltoError.transport(`could not connect to ${target}: ${String(error)}`, error);
    }
    open = {
      connection,
      reader: connection.readable.getReader(),
      writer: connection.writable.getWriter(),
      decoder: new StpFrameDecoder(endpoint.maxReplyBytes),
      pending: [],
    };
    return open;
  }

  async function readFrame(current: OpenConnection, signal: AbortSignal): Promise<StpFrame> {
    for (;;) {
      const next = current.pending.shift();
      if (next) return next;
      const { done, value } = await raceAbort(current.reader.read(), signal);
      if (done) throw SaltoError.transport(`${target} closed the connection before replying`);
      try {
        current.pending.push(...current.decoder.push(value));
      } catch (error) {
        if (error instanceof StpFramingError) throw SaltoError.malformed(error.message, error);
        throw error;
      }
    }
  }

  async function exchangeNow(requestXml: string, outer?: AbortSignal): Promise<string> {
    const current = await connect(outer);
    const signal = deadline(endpoint.replyTimeoutMs, outer);
    try {
      if (current.pending.length > 0 || !current.decoder.idle) {
        throw SaltoError.malformed(`${target} sent bytes nobody asked for`);
      }
      await raceAbort(current.writer.write(encodeStpFrame(requestXml)), signal);
      const frame = await readFrame(current, signal);
      if (current.pending.length > 0 || !current.decoder.idle) {
        throw SaltoError.malformed(`${target} sent more than one reply`);
      }
      return decodeUtf8(frame.payload);
    } catch (error) {
      discard();
      if (error instanceof SaltoError) throw error;
      if (signal.aborted) {
        throw SaltoError.transport(
          isTimeout(signal) ? `no reply from ${target} within ${endpoint.replyTimeoutMs} ms` : 'request aborted',
          error,
        );
      }
      throw SaltoError.transport(`connection to ${target} failed: ${String(error)}`, error);
    }
  }

  return {
    exchange(requestXml, outer) {
      const result = queue.then(() => exchangeNow(requestXml, outer));
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      await queue;
      discard();
    },
  };
}

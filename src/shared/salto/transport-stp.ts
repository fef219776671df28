/**
 * SHIP over TCP with STP framing, over Web Streams. The socket itself comes from an injected connector
 * (node:net in Node, Deno.connect in Deno), so this file stays runtime-neutral.
 *
 * One connection is opened lazily and reused for later requests; requests on it are strictly one at a
 * time (one request, one reply). After any failure or timeout the connection is in an unknown state
 * (a late reply could still arrive), so it is closed and the next request opens a fresh one; the same
 * happens when the server closed an idle connection or sent bytes nobody asked for.
 */
import type { SaltoEndpoint } from './endpoint.ts';
import { SaltoError } from './errors.ts';
import { encodeStpFrame, type StpFrame, StpFrameDecoder, StpFramingError } from './stp-framing.ts';
import { deadline, isTimeout, raceAbort, type ShipTransport } from './transport.ts';
import { decodeUtf8 } from './transport-http.ts';

export interface StpConnection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  close(): void;
}

/** Opens a TCP connection. Must reject (not hang) when `signal` aborts. */
export type StpConnector = (host: string, port: number, signal: AbortSignal) => Promise<StpConnection>;

interface OpenConnection {
  readonly connection: StpConnection;
  readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly inbox: Inbox;
}

/**
 * Reads the connection continuously, so that a connection the server closed while idle is noticed
 * before the next request is written to it (and a fresh one is opened instead).
 */
class Inbox {
  private readonly frames: StpFrame[] = [];
  private failure: SaltoError | undefined;
  private wake: (() => void) | undefined;
  private readonly decoder: StpFrameDecoder;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    maxFrameBytes: number,
    private readonly target: string,
  ) {
    this.decoder = new StpFrameDecoder(maxFrameBytes);
    void this.pump();
  }

  /** False once the server closed the connection or sent something that is not STP. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /** True when bytes are buffered that no request asked for. */
  get dirty(): boolean {
    return this.frames.length > 0 || !this.decoder.idle;
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done) throw SaltoError.transport(`${this.target} closed the connection`);
        try {
          this.frames.push(...this.decoder.push(value));
        } catch (error) {
          if (error instanceof StpFramingError) throw SaltoError.malformed(error.message, error);
          throw error;
        }
        this.notify();
      }
    } catch (error) {
      this.failure =
        error instanceof SaltoError
          ? error
          : SaltoError.transport(`connection to ${this.target} failed: ${String(error)}`, error);
      this.notify();
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async next(signal: AbortSignal): Promise<StpFrame> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.failure) throw this.failure;
      await raceAbort(new Promise<void>((resolve) => (this.wake = resolve)), signal);
    }
  }

  cancel(): void {
    this.reader.cancel().catch(() => undefined);
  }
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
    current.inbox.cancel();
    current.writer.abort().catch(() => undefined);
    try {
      current.connection.close();
    } catch {
      // already closed
    }
  }

  async function connect(outer?: AbortSignal): Promise<OpenConnection> {
    if (open?.inbox.usable && !open.inbox.dirty) return open;
    discard();
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
      writer: connection.writable.getWriter(),
      inbox: new Inbox(connection.readable.getReader(), endpoint.maxReplyBytes, target),
    };
    return open;
  }

  async function exchangeNow(requestXml: string, outer?: AbortSignal): Promise<string> {
    const current = await connect(outer);
    const signal = deadline(endpoint.replyTimeoutMs, outer);
    try {
      await raceAbort(current.writer.write(encodeStpFrame(requestXml)), signal);
      const frame = await current.inbox.next(signal);
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

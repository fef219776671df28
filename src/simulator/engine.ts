/**
 * One SHIP request in, one reply out, whatever the transport: faults, the operation itself, reply
 * shaping and the request log. The HTTP and STP servers only move bytes to and from here.
 */
import type { FaultPlan, MalformedKind } from './faults.ts';
import { type OperationContext, runOperation } from './ship-operations.ts';
import { exceptionXml, padValues, readCall, replyXml, ShipException } from './ship-protocol.ts';

export type ShipTransportName = 'http' | 'stp';

export interface LoggedRequest {
  readonly seq: number;
  /** When the request was answered (ISO instant; after any injected latency). */
  readonly at: string;
  /** When the request arrived (ISO instant): with `at`, shows which requests were in flight together. */
  readonly receivedAt: string;
  /** `at` and `receivedAt` in epoch milliseconds with the clock's sub-millisecond precision (benchmarks). */
  readonly atMs: number;
  readonly receivedAtMs: number;
  readonly transport: ShipTransportName;
  /** Null when the request could not be read far enough to know. */
  readonly requestName: string | null;
  readonly request: string;
  /** The reply body as sent (null when none was sent or it was not text). */
  readonly reply: string | null;
  /** Set for HTTP-level refusals (401, 415, 501, injected 5xx). */
  readonly httpStatus?: number;
  /** The SHIP Exception code of the reply, if it carried one. */
  readonly shipCode?: number;
  /** The injected fault, if any. */
  readonly fault?: string;
  /** True when the operation ran (a write changed the site, a read was answered). */
  readonly applied: boolean;
}

export type Outcome =
  | { readonly kind: 'reply'; readonly body: Uint8Array }
  | { readonly kind: 'http-status'; readonly status: number }
  /** STP: bytes that are not a frame. */
  | { readonly kind: 'raw'; readonly bytes: Uint8Array }
  /** Never answer. */
  | { readonly kind: 'silence' };

const encoder = new TextEncoder();

/** Waits `ms`, or less if `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function malformedBody(kind: MalformedKind, requestName: string, reply: string): Outcome {
  const text = (xml: string): Outcome => ({ kind: 'reply', body: encoder.encode(xml) });
  switch (kind) {
    case 'not-xml':
      return text('Internal error: this is not XML');
    case 'truncated':
      return text(reply.slice(0, Math.max(1, Math.floor(reply.length / 2))));
    case 'wrong-root':
      return text(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Unexpected><RequestName>${requestName}</RequestName></Unexpected>`,
      );
    case 'wrong-request-name':
      return text(reply.replace(/<RequestName>[^<]*<\/RequestName>/, '<RequestName>SomeOtherRequest</RequestName>'));
    case 'bad-code':
      return text(
        `<RequestResponse><RequestName>${requestName}</RequestName><Exception><Code>abc</Code><Message>?</Message></Exception></RequestResponse>`,
      );
    case 'oversized':
      return text(
        `<RequestResponse><RequestName>${requestName}</RequestName><Params><Pad>${'x'.repeat(6 * 1024 * 1024)}</Pad></Params></RequestResponse>`,
      );
    case 'invalid-utf8':
      return { kind: 'reply', body: new Uint8Array([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]) };
    case 'bad-frame':
      return { kind: 'raw', bytes: encoder.encode('HTTP/1.1 400 Bad Request\r\n\r\n') };
    case 'no-reply':
      return { kind: 'silence' };
  }
}

export interface EngineOptions {
  readonly context: () => OperationContext;
  readonly faults: FaultPlan;
  readonly maxLogEntries: number;
  /** Aborts when the simulator closes: pending latency and silences end. */
  readonly closing: () => AbortSignal;
}

export class ShipEngine {
  private seq = 0;
  private log: LoggedRequest[] = [];

  constructor(private readonly options: EngineOptions) {}

  requests(): LoggedRequest[] {
    return [...this.log];
  }

  clearRequests(): void {
    this.log = [];
  }

  /** Records a request refused before SHIP processing (HTTP 401 / 415 / 501). */
  recordRefusal(transport: ShipTransportName, request: string, httpStatus: number): void {
    this.record({ transport, requestName: peekRequestName(request), request, reply: null, httpStatus, applied: false });
  }

  private record(
    entry: Omit<LoggedRequest, 'seq' | 'at' | 'receivedAt' | 'atMs' | 'receivedAtMs'> & { received?: Instant },
  ): void {
    const { received, ...logged } = entry;
    const answered = now();
    const { iso: receivedAt, ms: receivedAtMs } = received ?? answered;
    this.log.push({ seq: ++this.seq, at: answered.iso, atMs: answered.ms, receivedAt, receivedAtMs, ...logged });
    if (this.log.length > this.options.maxLogEntries) this.log.splice(0, this.log.length - this.options.maxLogEntries);
  }

  async handle(request: string, transport: ShipTransportName): Promise<Outcome> {
    const faults = this.options.faults;
    const name = peekRequestName(request);
    const received = now();
    await pause(faults.latencyMs, this.options.closing());

    if (transport === 'http') {
      const status = faults.takeHttpStatus(name ?? undefined);
      if (status !== undefined) {
        this.record({
          transport,
          requestName: name,
          request,
          reply: null,
          httpStatus: status,
          fault: `http ${status}`,
          applied: false,
          received,
        });
        return { kind: 'http-status', status };
      }
    }

    let reply: string;
    let shipCode: number | undefined;
    let applied = false;
    let fault: string | undefined;
    let requestName = name ?? '';
    const shape = this.options.context().rules.replyShape;
    const injected = faults.takeShipError(name ?? undefined);
    if (injected) {
      fault = `ship ${injected.code}`;
      shipCode = injected.code;
      reply = exceptionXml(requestName, injected.code, injected.message, shape);
    } else {
      try {
        const call = readCall(request);
        requestName = call.requestName;
        reply = replyXml(call.requestName, runOperation(call.requestName, call.params, this.options.context()), shape);
        applied = true;
      } catch (error) {
        if (error instanceof ShipException) {
          shipCode = error.code;
          reply = exceptionXml(requestName, error.code, error.message, shape);
        } else {
          shipCode = 4;
          reply = exceptionXml(requestName, 4, `General error: ${String(error)}`, shape);
        }
      }
    }
    if (this.options.context().rules.padValues) reply = padValues(reply);

    const malformed = faults.takeMalformed(name ?? undefined);
    if (malformed) {
      const outcome = malformedBody(malformed, requestName, reply);
      this.record({
        transport,
        requestName: name,
        request,
        applied,
        fault: `malformed ${malformed}`,
        received,
        reply: outcome.kind === 'reply' && malformed !== 'invalid-utf8' ? new TextDecoder().decode(outcome.body) : null,
      });
      if (outcome.kind === 'silence') await pause(2_147_483_647, this.options.closing());
      return outcome;
    }
    this.record({
      transport,
      requestName: name,
      request,
      reply,
      applied,
      received,
      ...(shipCode === undefined ? {} : { shipCode }),
      ...(fault ? { fault } : {}),
    });
    return { kind: 'reply', body: encoder.encode(reply) };
  }
}

interface Instant {
  iso: string;
  ms: number;
}

/** Now, as an ISO instant (for people) and in epoch milliseconds with sub-millisecond precision (for benchmarks). */
function now(): Instant {
  const ms = performance.timeOrigin + performance.now();
  return { iso: new Date(ms).toISOString(), ms };
}

/** The RequestName of a request, read leniently (for logs and fault filters, before strict parsing). */
export function peekRequestName(request: string): string | null {
  const match = /<RequestName>\s*([^<]*?)\s*<\/RequestName>/.exec(request);
  return match ? match[1]! : null;
}

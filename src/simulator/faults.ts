/**
 * Fault injection: what the next SHIP calls should suffer. A fault with `count` hits the next N calls, a
 * fault with `share` hits that fraction of calls (seeded, reproducible), a fault with neither hits every
 * call until cleared. Latency adds to every reply.
 */
import { z } from 'zod';

const Times = {
  count: z.number().int().positive().optional(),
  share: z.number().min(0).max(1).optional(),
  /** Only calls with this RequestName (default: every call). */
  requestName: z.string().optional(),
};

export const MALFORMED_KINDS = [
  /** Bytes that are not XML. */
  'not-xml',
  /** The reply cut in the middle. */
  'truncated',
  /** Well-formed XML with another root element. */
  'wrong-root',
  /** A reply naming another request. */
  'wrong-request-name',
  /** An Exception whose Code is not a number. */
  'bad-code',
  /** A reply larger than any sane cap (6 MB). */
  'oversized',
  /** Bytes that are not UTF-8. */
  'invalid-utf8',
  /** STP only: a frame header that is not STP. HTTP: same as not-xml. */
  'bad-frame',
  /** No reply at all: the connection stays open and silent. */
  'no-reply',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export const FaultSpecSchema = z.object({
  /** Milliseconds added before every reply. */
  latencyMs: z.number().int().min(0).optional(),
  /** Stop listening (connections refused) on these transports; back after `durationMs` if given. */
  refuseConnections: z
    .object({
      transports: z.array(z.enum(['http', 'stp'])).default(['http', 'stp']),
      durationMs: z.number().int().positive().optional(),
    })
    .optional(),
  /** HTTP only: answer this status instead of processing (the request is not applied). */
  httpStatus: z.object({ status: z.number().int().min(400).max(599), ...Times }).optional(),
  /** Answer this SHIP error instead of processing (the request is not applied). */
  shipError: z
    .object({ code: z.number().int().min(0), message: z.string().default('Injected fault'), ...Times })
    .optional(),
  /** Process the request, then send a broken reply (a write is applied; the client cannot know). */
  malformed: z.object({ kind: z.enum(MALFORMED_KINDS), ...Times }).optional(),
});
export type FaultSpec = z.input<typeof FaultSpecSchema>;
type ParsedFaults = z.output<typeof FaultSpecSchema>;

interface Timed {
  count?: number | undefined;
  share?: number | undefined;
  requestName?: string | undefined;
}

/** Small seeded PRNG (mulberry32): a "share of calls" is the same sequence on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class FaultPlan {
  private faults: ParsedFaults = {};
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  set(spec: FaultSpec): void {
    this.faults = FaultSpecSchema.parse(spec);
  }

  clear(): void {
    this.faults = {};
  }

  current(): ParsedFaults {
    return structuredClone(this.faults);
  }

  get latencyMs(): number {
    return this.faults.latencyMs ?? 0;
  }

  get refuse(): ParsedFaults['refuseConnections'] {
    return this.faults.refuseConnections;
  }

  /** Whether a timed fault hits this call; consumes one from its count when it does. */
  private hits(fault: Timed | undefined, requestName: string | undefined): boolean {
    if (!fault) return false;
    if (fault.requestName !== undefined && fault.requestName !== requestName) return false;
    if (fault.count !== undefined) {
      if (fault.count <= 0) return false;
      fault.count -= 1;
      return true;
    }
    if (fault.share !== undefined) return this.random() < fault.share;
    return true;
  }

  takeHttpStatus(requestName: string | undefined): number | undefined {
    return this.hits(this.faults.httpStatus, requestName) ? this.faults.httpStatus!.status : undefined;
  }

  takeShipError(requestName: string | undefined): { code: number; message: string } | undefined {
    const fault = this.faults.shipError;
    return this.hits(fault, requestName) ? { code: fault!.code, message: fault!.message } : undefined;
  }

  takeMalformed(requestName: string | undefined): MalformedKind | undefined {
    return this.hits(this.faults.malformed, requestName) ? this.faults.malformed!.kind : undefined;
  }
}

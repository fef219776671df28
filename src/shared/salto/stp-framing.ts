/**
 * STP framing: each message is the ASCII header `STP/<vv>/<n>/` followed by exactly n bytes (the UTF-8
 * XML). The decoder is fed arbitrary chunks, so it copes with a header or body split across reads and
 * with several frames in one read.
 */

export const STP_VERSION = '00';

export class StpFramingError extends Error {
  override readonly name = 'StpFramingError';
}

const encoder = new TextEncoder();

export function encodeStpFrame(payload: Uint8Array | string, version = STP_VERSION): Uint8Array {
  const body = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const header = encoder.encode(`STP/${version}/${body.byteLength}/`);
  const frame = new Uint8Array(header.byteLength + body.byteLength);
  frame.set(header, 0);
  frame.set(body, header.byteLength);
  return frame;
}

export interface StpFrame {
  readonly version: string;
  readonly payload: Uint8Array;
}

const SLASH = 0x2f;
const MAX_HEADER = 'STP/00/'.length + 10 + 1;

/** Incremental decoder. `push` returns the frames completed by this chunk, in order. */
export class StpFrameDecoder {
  private header: number[] = [];
  private version = '';
  private body: Uint8Array | undefined;
  private filled = 0;

  constructor(private readonly maxFrameBytes: number = 5 * 1024 * 1024) {}

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.header.length === 0 && this.body === undefined;
  }

  push(chunk: Uint8Array): StpFrame[] {
    const frames: StpFrame[] = [];
    let i = 0;
    while (i < chunk.byteLength) {
      if (this.body === undefined) {
        const byte = chunk[i++]!;
        this.header.push(byte);
        this.checkHeaderPrefix();
        if (byte === SLASH && this.slashes() === 3) this.startBody(frames);
        continue;
      }
      const take = Math.min(this.body.byteLength - this.filled, chunk.byteLength - i);
      this.body.set(chunk.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled === this.body.byteLength) this.finish(frames);
    }
    return frames;
  }

  private slashes(): number {
    return this.header.filter((b) => b === SLASH).length;
  }

  private checkHeaderPrefix(): void {
    const text = String.fromCharCode(...this.header);
    const ok = /^(S|ST|STP|STP\/|STP\/\d{1,2}|STP\/\d{2}\/|STP\/\d{2}\/\d{1,10}|STP\/\d{2}\/\d{1,10}\/)$/.test(text);
    if (!ok || this.header.length > MAX_HEADER) {
      throw new StpFramingError(`bad STP header ${JSON.stringify(text.slice(0, 24))}`);
    }
  }

  private startBody(frames: StpFrame[]): void {
    const [, version, length] = String.fromCharCode(...this.header).split('/');
    const size = Number(length);
    if (!Number.isSafeInteger(size) || size > this.maxFrameBytes) {
      throw new StpFramingError(`STP frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    this.version = version!;
    this.header = [];
    this.body = new Uint8Array(size);
    this.filled = 0;
    if (size === 0) this.finish(frames);
  }

  private finish(frames: StpFrame[]): void {
    frames.push({ version: this.version, payload: this.body! });
    this.body = undefined;
    this.filled = 0;
  }
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeStpFrame, StpFrameDecoder } from '../../src/shared/salto/stp-framing.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('STP framing', () => {
  it('writes the ASCII header with the UTF-8 byte length, not the character count', () => {
    expect(text(encodeStpFrame('<a>é</a>'))).toBe('STP/00/9/<a>é</a>');
  });

  it('decodes frames however the bytes are split across reads, several frames per read included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 30 }),
        (messages, cuts) => {
          const stream = messages.map((m) => encodeStpFrame(m));
          const all = new Uint8Array(stream.reduce((n, f) => n + f.byteLength, 0));
          let offset = 0;
          for (const frame of stream) {
            all.set(frame, offset);
            offset += frame.byteLength;
          }
          const decoder = new StpFrameDecoder();
          const out: string[] = [];
          let at = 0;
          let i = 0;
          while (at < all.byteLength) {
            const size = cuts[i++ % cuts.length]!;
            out.push(...decoder.push(all.subarray(at, at + size)).map((f) => text(f.payload)));
            at += size;
          }
          expect(out).toEqual(messages);
          expect(decoder.idle).toBe(true);
        },
      ),
    );
  });

  it('refuses a header that is not STP', () => {
    expect(() => new StpFrameDecoder().push(new TextEncoder().encode('HTTP/1.1 200 OK\r\n'))).toThrow(/bad STP header/);
    expect(() => new StpFrameDecoder().push(new TextEncoder().encode('STP/00/-1/'))).toThrow(/bad STP header/);
  });

  it('refuses a frame larger than the reply cap before reading it', () => {
    expect(() => new StpFrameDecoder(100).push(new TextEncoder().encode('STP/00/101/'))).toThrow(/exceeds/);
  });
});

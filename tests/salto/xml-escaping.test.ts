import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRequest, decodeAccessLevel, encodeAccessLevel, readReply } from '../../src/shared/salto/codec.ts';
import {
  branch,
  childText,
  escapeText,
  isXmlText,
  leaf,
  parseDocument,
  serializeDocument,
  serializeElement,
} from '../../src/shared/salto/xml.ts';

/** Strings XML 1.0 can carry: everything except the forbidden control characters and lone surrogates. */
const xmlString = fc.string({ unit: 'binary', maxLength: 60 }).filter(isXmlText);
/** Whitespace of every kind, where trimming would bite: at the edges. */
const edgy = fc
  .tuple(
    fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u3000', '\u2028', '\ufeff', ''),
    xmlString,
    fc.constantFrom(' ', '\r\n', '\u2003', ''),
  )
  .map(([a, b, c]) => a + b + c);

describe('XML values', () => {
  it('round-trip exactly, whatever markup, quotes, whitespace or non-ASCII they contain', () => {
    fc.assert(
      fc.property(fc.oneof(xmlString, edgy), (value) => {
        const xml = serializeDocument(branch('Root', [leaf('Value', value)]));
        expect(childText(parseDocument(xml), 'Value')).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('never open an element: the parsed tree has exactly the elements that were built', () => {
    fc.assert(
      fc.property(fc.array(xmlString, { maxLength: 5 }), (values) => {
        const xml = serializeDocument(
          branch(
            'Root',
            values.map((v) => leaf('Value', v)),
          ),
        );
        const root = parseDocument(xml);
        expect((root.children ?? []).map((c) => c.name)).toEqual(values.map(() => 'Value'));
        expect((root.children ?? []).every((c) => c.children === undefined)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('a name such as "Pool & Spa <B>" is legal data and survives an access level round trip', () => {
    const names = [
      'Pool & Spa <B>',
      '"quoted" \'single\'',
      'Café Ñandú 泳池 🏊',
      '</Name><ExtGroupID>EVIL</ExtGroupID>',
      ']]>',
      '  padded  ',
    ];
    for (const name of names) {
      const xml = `<RequestResponse><RequestName>X</RequestName><Params>${serializeElement(
        encodeAccessLevel({ id: 'APT-1', name, zonePermissions: [] }),
      )}</Params></RequestResponse>`;
      const params = readReply(xml, 'X');
      const level = decodeAccessLevel(params.children![0]!);
      expect(level.name).toBe(name);
      expect(level.id).toBe('APT-1');
    }
  });

  it('escapes the five markup characters and carriage returns', () => {
    expect(escapeText(`a<b>&"'\r`)).toBe('a&lt;b&gt;&amp;&quot;&apos;&#13;');
  });

  it('refuses characters XML cannot carry instead of sending a broken document', () => {
    expect(() => serializeElement(leaf('Name', 'bell\u0007'))).toThrow(/cannot carry/);
    expect(() => buildRequest('X', [leaf('Name', '\uD800')])).toThrow();
  });

  it('refuses element names that are not names', () => {
    expect(() => serializeElement(leaf('a><b', 'x'))).toThrow(/element name/);
  });
});

describe('XML parsing of hostile input', () => {
  it('refuses a DOCTYPE, so no entity can expand', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;">]><a>&y;</a>';
    expect(() => parseDocument(bomb)).toThrow(/DOCTYPE/);
  });

  it('refuses entities other than the XML predefined ones', () => {
    expect(() => parseDocument('<a>&copy;</a>')).toThrow(/entity/);
    expect(() => parseDocument('<a>a & b</a>')).toThrow();
  });

  it('decodes numeric character references', () => {
    expect(parseDocument('<a>&#65;&#x42;&#233;</a>').text).toBe('ABé');
  });

  it('trims literal padding of values, as SALTO pads them', () => {
    expect(childText(parseDocument('<a><Code> 502 </Code></a>'), 'Code')).toBe('502');
  });

  it('keeps IDs as text: "007" stays "007"', () => {
    expect(childText(parseDocument('<a><Id>007</Id></a>'), 'Id')).toBe('007');
  });

  it('refuses elements nested deeper than SHIP ever nests them, and keeps CDATA as literal text', () => {
    const deep = (n: number) => '<a>'.repeat(n) + '1' + '</a>'.repeat(n);
    expect(parseDocument(deep(64)).name).toBe('a');
    expect(() => parseDocument(deep(65))).toThrow(/nested deeper/);
    expect(childText(parseDocument('<a><Name><![CDATA[Pool &amp; <Spa>]]></Name></a>'), 'Name')).toBe(
      'Pool &amp; <Spa>',
    );
  });

  it('refuses truncated documents, several roots and mixed content', () => {
    expect(() => parseDocument('<a><b>1</b>')).toThrow();
    expect(() => parseDocument('<a/><b/>')).toThrow();
    expect(() => parseDocument('<a>text<b>1</b></a>')).toThrow(/mixed/);
    expect(() => parseDocument('')).toThrow();
    expect(() => parseDocument('not xml at all')).toThrow();
  });
});

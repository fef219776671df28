/**
 * The XML that SHIP speaks: elements with either text or child elements, no attributes, no mixed content.
 *
 * Building is done here by hand so that escaping is total and element names are checked (no value can
 * open an element). Parsing uses saxes, a strict (conformant) XML parser, with nothing that could reach
 * outside the document: a DOCTYPE is rejected outright, and the only references accepted are the five
 * XML predefined entities and numeric character references. Attributes, comments and processing
 * instructions are ignored; SHIP has none.
 */
import { EntityDecoder } from '@nodable/entities';
import { SaxesParser } from 'saxes';

/** An element: a leaf carries `text`, a branch carries `children` (in document order). */
export interface XmlElement {
  readonly name: string;
  readonly text?: string;
  readonly children?: readonly XmlElement[];
}

export class XmlError extends Error {
  override readonly name = 'XmlError';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

// Characters XML 1.0 cannot carry at all, even as references.
const NOT_XML_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the control characters XML forbids is this regex's purpose
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `value` can be carried in an XML 1.0 text node. */
export function isXmlText(value: string): boolean {
  return !NOT_XML_CHAR.test(value);
}

// Markup characters, CR, or whitespace at either edge (\s as in String#trim).
const NEEDS_ESCAPING = /[&<>"'\r]|^\s|\s$/;

/**
 * Escapes text content. Markup characters become entities; CR and the whitespace at either edge become
 * numeric references, so that neither line-ending normalisation nor SHIP's trim-on-read alters a value.
 */
export function escapeText(value: string): string {
  if (!isXmlText(value)) throw new XmlError('value contains a character XML cannot carry');
  if (!NEEDS_ESCAPING.test(value)) return value; // most values: IDs, numbers, dates
  const escaped = value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;');
  const ref = (ch: string) => `&#${ch.codePointAt(0)};`;
  // \s is exactly the set String#trim removes (the parser trims with it), Unicode spaces included.
  return escaped
    .replace(/^\s+/, (lead) => [...lead].map(ref).join(''))
    .replace(/\s+$/, (tail) => [...tail].map(ref).join(''));
}

/** A leaf element. Numbers are written in decimal, booleans as SHIP's 0/1. */
export function leaf(name: string, value: string | number | boolean): XmlElement {
  const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  return { name, text };
}

export function branch(name: string, children: readonly (XmlElement | undefined)[]): XmlElement {
  return { name, children: children.filter((c): c is XmlElement => c !== undefined) };
}

export function serializeElement(element: XmlElement): string {
  if (!NAME.test(element.name)) throw new XmlError(`not a valid element name: ${JSON.stringify(element.name)}`);
  if (element.children && element.children.length > 0) {
    return `<${element.name}>${element.children.map(serializeElement).join('')}</${element.name}>`;
  }
  return `<${element.name}>${escapeText(element.text ?? '')}</${element.name}>`;
}

export function serializeDocument(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serializeElement(root)}`;
}

/**
 * The shape replies captured from real SALTO servers have: a single-quoted declaration, one element
 * per line indented by two spaces, CRLF line ends, empty elements self-closed (`<Description />`).
 * Values are escaped as by serializeElement, so the layout never alters one.
 */
export function serializeDocumentIndented(root: XmlElement): string {
  const lines: string[] = [];
  const walk = (element: XmlElement, depth: number) => {
    if (!NAME.test(element.name)) throw new XmlError(`not a valid element name: ${JSON.stringify(element.name)}`);
    const indent = '  '.repeat(depth);
    if (element.children && element.children.length > 0) {
      lines.push(`${indent}<${element.name}>`);
      for (const child of element.children) walk(child, depth + 1);
      lines.push(`${indent}</${element.name}>`);
    } else if ((element.text ?? '') === '') {
      lines.push(`${indent}<${element.name} />`);
    } else {
      lines.push(`${indent}<${element.name}>${escapeText(element.text ?? '')}</${element.name}>`);
    }
  };
  walk(root, 0);
  return `<?xml version='1.0' encoding='utf-8'?>\r\n${lines.join('\r\n')}\r\n`;
}

// An `&` that does not start one of the five predefined entities or a numeric character reference.
const FOREIGN_REFERENCE = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)/;

/** SHIP's documents are shallow; a deeper one is refused rather than walked. */
const MAX_DEPTH = 64;

// Foreign references are refused before parsing and a DOCTYPE never gets here, so the decoder meets
// only the five predefined XML entities (its default map) and numeric character references.
const references = new EntityDecoder();

interface OpenElement {
  readonly name: string;
  /** Text as written, references undecoded. */
  readonly raw: string[];
  readonly children: XmlElement[];
}

/**
 * Parses a document into its root element. Throws XmlError for anything that is not one well-formed
 * element tree of SHIP's shape.
 *
 * saxes checks well-formedness in the one pass that builds the tree. Values are trimmed of the literal
 * padding SALTO adds before their references are decoded, so whitespace written as a reference is data
 * (see escapeText): to see values as written, every `&` is handed to the parser escaped, and the
 * references are decoded here.
 */
export function parseDocument(xml: string): XmlElement {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml))
    throw new XmlError('DOCTYPE and entity declarations are not accepted');
  if (FOREIGN_REFERENCE.test(xml)) throw new XmlError('unknown entity or stray "&"');
  references.reset(); // per document, as the parser it replaces did
  const parser = new SaxesParser({ position: false });
  const open: OpenElement[] = [];
  let root: XmlElement | undefined;
  parser.on('opentag', (tag) => {
    if (open.length >= MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH}`);
    open.push({ name: tag.name, raw: [], children: [] });
  });
  parser.on('text', (text) => open.at(-1)?.raw.push(text));
  parser.on('cdata', (text) => open.at(-1)?.raw.push(text));
  parser.on('closetag', () => {
    const element = closed(open.pop()!);
    if (open.length > 0) open.at(-1)!.children.push(element);
    else root = element;
  });
  try {
    parser.write(xml.replaceAll('&', '&amp;')).close();
  } catch (error) {
    if (error instanceof XmlError) throw error;
    throw new XmlError(`not well-formed XML: ${(error as Error).message}`);
  }
  if (!root) throw new XmlError('expected exactly one root element');
  return root;
}

function closed({ name, raw, children }: OpenElement): XmlElement {
  if (children.length > 0) {
    if (raw.some((text) => text.trim().length > 0)) throw new XmlError(`mixed content in <${name}>`);
    return { name, children };
  }
  return { name, text: references.decode(raw.join('').trim()) };
}

/** The first child called `name`. */
export function childOf(element: XmlElement, name: string): XmlElement | undefined {
  return element.children?.find((c) => c.name === name);
}

/** Every child called `name`. */
export function childrenOf(element: XmlElement, name: string): XmlElement[] {
  return (element.children ?? []).filter((c) => c.name === name);
}

/**
 * The text of the first child called `name`; undefined when the child is absent. Literal padding was
 * trimmed by the parser (SHIP pads values); edge whitespace written as character references is kept.
 */
export function childText(element: XmlElement, name: string): string | undefined {
  const child = childOf(element, name);
  if (!child) return undefined;
  if (child.children && child.children.length > 0) throw new XmlError(`<${name}> should hold text`);
  return child.text ?? '';
}

/** Deep structural equality, the "byte-for-byte equivalent" test for elements. */
export function sameElement(a: XmlElement, b: XmlElement): boolean {
  return serializeElement(a) === serializeElement(b);
}

/**
 * The XML that SHIP speaks: elements with either text or child elements, no attributes, no mixed content.
 *
 * Building is done here by hand so that escaping is total and element names are checked (no value can
 * open an element). Parsing uses fast-xml-parser with everything that could reach outside the document
 * switched off: a DOCTYPE is rejected outright, and the only references accepted are the five XML
 * predefined entities and numeric character references.
 */
import { EntityDecoder } from '@nodable/entities';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

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
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

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

// An `&` that does not start one of the five predefined entities or a numeric character reference.
const FOREIGN_REFERENCE = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)/;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
  processEntities: true,
  // Foreign references are refused before parsing and DOCTYPE-declared entities never get here, so the
  // decoder meets only the five predefined XML entities (its default map) and numeric character
  // references. One decoder serves every parse (the parser resets it per document): left to the
  // parser, a new one holding every HTML entity was built at each parse, a fifth of a SALTO call's CPU.
  entityDecoder: new EntityDecoder(),
  maxNestedTags: 64,
  // No callback reads element paths: the parser need not build one as a string for every element.
  jPath: false,
});

type Ordered = Record<string, unknown>;

/**
 * Parses a document into its root element. Throws XmlError for anything that is not one well-formed
 * element tree of SHIP's shape.
 */
export function parseDocument(xml: string): XmlElement {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new XmlError('DOCTYPE and entity declarations are not accepted');
  if (FOREIGN_REFERENCE.test(xml)) throw new XmlError('unknown entity or stray "&"');
  let valid: true | { err: { msg: string } };
  try {
    valid = XMLValidator.validate(xml);
  } catch (error) {
    throw new XmlError(`not well-formed XML: ${String(error)}`);
  }
  if (valid !== true) throw new XmlError(`not well-formed XML: ${valid.err.msg}`);
  let nodes: Ordered[];
  try {
    nodes = parser.parse(xml) as Ordered[];
  } catch (error) {
    throw new XmlError(`not well-formed XML: ${String(error)}`);
  }
  const elements = nodes.map(toElement).filter((e): e is XmlElement => e !== undefined);
  if (elements.length !== 1) throw new XmlError('expected exactly one root element');
  return elements[0]!;
}

function toElement(node: Ordered): XmlElement | undefined {
  const keys = Object.keys(node).filter((k) => k !== ':@');
  if (keys.length !== 1) throw new XmlError('unexpected node shape');
  const name = keys[0]!;
  if (name === '#text') return undefined;
  if (name === '#cdata' || name === '#comment') return undefined;
  const content = node[name];
  if (!Array.isArray(content)) throw new XmlError('unexpected node shape');
  const texts: string[] = [];
  const children: XmlElement[] = [];
  for (const item of content as Ordered[]) {
    if (Object.prototype.hasOwnProperty.call(item, '#text')) {
      texts.push(String(item['#text']));
      continue;
    }
    const child = toElement(item);
    if (child) children.push(child);
  }
  if (children.length > 0) {
    if (texts.some((t) => t.length > 0)) throw new XmlError(`mixed content in <${name}>`);
    return { name, children };
  }
  return { name, text: texts.join('') };
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

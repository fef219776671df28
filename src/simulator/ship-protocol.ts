/**
 * The simulator's side of SHIP messages: reading a RequestCall strictly (the way SALTO refuses what it
 * does not expect) and writing RequestResponse replies.
 */
import {
  branch,
  childOf,
  leaf,
  parseDocument,
  serializeDocument,
  serializeDocumentIndented,
  type XmlElement,
} from '../shared/salto/xml.ts';

/** A SHIP-level refusal: becomes `<Exception><Code>..</Code><Message>..</Message></Exception>`. */
export class ShipException extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ShipCall {
  readonly requestName: string;
  readonly params: XmlElement;
}

/** Parses a request; throws ShipException 500 / 501 / 12. */
export function readCall(xml: string): ShipCall {
  let root: XmlElement;
  try {
    root = parseDocument(xml);
  } catch (error) {
    throw new ShipException(500, `Invalid XML: ${(error as Error).message}`);
  }
  if (root.name !== 'RequestCall') throw new ShipException(501, `Unexpected root node <${root.name}>`);
  expectOnly(root, ['RequestName', 'Params']);
  const name = childOf(root, 'RequestName');
  if (!name || name.children?.length) throw new ShipException(12, 'Missing RequestName');
  const requestName = (name.text ?? '').trim();
  if (requestName === '') throw new ShipException(12, 'Missing RequestName');
  return { requestName, params: childOf(root, 'Params') ?? { name: 'Params', children: [] } };
}

/** Code 501 when `element` has a child not in `allowed`, or a repeated child. */
export function expectOnly(element: XmlElement, allowed: readonly string[]): void {
  const seen = new Set<string>();
  for (const child of element.children ?? []) {
    if (!allowed.includes(child.name))
      throw new ShipException(501, `Unexpected node <${child.name}> in <${element.name}>`);
    if (seen.has(child.name)) throw new ShipException(501, `Repeated node <${child.name}> in <${element.name}>`);
    seen.add(child.name);
  }
}

/** Trimmed text of a scalar child; undefined when absent. 503 when the child has children. */
export function scalar(element: XmlElement, name: string): string | undefined {
  const child = childOf(element, name);
  if (!child) return undefined;
  if (child.children?.length) throw new ShipException(503, `<${name}> must be a value`);
  return (child.text ?? '').trim();
}

/** Free text (names): literal padding trimmed by the parser, the rest kept. */
export function text(element: XmlElement, name: string): string | undefined {
  const child = childOf(element, name);
  if (!child) return undefined;
  if (child.children?.length) throw new ShipException(503, `<${name}> must be a value`);
  return child.text ?? '';
}

export function requiredScalar(element: XmlElement, name: string): string {
  const value = scalar(element, name);
  if (value === undefined || value === '') throw new ShipException(12, `Missing mandatory field ${name}`);
  return value;
}

export function extId(element: XmlElement, name: string): string {
  const value = requiredScalar(element, name);
  if (value.length > 32) throw new ShipException(12, `${name} longer than 32 characters`);
  return value;
}

export function integer(value: string, name: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new ShipException(503, `${name} must be a whole number`);
  return Number(value);
}

export function boolean01(value: string, name: string): boolean {
  if (value !== '0' && value !== '1') throw new ShipException(503, `${name} must be 0 or 1`);
  return value === '1';
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** `yyyy-MM-ddTHH:mm:ss`, a real calendar date; `T24:00:00` allowed. */
export function dateTime(value: string, name: string): string {
  const match = DATE_TIME.exec(value);
  const bad = () => new ShipException(503, `${name} must be yyyy-MM-ddTHH:mm:ss`);
  if (!match) throw bad();
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!));
  const validDate = date.getUTCFullYear() === y && date.getUTCMonth() === mo! - 1 && date.getUTCDate() === d;
  const validTime = (h! < 24 && mi! < 60 && s! < 60) || (h === 24 && mi === 0 && s === 0);
  if (!validDate || !validTime) throw bad();
  return value;
}

/** `HH:mm:ss`, `24:00:00` allowed. */
export function timeOfDay(value: string, name: string): string {
  if (!/^(([01]\d|2[0-3]):[0-5]\d:[0-5]\d|24:00:00)$/.test(value))
    throw new ShipException(503, `${name} must be HH:mm:ss`);
  return value;
}

/** 'real': the layout captured from real servers (serializeDocumentIndented); 'compact': one line. */
export type ReplyShape = 'real' | 'compact';

const serialize = (root: XmlElement, shape: ReplyShape) =>
  shape === 'real' ? serializeDocumentIndented(root) : serializeDocument(root);

export function replyXml(
  requestName: string,
  params: readonly (XmlElement | undefined)[],
  shape: ReplyShape = 'compact',
): string {
  return serialize(branch('RequestResponse', [leaf('RequestName', requestName), branch('Params', params)]), shape);
}

export function exceptionXml(
  requestName: string,
  code: number,
  message: string,
  shape: ReplyShape = 'compact',
): string {
  return serialize(
    branch('RequestResponse', [
      leaf('RequestName', requestName),
      branch('Exception', [leaf('Code', code), leaf('Message', message)]),
    ]),
    shape,
  );
}

/** Pads every literal value with spaces, as some SALTO versions do (escaped edge whitespace is kept). */
export function padValues(xml: string): string {
  // Only values: the line breaks and indentation between elements stay as they are.
  return xml.replace(/>([^<>]*[^<>\s][^<>]*)</g, (_, value: string) => `> ${value} <`);
}

/** SALTO SHIP client: runtime-neutral (Deno functions, Node tests). */

export * from './calendar.ts';
export * from './client.ts';
export * from './endpoint.ts';
export * from './errors.ts';
export * from './model.ts';
export * from './permissions.ts';
export { encodeStpFrame, StpFrameDecoder, StpFramingError } from './stp-framing.ts';
export type { ShipTransport } from './transport.ts';
export type { FetchLike } from './transport-http.ts';
export type { StpConnection, StpConnector } from './transport-stp.ts';
export { escapeText, isXmlText, parseDocument, serializeDocument, serializeElement, type XmlElement } from './xml.ts';

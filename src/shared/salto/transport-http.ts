/**
 * SHIP over HTTP(S): POST the XML to the server root with the SHIP media type. Status 200 carries every
 * SHIP answer, including SHIP-level errors; other statuses are HTTP-level failures.
 */
import { httpUrl, type SaltoEndpoint, SHIP_MEDIA_TYPE } from './endpoint.ts';
import { SaltoError } from './errors.ts';
import { deadline, isTimeout, type ShipTransport } from './transport.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

const HTTP_MESSAGES: Record<number, string> = {
  401: 'SALTO refused the credentials (HTTP 401): check the endpoint authentication',
  415: 'SALTO refused the media type (HTTP 415)',
  501: 'the HTTP transport is switched off on the SALTO server (HTTP 501)',
};

function authHeaders(endpoint: SaltoEndpoint): Record<string, string> {
  switch (endpoint.auth.mode) {
    case 'none':
      return {};
    case 'basic': {
      const pair = new TextEncoder().encode(`${endpoint.auth.username}:${endpoint.auth.password}`);
      let binary = '';
      for (const byte of pair) binary += String.fromCharCode(byte);
      return { authorization: `Basic ${btoa(binary)}` };
    }
    case 'key':
      return { 'salto-ship-key': endpoint.auth.key };
  }
}

/** Reads a body to text, refusing it once it passes `maxBytes`. */
export async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw SaltoError.malformed(`reply larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw SaltoError.malformed('reply is not valid UTF-8', error);
  }
}

/**
 * What went wrong with a request that got no reply, readably: fetch's own message is often just
 * "fetch failed", with the reason (connection refused, DNS, TLS) in its cause.
 */
function describeFailure(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause === undefined || cause === null) return String(error);
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return `${String(error)} (${typeof code === 'string' && !message.includes(code) ? `${code}: ` : ''}${message})`;
}

export function createHttpTransport(endpoint: SaltoEndpoint, fetchImpl: FetchLike = fetch): ShipTransport {
  const url = httpUrl(endpoint);
  const headers = {
    // Exactly the media type, no parameters: the one form every SALTO version is seen to accept.
    'content-type': SHIP_MEDIA_TYPE,
    accept: SHIP_MEDIA_TYPE,
    ...authHeaders(endpoint),
  };
  return {
    async exchange(requestXml, outer) {
      const signal = deadline(endpoint.connectTimeoutMs + endpoint.replyTimeoutMs, outer);
      try {
        const response = await fetchImpl(url, { method: 'POST', headers, body: requestXml, signal });
        if (response.status !== 200) {
          await response.body?.cancel().catch(() => undefined);
          throw SaltoError.http(
            response.status,
            HTTP_MESSAGES[response.status] ?? `SALTO answered HTTP ${response.status}`,
          );
        }
        return decodeUtf8(await readCapped(response.body, endpoint.maxReplyBytes));
      } catch (error) {
        if (error instanceof SaltoError) throw error;
        if (signal.aborted) {
          throw SaltoError.transport(
            isTimeout(signal)
              ? `no reply from ${url} within ${endpoint.connectTimeoutMs + endpoint.replyTimeoutMs} ms`
              : 'request aborted',
            error,
          );
        }
        throw SaltoError.transport(`HTTP request to ${url} failed: ${describeFailure(error)}`, error);
      }
    },
    async close() {},
  };
}

/**
 * Where and how to reach one building's SALTO server. Stored per building; validated here.
 */
import { z } from 'zod';

export const SHIP_MEDIA_TYPE = 'application/vnd.saltosystems.ship.v1+xml';

export const SaltoAuthSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }),
  z.object({ mode: z.literal('basic'), username: z.string().min(1), password: z.string() }),
  /** SALTO's "Custom" authentication: header `Salto-SHIP-Key: <key>`. */
  z.object({ mode: z.literal('key'), key: z.string().min(1) }),
]);
export type SaltoAuth = z.infer<typeof SaltoAuthSchema>;

export const SaltoEndpointSchema = z
  .object({
    transport: z.enum(['http', 'https', 'stp']),
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65_535),
    /** HTTP path; SHIP posts to the server root. */
    path: z.string().startsWith('/').default('/'),
    auth: SaltoAuthSchema.default({ mode: 'none' }),
    /** STP: time to open the TCP connection. HTTP: added to the reply timeout (fetch does not separate them). */
    connectTimeoutMs: z.number().int().positive().default(5_000),
    /** Time from sending a request to having the whole reply. */
    replyTimeoutMs: z.number().int().positive().default(20_000),
    /** Replies larger than this are refused as malformed. */
    maxReplyBytes: z
      .number()
      .int()
      .positive()
      .default(5 * 1024 * 1024),
  })
  .refine((e) => e.transport !== 'stp' || e.auth.mode === 'none', {
    message: 'SHIP over TCP/STP carries no credentials: use auth mode "none" with transport "stp"',
    path: ['auth'],
  });

/** What a caller writes (defaults optional). */
export type SaltoEndpointInput = z.input<typeof SaltoEndpointSchema>;
/** After validation, every default filled in. */
export type SaltoEndpoint = z.output<typeof SaltoEndpointSchema>;

export function httpUrl(endpoint: SaltoEndpoint): string {
  const host = endpoint.host.includes(':') && !endpoint.host.startsWith('[') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.transport === 'https' ? 'https' : 'http'}://${host}:${endpoint.port}${endpoint.path}`;
}

/** The endpoint as safe to log: credentials removed. */
export function describeEndpoint(endpoint: SaltoEndpoint): string {
  const target = endpoint.transport === 'stp' ? `stp://${endpoint.host}:${endpoint.port}` : httpUrl(endpoint);
  return `${target} (auth ${endpoint.auth.mode})`;
}

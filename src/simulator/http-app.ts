/**
 * The simulator's HTTP face (Hono): SHIP at `POST /`, and the control API under `/_simulator/` for
 * tests and demos running in another process. Control routes never go through SHIP processing, and SHIP
 * is only served at the root.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { type SaltoAuth, SHIP_MEDIA_TYPE } from '../shared/salto/endpoint.ts';
import type { AccessDecision } from './access.ts';
import type { LoggedRequest, ShipEngine } from './engine.ts';
import { type FaultSpec, FaultSpecSchema } from './faults.ts';
import type { SiteSnapshot } from './state.ts';

/** What the control API may do to the running simulator. */
export interface SimulatorControl {
  snapshot(options?: { includeEmptyTimetables?: boolean }): SiteSnapshot;
  reset(seed?: unknown): void;
  requests(): LoggedRequest[];
  clearRequests(): void;
  setFaults(spec: FaultSpec): Promise<void>;
  clearFaults(): Promise<void>;
  faults(): unknown;
  mayOpen(accessLevelId: string, zoneId: string, at: Date | string, calendarId?: number): AccessDecision;
  restart(options?: { downMs?: number }): Promise<void>;
}

export interface HttpAppOptions {
  readonly engine: ShipEngine;
  readonly control: SimulatorControl;
  readonly auth: () => SaltoAuth;
  /** False answers SHIP with 501 (the HTTP transport switched off on the server); control still works. */
  readonly shipOverHttp: () => boolean;
  readonly maxRequestBytes: number;
}

function timingSafeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  let diff = left.length ^ right.length;
  for (let i = 0; i < Math.max(left.length, right.length); i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return diff === 0;
}

function authorized(auth: SaltoAuth, headers: Headers): boolean {
  switch (auth.mode) {
    case 'none':
      return true;
    case 'basic': {
      const header = headers.get('authorization') ?? '';
      const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      if (!match) return false;
      let decoded: string;
      try {
        decoded = new TextDecoder().decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)));
      } catch {
        return false;
      }
      return timingSafeEqual(decoded, `${auth.username}:${auth.password}`);
    }
    case 'key':
      return timingSafeEqual(headers.get('salto-ship-key') ?? '', auth.key);
  }
}

function isShipMediaType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === SHIP_MEDIA_TYPE;
}

const MayOpenQuery = z.object({
  accessLevel: z.string().min(1),
  zone: z.string().min(1),
  at: z.string().min(1),
  calendar: z.coerce.number().int().min(1).optional(),
});

/** `at` without an offset is the site's local wall time; with `Z` or an offset it is an instant. */
function parseAt(at: string): Date | string {
  return /(Z|[+-]\d{2}:\d{2})$/.test(at) ? new Date(at) : at;
}

export function createHttpApp(options: HttpAppOptions): Hono {
  const app = new Hono();
  const { engine, control } = options;

  app.post('/', async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const request = new TextDecoder().decode(body);
    const refuse = (status: number, message: string, headers: Record<string, string> = {}) => {
      engine.recordRefusal('http', request, status);
      return c.text(message, status as 401, headers);
    };
    if (!options.shipOverHttp()) return refuse(501, 'SHIP over HTTP is disabled on this server');
    const auth = options.auth();
    if (!authorized(auth, c.req.raw.headers)) {
      return refuse(
        401,
        'Unauthorized',
        auth.mode === 'basic' ? { 'www-authenticate': 'Basic realm="SALTO SHIP"' } : {},
      );
    }
    if (!isShipMediaType(c.req.header('content-type')))
      return refuse(415, `Unsupported media type: use ${SHIP_MEDIA_TYPE}`);
    if (body.byteLength > options.maxRequestBytes) return refuse(413, 'Request too large');

    const outcome = await engine.handle(request, 'http');
    switch (outcome.kind) {
      case 'http-status':
        return c.text(`Injected HTTP ${outcome.status}`, outcome.status as 500);
      case 'silence':
        return c.text('Simulator closing', 503);
      case 'raw':
        return c.body(outcome.bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': SHIP_MEDIA_TYPE });
      case 'reply':
        return c.body(outcome.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': SHIP_MEDIA_TYPE });
    }
  });

  const api = new Hono();
  api.get('/health', (c) => c.json({ ok: true }));
  api.get('/state', (c) =>
    c.json(control.snapshot({ includeEmptyTimetables: c.req.query('emptyTimetables') === '1' })),
  );
  api.post('/reset', async (c) => {
    const text = await c.req.text();
    try {
      control.reset(text.trim() === '' ? undefined : JSON.parse(text));
    } catch (error) {
      return c.json({ error: String(error) }, 400);
    }
    return c.json({ ok: true });
  });
  api.get('/requests', (c) => {
    const name = c.req.query('requestName');
    const since = Number(c.req.query('since') ?? '0');
    return c.json(control.requests().filter((r) => (name === undefined || r.requestName === name) && r.seq > since));
  });
  api.delete('/requests', (c) => {
    control.clearRequests();
    return c.json({ ok: true });
  });
  api.get('/faults', (c) => c.json(control.faults()));
  api.post('/faults', async (c) => {
    const parsed = FaultSpecSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ error: z.prettifyError(parsed.error) }, 400);
    await control.setFaults(parsed.data);
    return c.json({ ok: true });
  });
  api.delete('/faults', async (c) => {
    await control.clearFaults();
    return c.json({ ok: true });
  });
  api.get('/may-open', (c) => {
    const parsed = MayOpenQuery.safeParse(c.req.query());
    if (!parsed.success) return c.json({ error: z.prettifyError(parsed.error) }, 400);
    try {
      return c.json(
        control.mayOpen(parsed.data.accessLevel, parsed.data.zone, parseAt(parsed.data.at), parsed.data.calendar),
      );
    } catch (error) {
      return c.json({ error: String(error) }, 400);
    }
  });
  api.post('/restart', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { downMs?: unknown };
    const downMs = typeof body.downMs === 'number' && body.downMs >= 0 ? body.downMs : 0;
    // Answer first: the restart closes this very connection.
    setTimeout(() => void control.restart({ downMs }), 10);
    return c.json({ ok: true, downMs });
  });
  app.route('/_simulator', api);
  app.notFound((c) => c.text('Not found: SHIP is served at POST /', 404));
  return app;
}

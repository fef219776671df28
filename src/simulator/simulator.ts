/**
 * A SALTO ProAccess SPACE stand-in: SHIP over HTTP and over TCP/STP on loopback, holding one site's state.
 * `startSimulator` is the programmatic API (vitest, benchmarks); main.ts is the command line.
 */

import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type net from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { type SaltoAuth, SaltoAuthSchema, type SaltoEndpointInput } from '../shared/salto/endpoint.ts';
import { type AccessDecision, type AccessOptions, decideAccess, decideDoorAccess } from './access.ts';
import { type LoggedRequest, ShipEngine } from './engine.ts';
import { FaultPlan, type FaultSpec, FaultSpecSchema } from './faults.ts';
import { createHttpApp } from './http-app.ts';
import { DEFAULT_RULES, type ShipRules } from './ship-operations.ts';
import { type SiteSeed, type SiteSnapshot, type SiteState, siteFromSeed, snapshotSite } from './state.ts';
import { createStpServer } from './stp-server.ts';

export interface SimulatorOptions {
  /** 0 (default) lets the OS choose. */
  readonly httpPort?: number;
  /** 0 (default) lets the OS choose; null: no STP listener. */
  readonly stpPort?: number | null;
  /** Loopback only; kept as an option for IPv6 loopback. */
  readonly host?: '127.0.0.1' | '::1';
  readonly auth?: SaltoAuth;
  /** False: SHIP over HTTP answers 501 (the control API still works). */
  readonly shipOverHttp?: boolean;
  /** A seed object or a path to a seed JSON file. */
  readonly seed?: SiteSeed | string;
  /** Overrides the seed's time zone. */
  readonly timeZone?: string;
  readonly rules?: Partial<ShipRules>;
  /** The server clock (GetInfo DateTime). */
  readonly now?: () => Date;
  /** Seed of the PRNG behind share-of-calls faults. */
  readonly randomSeed?: number;
  readonly maxLogEntries?: number;
  readonly maxRequestBytes?: number;
}

export interface SimulatorHandle {
  readonly host: string;
  readonly httpPort: number;
  /** Undefined when STP is off. */
  readonly stpPort: number | undefined;
  readonly rules: Readonly<ShipRules>;
  /** A client endpoint for this simulator (credentials as configured unless given). */
  endpoint(transport: 'http' | 'stp', overrides?: Partial<SaltoEndpointInput>): SaltoEndpointInput;
  /** The live site (mutating it is allowed in tests, like editing SALTO by hand). */
  readonly site: SiteState;
  snapshot(options?: { includeEmptyTimetables?: boolean }): SiteSnapshot;
  /** Replace the site with a seed (default: the seed the simulator started with). Keeps log and faults. */
  reset(seed?: unknown): void;
  /** May a card of this access level open this zone at `at` (instant, or local `yyyy-MM-ddTHH:mm:ss`)? */
  /** `options.calendarId`: the calendar that gives dates their day type (default 1; see access.ts). */
  mayOpen(accessLevelId: string, zoneId: string, at: Date | string, options?: AccessOptions): boolean;
  explainAccess(accessLevelId: string, zoneId: string, at: Date | string, options?: AccessOptions): AccessDecision;
  mayOpenDoor(accessLevelId: string, doorId: string, at: Date | string, options?: AccessOptions): boolean;
  requests(filter?: { requestName?: string; transport?: 'http' | 'stp' }): LoggedRequest[];
  clearRequests(): void;
  /** Resolves once listeners are up or down as the faults ask (refuseConnections). */
  setFaults(spec: FaultSpec): Promise<void>;
  clearFaults(): Promise<void>;
  setAuth(auth: SaltoAuth): void;
  /** Stop listening (connections refused), wait `downMs`, listen again on the same ports. State is kept. */
  restart(options?: { downMs?: number }): Promise<void>;
  close(): Promise<void>;
}

function loadSeed(seed: SiteSeed | string | undefined): unknown {
  if (seed === undefined) return {};
  if (typeof seed === 'string') return JSON.parse(readFileSync(seed, 'utf8')) as unknown;
  return seed;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function shut(server: net.Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as http.Server).closeAllConnections?.();
  });
}

/** Tracks sockets so STP connections can be cut on restart. */
function trackSockets(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  const rules: ShipRules = { ...DEFAULT_RULES, ...options.rules };
  const initialSeed = loadSeed(options.seed);
  let site = siteFromSeed(initialSeed, rules.timetablePoolSize, options.timeZone);
  let auth: SaltoAuth = SaltoAuthSchema.parse(options.auth ?? { mode: 'none' });
  const now = options.now ?? (() => new Date());
  const faults = new FaultPlan(options.randomSeed ?? 1);
  let closing = new AbortController();
  const maxRequestBytes = options.maxRequestBytes ?? 5 * 1024 * 1024;

  const engine = new ShipEngine({
    context: () => ({ site, rules, now }),
    faults,
    maxLogEntries: options.maxLogEntries ?? 10_000,
    closing: () => closing.signal,
  });

  const control = {
    snapshot: (o?: { includeEmptyTimetables?: boolean }) => snapshotSite(site, o),
    reset(seed?: unknown) {
      site = siteFromSeed(seed ?? initialSeed, rules.timetablePoolSize, options.timeZone);
    },
    requests: () => engine.requests(),
    clearRequests: () => engine.clearRequests(),
    setFaults(spec: FaultSpec): Promise<void> {
      faults.set(spec);
      const refuse = FaultSpecSchema.parse(spec).refuseConnections;
      return refuse ? applyRefusal(refuse.transports, refuse.durationMs) : reopen();
    },
    clearFaults(): Promise<void> {
      faults.clear();
      return reopen();
    },
    faults: () => faults.current(),
    mayOpen: (accessLevelId: string, zoneId: string, at: Date | string, calendarId?: number) =>
      decideAccess(site, accessLevelId, zoneId, at, { calendarId }),
    restart: (o?: { downMs?: number }) => restart(o?.downMs ?? 0),
  };

  const app = createHttpApp({
    engine,
    control,
    auth: () => auth,
    shipOverHttp: () => options.shipOverHttp ?? true,
    maxRequestBytes,
  });

  let httpServer: net.Server | undefined;
  let stpServer: net.Server | undefined;
  let stpSockets = new Set<net.Socket>();
  let httpPort = options.httpPort ?? 0;
  let stpPort: number | undefined = options.stpPort === null ? undefined : (options.stpPort ?? 0);

  async function open(which: 'http' | 'stp'): Promise<void> {
    if (which === 'http' && !httpServer?.listening) {
      httpServer = createAdaptorServer({ fetch: app.fetch, hostname: host }) as unknown as net.Server;
      httpPort = await listen(httpServer, httpPort, host);
    }
    if (which === 'stp' && stpPort !== undefined && !stpServer?.listening) {
      stpServer = createStpServer(engine, maxRequestBytes);
      stpSockets = trackSockets(stpServer);
      stpPort = await listen(stpServer, stpPort, host);
    }
  }

  async function stop(which: 'http' | 'stp'): Promise<void> {
    if (which === 'http') await shut(httpServer);
    else {
      for (const socket of stpSockets) socket.destroy();
      await shut(stpServer);
    }
  }

  // Listener changes run one at a time: overlapping open/stop calls would race for the same port.
  let lifecycle: Promise<unknown> = Promise.resolve();
  function serially(step: () => Promise<void>): Promise<void> {
    const next = lifecycle.then(step);
    lifecycle = next.catch(() => undefined);
    return next;
  }

  function applyRefusal(transports: ('http' | 'stp')[], durationMs?: number): Promise<void> {
    return serially(async () => {
      for (const which of transports) await stop(which);
      if (durationMs !== undefined) {
        setTimeout(() => {
          faults.set({ ...faults.current(), refuseConnections: undefined });
          void reopen();
        }, durationMs).unref();
      }
    });
  }

  function reopen(): Promise<void> {
    return serially(async () => {
      if (closed) return;
      await open('http');
      await open('stp');
    });
  }

  function restart(downMs: number): Promise<void> {
    return serially(async () => {
      closing.abort();
      await stop('http');
      await stop('stp');
      await new Promise((resolve) => setTimeout(resolve, downMs));
      closing = new AbortController();
      if (!closed) {
        await open('http');
        await open('stp');
      }
    });
  }

  let closed = false;
  await open('http');
  await open('stp');

  const handle: SimulatorHandle = {
    host,
    get httpPort() {
      return httpPort;
    },
    get stpPort() {
      return stpPort;
    },
    rules,
    endpoint(transport, overrides = {}) {
      return {
        transport,
        host,
        port: transport === 'http' ? httpPort : (stpPort ?? 0),
        auth: transport === 'stp' ? { mode: 'none' } : auth,
        connectTimeoutMs: 2_000,
        replyTimeoutMs: 5_000,
        ...overrides,
      };
    },
    get site() {
      return site;
    },
    snapshot: control.snapshot,
    reset: control.reset,
    mayOpen: (accessLevelId, zoneId, at, o) => decideAccess(site, accessLevelId, zoneId, at, o).open,
    explainAccess: (accessLevelId, zoneId, at, o) => decideAccess(site, accessLevelId, zoneId, at, o),
    mayOpenDoor: (accessLevelId, doorId, at, o) => decideDoorAccess(site, accessLevelId, doorId, at, o).open,
    requests(filter = {}) {
      return engine
        .requests()
        .filter(
          (r) =>
            (filter.requestName === undefined || r.requestName === filter.requestName) &&
            (filter.transport === undefined || r.transport === filter.transport),
        );
    },
    clearRequests: control.clearRequests,
    setFaults: control.setFaults,
    clearFaults: control.clearFaults,
    setAuth(next) {
      auth = SaltoAuthSchema.parse(next);
    },
    restart: (o) => restart(o?.downMs ?? 0),
    close() {
      closed = true;
      closing.abort();
      return serially(async () => {
        await stop('http');
        await stop('stp');
      });
    },
  };
  return handle;
}

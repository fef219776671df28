/** Test helpers: the demo site, a simulator per test file, and clients over each transport and auth mode. */
import { readFileSync } from 'node:fs';
import { createSaltoClient, type SaltoClient, type SaltoClientOptions } from '../../src/shared/salto/client.ts';
import type { SaltoAuth, SaltoEndpointInput } from '../../src/shared/salto/endpoint.ts';
import { SaltoError } from '../../src/shared/salto/errors.ts';
import { nodeStpConnector } from '../../src/simulator/node-stp-connector.ts';
import { type SimulatorHandle, type SimulatorOptions, startSimulator } from '../../src/simulator/simulator.ts';
import type { SiteSeed } from '../../src/simulator/state.ts';

export const demoSeed = (): SiteSeed =>
  JSON.parse(readFileSync(new URL('../../local/demo/salto-site.json', import.meta.url), 'utf8')) as SiteSeed;

export interface Variant {
  readonly label: string;
  readonly transport: 'http' | 'stp';
  readonly auth: SaltoAuth;
}

/** Every way a building's SALTO can be reached. */
export const VARIANTS: readonly Variant[] = [
  { label: 'HTTP without authentication', transport: 'http', auth: { mode: 'none' } },
  {
    label: 'HTTP with Basic authentication',
    transport: 'http',
    auth: { mode: 'basic', username: 'integrator', password: 'pä$$ w:rd' },
  },
  { label: 'HTTP with a Salto-SHIP-Key', transport: 'http', auth: { mode: 'key', key: 'k3y-ß-123' } },
  { label: 'TCP with STP framing', transport: 'stp', auth: { mode: 'none' } },
];

export async function simulatorFor(variant: Variant, options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  return startSimulator({ seed: demoSeed(), auth: variant.auth, ...options });
}

export function clientFor(
  simulator: SimulatorHandle,
  transport: 'http' | 'stp',
  overrides: Partial<SaltoEndpointInput> = {},
  options: SaltoClientOptions = {},
): SaltoClient {
  return createSaltoClient(simulator.endpoint(transport, overrides), { connector: nodeStpConnector, ...options });
}

/** Runs `promise`, expecting a SaltoError, and returns it. */
export async function saltoError(promise: Promise<unknown>): Promise<SaltoError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SaltoError) return error;
    throw new Error(`expected a SaltoError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a SaltoError, but the call succeeded');
}

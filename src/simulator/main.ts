/**
 * `npm run simulator -- [flags]`: a SALTO SHIP simulator on loopback. Flags override environment
 * variables; see README.md for the table.
 */
import { parseArgs } from 'node:util';
import type { SaltoAuth } from '../shared/salto/endpoint.ts';
import { startSimulator } from './simulator.ts';

const { values } = parseArgs({
  options: {
    'http-port': { type: 'string' },
    'stp-port': { type: 'string' },
    'no-stp': { type: 'boolean' },
    'no-ship-over-http': { type: 'boolean' },
    auth: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    key: { type: 'string' },
    seed: { type: 'string' },
    'time-zone': { type: 'string' },
    'pool-size': { type: 'string' },
    'max-page-size': { type: 'string' },
    'max-intervals': { type: 'string' },
    'duplicate-zone-code': { type: 'string' },
    'starting-from-exclusive': { type: 'boolean' },
    'pad-values': { type: 'boolean' },
    'latency-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`Usage: npm run simulator -- [--http-port 8100] [--stp-port 6500 | --no-stp] [--auth none|basic|key]
  [--username U --password P] [--key K] [--seed local/demo/salto-site.json] [--time-zone Australia/Sydney]
  [--pool-size 255] [--max-page-size 1000] [--max-intervals 8] [--duplicate-zone-code 7]
  [--starting-from-exclusive] [--pad-values] [--latency-ms 0] [--no-ship-over-http]
Environment: SALTO_SIM_HTTP_PORT, SALTO_SIM_STP_PORT, SALTO_SIM_AUTH, SALTO_SIM_USERNAME, SALTO_SIM_PASSWORD,
  SALTO_SIM_KEY, SALTO_SIM_SEED, SALTO_SIM_TIME_ZONE. Control API: http://127.0.0.1:<http-port>/_simulator/`);
  process.exit(0);
}

const env = process.env;
const num = (flag: string | undefined, envValue: string | undefined, fallback: number): number => {
  const raw = flag ?? envValue;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: ${raw}`);
  return n;
};

function authFrom(): SaltoAuth {
  const mode = values.auth ?? env.SALTO_SIM_AUTH ?? 'none';
  if (mode === 'none') return { mode };
  if (mode === 'basic') {
    return {
      mode,
      username: values.username ?? env.SALTO_SIM_USERNAME ?? 'salto',
      password: values.password ?? env.SALTO_SIM_PASSWORD ?? '',
    };
  }
  if (mode === 'key') {
    const key = values.key ?? env.SALTO_SIM_KEY;
    if (!key) throw new Error('--auth key needs --key or SALTO_SIM_KEY');
    return { mode, key };
  }
  throw new Error(`unknown auth mode ${mode} (none, basic, key)`);
}

const simulator = await startSimulator({
  httpPort: num(values['http-port'], env.SALTO_SIM_HTTP_PORT, 8100),
  stpPort: values['no-stp'] ? null : num(values['stp-port'], env.SALTO_SIM_STP_PORT, 6500),
  shipOverHttp: !values['no-ship-over-http'],
  auth: authFrom(),
  ...((values.seed ?? env.SALTO_SIM_SEED) ? { seed: (values.seed ?? env.SALTO_SIM_SEED)! } : {}),
  ...((values['time-zone'] ?? env.SALTO_SIM_TIME_ZONE)
    ? { timeZone: (values['time-zone'] ?? env.SALTO_SIM_TIME_ZONE)! }
    : {}),
  rules: {
    ...(values['pool-size'] ? { timetablePoolSize: num(values['pool-size'], undefined, 255) } : {}),
    ...(values['max-page-size'] ? { maxPageSize: num(values['max-page-size'], undefined, 1000) } : {}),
    ...(values['max-intervals'] ? { maxIntervalsPerTimetable: num(values['max-intervals'], undefined, 8) } : {}),
    ...(values['duplicate-zone-code'] ? { duplicateZoneCode: num(values['duplicate-zone-code'], undefined, 7) } : {}),
    ...(values['starting-from-exclusive'] ? { startingFromInclusive: false } : {}),
    ...(values['pad-values'] ? { padValues: true } : {}),
  },
});
const latency = num(values['latency-ms'], undefined, 0);
if (latency > 0) simulator.setFaults({ latencyMs: latency });

// One machine-readable line first (the stack's `up` reads it), then a human one.
console.log(
  JSON.stringify({
    event: 'listening',
    host: simulator.host,
    httpPort: simulator.httpPort,
    stpPort: simulator.stpPort ?? null,
  }),
);
console.log(
  `SALTO SHIP simulator: HTTP http://${simulator.host}:${simulator.httpPort}/` +
    (simulator.stpPort === undefined ? '' : `, STP ${simulator.host}:${simulator.stpPort}`) +
    `, site time zone ${simulator.site.timeZone}, control API http://${simulator.host}:${simulator.httpPort}/_simulator/`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}

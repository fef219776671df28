// One user worker of the local edge runtime (local/edge-runtime.ts), run by the Deno of the hosted
// edge runtime: loads a function's index.ts as deployed, with what the edge runtime gives a worker.
//   - EdgeRuntime.waitUntil: the worker stays alive until the promises given to it settle.
//   - Deno.serve() listens where the runtime says (EDGE_WORKER_PORT), whatever options the function
//     passes, and the worker tells the runtime on stdout once it listens (EDGE_WORKER_READY).
//   - Retired (SIGUSR1 from the runtime, which sends no more requests): once every request it was
//     given has been answered and every waitUntil promise settled, `beforeunload` fires and the
//     worker exits, as the edge runtime's early drop does.
//   - Memory: V8's heap is capped by the runtime's --max-old-space-size; the ArrayBuffers outside it
//     are counted here too (heap used + external, as the edge runtime's memory check counts), and a
//     worker over the limit exits with MEMORY_LIMIT_EXIT.
// Plain Deno APIs only: this file is the local stand-in, never deployed.

const READY = 'EDGE_WORKER_READY';
const MEMORY_LIMIT_EXIT = 86;

const entry = Deno.args[0];
if (!entry) throw new Error('usage: edge-worker.ts <function entry file>');
const port = Number(Deno.env.get('EDGE_WORKER_PORT'));
const memoryLimitBytes = Number(Deno.env.get('EDGE_WORKER_MEMORY_MB') ?? 256) * 1024 * 1024;

const pending = new Set<Promise<unknown>>();
let inFlight = 0;
let retired = false;

function exitWhenIdle() {
  if (!retired || inFlight > 0 || pending.size > 0) return;
  dispatchEvent(new Event('beforeunload'));
  Deno.exit(0);
}

Object.defineProperty(globalThis, 'EdgeRuntime', {
  value: Object.freeze({
    waitUntil<T>(promise: Promise<T>): Promise<T> {
      const tracked = Promise.resolve(promise);
      pending.add(tracked);
      const settled = () => {
        pending.delete(tracked);
        exitWhenIdle();
      };
      tracked.then(settled, settled);
      return promise;
    },
  }),
});

type Handler = (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;
const serve = Deno.serve.bind(Deno);
(Deno as unknown as { serve: unknown }).serve = (first: unknown, second?: unknown) => {
  const options = (typeof first === 'function' ? {} : first) as { handler?: Handler };
  const handler = (typeof first === 'function' ? first : (second ?? options.handler)) as Handler;
  const counted: Handler = async (request, info) => {
    inFlight++;
    try {
      return await handler(request, info);
    } finally {
      inFlight--;
      queueMicrotask(exitWhenIdle);
    }
  };
  return serve(
    {
      hostname: '127.0.0.1',
      port,
      onListen: () => console.log(`${READY} ${Deno.version.deno}`),
    },
    counted,
  );
};

Deno.addSignalListener('SIGUSR1', () => {
  retired = true;
  exitWhenIdle();
});

setInterval(() => {
  const { heapUsed, external } = Deno.memoryUsage();
  if (heapUsed + external >= memoryLimitBytes) {
    console.error(`memory limit reached: ${Math.round((heapUsed + external) / 1024 / 1024)} MB`);
    Deno.exit(MEMORY_LIMIT_EXIT);
  }
}, 100);

await import(new URL(entry, `file://${Deno.cwd()}/`).href);

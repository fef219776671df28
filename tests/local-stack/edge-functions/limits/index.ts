// A test-only function for the local edge runtime's limits (tests/local-stack/edge-runtime.test.ts):
// never deployed, served only by runtimes the tests start over this folder.
//   GET  /limits/html          an HTML page that also sets a cookie
//   GET  /limits/version       the Deno it runs on, and which worker answers (a number per worker)
//   POST /limits/spin?ms=N     computes for N ms (at most N ms of CPU time) before answering
//   POST /limits/sleep?ms=N    answers after N ms of wall clock, using no CPU
//   POST /limits/memory?mb=N   holds N MB of live objects before answering
//   POST /limits/background?ms=N  answers at once, then waits N ms in EdgeRuntime.waitUntil
declare const EdgeRuntime: { waitUntil(promise: Promise<unknown>): void };

const worker = crypto.randomUUID();
const held: unknown[] = [];
let backgroundDone = 0;

/**
 * Computes for `ms` of wall clock: at most that much CPU time (less on a busy machine, where the
 * worker is not always scheduled).
 */
function spin(ms: number) {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
  return x;
}

Deno.serve(async (request) => {
  const url = new URL(request.url);
  const n = Number(url.searchParams.get('ms') ?? url.searchParams.get('mb') ?? 0);
  switch (url.pathname) {
    case '/limits/html':
      return new Response('<!doctype html><title>page</title><p>Hello</p>', {
        headers: { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'seen=1; Path=/' },
      });
    case '/limits/version':
      return Response.json({ deno: Deno.version.deno, worker, backgroundDone });
    case '/limits/spin':
      spin(n);
      return Response.json({ worker });
    case '/limits/sleep':
      await new Promise((resolve) => setTimeout(resolve, n));
      return Response.json({ worker });
    case '/limits/memory':
      for (let i = 0; i < n; i++) held.push(Array.from({ length: 1024 * 32 }, (_, j) => ({ i, j })));
      return Response.json({ worker, held: held.length });
    case '/limits/background':
      EdgeRuntime.waitUntil(
        new Promise((resolve) => setTimeout(resolve, n)).then(() => {
          backgroundDone++;
          console.log(`background work done after ${n} ms`);
        }),
      );
      return Response.json({ worker });
    default:
      return new Response('not found', { status: 404 });
  }
});

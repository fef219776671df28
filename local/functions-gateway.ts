// The local stand-in for Supabase's API gateway in front of edge functions: requests to
// /functions/v1/<name>/... reach the Deno process serving <name> with the path /<name>/..., exactly as
// the hosted gateway strips /functions/v1. Functions authenticate their callers themselves
// (verify_jwt = false in config.toml), so the gateway only routes.
//
// Plain node:http, streaming both ways over kept-alive connections: every wake-up from the database
// passes through here on the way from a booking to SALTO, and a fetch-based proxy cost about a
// millisecond of it.
import http from 'node:http';

const port = Number(process.env.GATEWAY_PORT);
const functionPorts = JSON.parse(process.env.FUNCTION_PORTS ?? '{}') as Record<string, number>;
const agent = new http.Agent({ keepAlive: true });
const PREFIX = '/functions/v1/';

function answer(response: http.ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://gateway');
  if (url.pathname === '/' && request.method === 'GET')
    return answer(response, 200, { functions: Object.keys(functionPorts) });
  if (!url.pathname.startsWith(PREFIX)) return answer(response, 404, { error: 'Not found' });
  const name = url.pathname.slice(PREFIX.length).split('/')[0]!;
  const target = functionPorts[name];
  if (!target) return answer(response, 404, { error: `No function named "${name}"` });

  const upstream = http.request(
    {
      host: '127.0.0.1',
      port: target,
      method: request.method,
      path: url.pathname.slice('/functions/v1'.length) + url.search,
      headers: { ...request.headers, host: `127.0.0.1:${target}` },
      agent,
    },
    (reply) => {
      response.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(response);
    },
  );
  upstream.on('error', () => {
    if (!response.headersSent) answer(response, 503, { error: `Function "${name}" is not answering` });
    else response.destroy();
  });
  request.pipe(upstream);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`functions gateway on http://127.0.0.1:${port}/functions/v1/<name>`);
});

// The local stand-in for Supabase's API gateway in front of edge functions: requests to
// /functions/v1/<name>/... reach the Deno process serving <name> with the path /<name>/..., exactly as
// the hosted gateway strips /functions/v1. Functions authenticate their callers themselves
// (verify_jwt = false in config.toml), so the gateway only routes.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { proxy } from 'hono/proxy';

const port = Number(process.env.GATEWAY_PORT);
const functionPorts = JSON.parse(process.env.FUNCTION_PORTS ?? '{}') as Record<string, number>;

const app = new Hono();

app.get('/', (c) => c.json({ functions: Object.keys(functionPorts) }));

app.all('/functions/v1/:name/*', (c) => forward(c.req.param('name'), c.req.raw));
app.all('/functions/v1/:name', (c) => forward(c.req.param('name'), c.req.raw));

function forward(name: string, request: Request) {
  const target = functionPorts[name];
  if (!target) {
    return Response.json({ error: `No function named "${name}"` }, { status: 404 });
  }
  const url = new URL(request.url);
  const path = url.pathname.slice('/functions/v1'.length);
  return proxy(`http://127.0.0.1:${target}${path}${url.search}`, {
    raw: request,
    headers: { ...Object.fromEntries(request.headers), host: `127.0.0.1:${target}` },
  }).catch(() => Response.json({ error: `Function "${name}" is not answering` }, { status: 503 }));
}

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => {
  console.log(`functions gateway on http://127.0.0.1:${port}/functions/v1/<name>`);
});

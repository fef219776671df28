// The local stack's host for the action page (action-page/): what a static host or the connecX portal
// does in production. Serves the folder's files as they are, and config.json from the stack's
// settings (ACTION_PAGE_CONFIG), with the headers a static host should send: no framing, no
// referrer, no caching of a page opened with a token. Loopback only.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const port = Number(process.env.ACTION_PAGE_PORT);
const config = process.env.ACTION_PAGE_CONFIG ?? '{}';
const folder = join(import.meta.dirname, '..', 'action-page');

const files: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/action-page.js': { file: 'action-page.js', type: 'text/javascript; charset=utf-8' },
  '/action-page.css': { file: 'action-page.css', type: 'text/css; charset=utf-8' },
};

const headers = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
};

const server = http.createServer((request, response) => {
  const path = new URL(request.url ?? '/', 'http://page').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, headers).end();
    return;
  }
  if (path === '/config.json') {
    response.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end(config);
    return;
  }
  const entry = files[path];
  if (!entry) {
    response.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('Not found');
    return;
  }
  // Read per request: an edited page shows at once.
  response.writeHead(200, { ...headers, 'Content-Type': entry.type }).end(readFileSync(join(folder, entry.file)));
});

server.listen(port, '127.0.0.1', () => {
  console.log(`action page on http://127.0.0.1:${port}/`);
});

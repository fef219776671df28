// pg_net's own test suite (pytest, vendored in standins/pg_net/upstream-tests/ from pg_net 0.19.5) run
// against the stand-in: a scratch cluster with the stand-ins, net-dispatcher.ts pointed at it, and the
// HTTP server pg_net's tests expect on localhost:8080 (theirs is nginx; this one answers the same
// paths). The tests that cannot apply to the stand-in are deselected, each with its reason, in
// upstream-tests/README.md (the list below is read from it). `npm test` runs this; alone:
// `npx tsx local/pg-net-upstream-tests.ts [pytest arguments]`.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { paths, repoRoot } from './config.ts';
import { ensurePgNetStandin, psql } from './postgres.ts';
import { withScratchCluster } from './scratch-cluster.ts';

const testsDir = join(paths.standinsDir, 'pg_net', 'upstream-tests');
const PORT = 8080;

/** The test ids README.md lists under "Deselected", as `file.py::test_name`. */
function deselected(): string[] {
  return [...readFileSync(join(testsDir, 'README.md'), 'utf8').matchAll(/^- `(test_\w+\.py::test_\w+)`/gm)].map(
    (m) => m[1]!,
  );
}

/** The answers of pg_net's nginx test server (nix/nginx/conf/custom.conf in pg_net's repository). */
function answer(req: IncomingMessage, res: ServerResponse, body: Buffer) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query = url.search.slice(1);
  const rawHeaders = () =>
    `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n${req.rawHeaders
      .map((v, i) => (i % 2 === 0 ? `${v}: ${req.rawHeaders[i + 1]}\r\n` : ''))
      .join('')}\r\n`;
  const text = (status: number, content: string, type = 'text/plain') => {
    res.writeHead(status, { 'Content-Type': type });
    res.end(content);
  };
  switch (url.pathname) {
    case '/echo-method':
      return text(200, `${req.method}\n`);
    case '/anything':
      return text(200, `${query ? `?${query}` : ''}\n`);
    case '/headers':
      return text(200, rawHeaders());
    case '/post':
      if (req.method !== 'POST') return text(405, '');
      if (req.headers['content-type'] !== 'application/json') return text(406, '');
      return text(200, `${body.toString('utf8')}\n`, 'application/json');
    case '/delete':
      if (req.method !== 'DELETE') return text(405, '');
      if (req.headers['content-type']) return text(400, '');
      return text(200, `${rawHeaders()}${query ? `?${query}` : ''}`);
    case '/delete_w_body':
      if (req.method !== 'DELETE') return text(405, '');
      return text(200, `${body.toString('utf8')}\n`);
    case '/redirect_me':
      res.writeHead(301, { Location: '/to_here' });
      return res.end();
    case '/to_here':
      return text(200, 'I got redirected\n');
    case '/pathological': {
      if (url.searchParams.get('disconnect') === 'true') return void req.socket.destroy();
      const status = Number(url.searchParams.get('status') ?? 200);
      const delay = Number(url.searchParams.get('delay') ?? 0) * 1000;
      setTimeout(() => text(status, 'pathological\n'), delay);
      return;
    }
    default:
      return text(200, 'Hello world\n');
  }
}

async function listen(host: string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORT, host, resolve);
  });
  return server;
}

export async function pgNetUpstreamTests(pytestArgs: string[] = ['.']): Promise<{ passed: number; failed: number }> {
  ensurePgNetStandin();
  return withScratchCluster('pg-net-upstream-tests', async (cluster) => {
    // As pg_net's test/init.sql: a database and a role that exist before the extension.
    psql({ command: 'create database pre_existing' }, cluster);
    psql({ command: 'create role pre_existing nosuperuser login' }, cluster);
    // The tests create pg_net at the default version of the extension files installed on this machine,
    // which another checkout's stack may have installed meanwhile: pin it to this checkout's version.
    const version = /default_version = '([^']+)'/.exec(
      readFileSync(join(paths.standinsDir, 'pg_net', 'pg_net.control'), 'utf8'),
    )![1];
    psql(
      {
        command: `create function public.pin_pg_net() returns event_trigger language plpgsql as $$
          begin
            if exists (select from pg_extension where extname = 'pg_net' and extversion <> '${version}') then
              alter extension pg_net update to '${version}';
            end if;
          end $$;
          create event trigger pin_pg_net on ddl_command_end when tag in ('CREATE EXTENSION')
            execute function public.pin_pg_net();`,
      },
      cluster,
    );
    const servers = [await listen('127.0.0.1'), await listen('::1')];
    // pg_net's second test server: IPv6 only, on 8888.
    const ipv6Only = createServer((_req, res) => res.end('Hello ipv6 only\n'));
    await new Promise<void>((resolve, reject) => {
      ipv6Only.once('error', reject);
      ipv6Only.listen({ port: 8888, host: '::1', ipv6Only: true }, resolve);
    });
    servers.push(ipv6Only);
    let dispatcher: ChildProcess | undefined;
    try {
      dispatcher = spawn(paths.bin('tsx'), [join(repoRoot, 'local', 'net-dispatcher.ts')], {
        cwd: repoRoot,
        env: { ...process.env, SUPABASE_DB_URL: cluster.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const log: string[] = [];
      dispatcher.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
      await new Promise<void>((resolve, reject) => {
        dispatcher!.stdout?.on('data', (d: Buffer) => d.toString().includes('net dispatcher:') && resolve());
        dispatcher!.once('exit', () => reject(new Error(`the dispatcher exited:\n${log.join('')}`)));
      });
      const { hostname, port, password } = new URL(cluster.url);
      // Debian's python3 (python3-pytest, python3-sqlalchemy, python3-psycopg2), not one on PATH; run
      // asynchronously, since the HTTP server it talks to answers from this process.
      const pytest = spawn(
        '/usr/bin/python3',
        [
          '-m',
          'pytest',
          '-q',
          '-p',
          'no:cacheprovider',
          ...deselected().flatMap((id) => ['--deselect', id]),
          ...pytestArgs,
        ],
        {
          cwd: testsDir,
          env: {
            ...process.env,
            PGHOST: hostname,
            PGPORT: port,
            PGUSER: 'postgres',
            PGPASSWORD: decodeURIComponent(password),
            PGDATABASE: 'postgres',
            PGSSLMODE: 'disable',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let stdout = '';
      pytest.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        process.stdout.write(d);
      });
      const status = await new Promise<number | null>((resolve) => pytest.once('exit', resolve));
      const result = { stdout, status };
      const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(result.stdout)?.[1] ?? 0);
      const failed = count('failed') + count('error');
      return { passed: count('passed'), failed: result.status !== 0 && failed === 0 ? 1 : failed };
    } finally {
      dispatcher?.kill();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const { passed, failed } = await pgNetUpstreamTests(args.length ? args : undefined);
  process.stdout.write(`pg_net's tests against the stand-in: ${passed} passed, ${failed} failed\n`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

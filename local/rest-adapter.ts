// The part of PostgREST the connecX app's calls use, for running the app's supabase-js code against
// the local stack (which has no PostgREST: see local/README.md, "Compared with `supabase start`").
// Not a PostgREST: it serves `/rest/v1/<table or view>` of the `public` schema for GET, POST, PATCH
// and DELETE with `select` (plain columns or *), the filters eq, neq, gt, gte, lt, lte, like, ilike,
// is and in, `order`, `limit`, `offset`, and `Prefer: return=representation|minimal`, and refuses
// everything else with a 400 that says so. What matters is that each request runs as PostgREST runs
// it: the JWT's signature and expiry are checked, then in one transaction the role named by its `role`
// claim is taken (`anon` without a JWT), that role's settings (statement_timeout) are applied, and
// `request.jwt.claims` holds the claims, so row-level security, `auth.uid()`, grants and triggers see
// exactly what they see behind hosted PostgREST. Rows come back as PostgreSQL renders them to JSON
// (json_agg, as PostgREST does), errors as PostgREST's `{ code, message, details, hint }` with its HTTP
// statuses. Used by tests/examples; loopback only.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sql } from 'postgres';

const API_ROLES = new Set(['anon', 'authenticated', 'service_role']);
const OPERATORS: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict']);
const MAX_BODY = 1024 * 1024;

class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
  ) {
    super(message);
  }
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** An HS256 JWT, as the Auth server issues for a signed-in user (and as the API keys are). */
export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const body = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

function verifyJwt(token: string, secret: string): Record<string, unknown> {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) throw new RestError(401, 'PGRST301', 'Expected 3 parts in JWT; got fewer');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new RestError(401, 'PGRST301', 'JWSError JWSInvalidSignature');
  }
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
    throw new RestError(401, 'PGRST303', 'JWT expired');
  }
  return claims;
}

const ident = (name: string) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new RestError(400, 'PGRST100', `"${name}" is not a column or relation name the local adapter accepts`);
  }
  return `"${name}"`;
};

/** PostgREST's mapping of SQLSTATE to HTTP status. */
function httpStatus(code: string, role: string): number {
  if (code === '42501') return role === 'anon' ? 401 : 403;
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  if (code === '42883' || code === '42P01') return 404;
  if (code === 'P0001') return 400;
  if (/^(08|53)/.test(code)) return 503;
  if (/^(0L|0P|28)/.test(code)) return 403;
  if (/^(09|25|2D|38|39|3B|40|54|55|57|58|F0|HV|P0|XX)/.test(code) || code === '42P17') return 500;
  return 400;
}

interface Request {
  method: string;
  relation: string;
  params: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

function selectList(select: string | null): string {
  if (!select || select === '*') return '*';
  return select
    .split(',')
    .map((item) => {
      if (/[()!]/.test(item)) {
        throw new RestError(400, 'PGRST100', 'The local adapter does not embed other tables: select plain columns');
      }
      const [alias, column] = item.includes(':') ? item.split(':') : [undefined, item];
      return alias ? `${ident(column!)} as ${ident(alias)}` : ident(column!);
    })
    .join(', ');
}

function whereClause(params: URLSearchParams, types: Map<string, string>, values: unknown[]): string {
  const conditions: string[] = [];
  for (const [column, filter] of params) {
    if (RESERVED.has(column)) continue;
    const type = types.get(column);
    if (!type) throw new RestError(400, '42703', `column ${column} does not exist`);
    const [, negate, op, operand] = /^(not\.)?([a-z]+)\.(.*)$/s.exec(filter) ?? [];
    if (!op || operand === undefined) throw new RestError(400, 'PGRST100', `"${filter}" is not a filter`);
    let condition: string;
    if (op in OPERATORS) {
      values.push(operand);
      condition = `${ident(column)} ${OPERATORS[op]} $${values.length}::text::${type}`;
    } else if (op === 'like' || op === 'ilike') {
      values.push(operand.replaceAll('*', '%'));
      condition = `${ident(column)}::text ${op} $${values.length}`;
    } else if (op === 'is' && ['null', 'true', 'false', 'unknown'].includes(operand)) {
      condition = `${ident(column)} is ${operand}`;
    } else if (op === 'in' && /^\(.*\)$/s.test(operand)) {
      values.push(
        operand
          .slice(1, -1)
          .split(',')
          .map((v) => v.replace(/^"(.*)"$/s, '$1')),
      );
      condition = `${ident(column)} = any($${values.length}::text[]::${type}[])`;
    } else {
      throw new RestError(400, 'PGRST100', `The local adapter does not support the filter "${op}"`);
    }
    conditions.push(negate ? `not (${condition})` : condition);
  }
  return conditions.length > 0 ? ` where ${conditions.join(' and ')}` : '';
}

function orderAndRange(params: URLSearchParams, values: unknown[]): string {
  let tail = '';
  const order = params.get('order');
  if (order) {
    tail += ` order by ${order
      .split(',')
      .map((term) => {
        const [column, ...flags] = term.split('.');
        const words = flags.map((flag) => {
          const word = { asc: 'asc', desc: 'desc', nullsfirst: 'nulls first', nullslast: 'nulls last' }[flag];
          if (!word) throw new RestError(400, 'PGRST100', `"${flag}" is not an order`);
          return word;
        });
        return [ident(column!), ...words].join(' ');
      })
      .join(', ')}`;
  }
  for (const key of ['limit', 'offset'] as const) {
    const value = params.get(key);
    if (value === null) continue;
    if (!/^\d+$/.test(value)) throw new RestError(400, 'PGRST100', `"${value}" is not a ${key}`);
    values.push(Number(value));
    tail += ` ${key} $${values.length}`;
  }
  return tail;
}

async function execute(tx: Sql, request: Request): Promise<{ status: number; rows: unknown[] | null }> {
  const { method, params } = request;
  const columns = await tx<{ name: string; type: string }[]>`
    select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type
    from pg_catalog.pg_attribute as a
    where a.attrelid = to_regclass(${`public.${ident(request.relation)}`}) and a.attnum > 0 and not a.attisdropped`;
  if (columns.length === 0) {
    throw new RestError(404, '42P01', `relation "public.${request.relation}" does not exist`);
  }
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const relation = `public.${ident(request.relation)}`;
  const values: unknown[] = [];
  const prefer = String(request.headers.prefer ?? '');
  const returning = method === 'GET' || /return=representation/.test(prefer);
  const select = selectList(params.get('select'));

  let statement: string;
  if (method === 'GET') {
    statement = `select ${select} from ${relation}${whereClause(params, types, values)}${orderAndRange(params, values)}`;
  } else if (method === 'POST' || method === 'PATCH') {
    const rows = Array.isArray(request.body) ? request.body : [request.body];
    if (rows.length === 0 || rows.some((row) => typeof row !== 'object' || row === null || Array.isArray(row))) {
      throw new RestError(400, 'PGRST102', 'The body must be a JSON object or an array of objects');
    }
    const keys = (params.get('columns')?.split(',') ?? Object.keys(rows[0] as object)).map((key) => {
      if (!types.has(key))
        throw new RestError(400, 'PGRST204', `Could not find the '${key}' column of '${request.relation}'`);
      return ident(key);
    });
    values.push(method === 'POST' ? rows : rows[0]); // postgres.js sends a json parameter as JSON
    const body = `$${values.length}::json`;
    if (method === 'POST') {
      if (params.has('on_conflict') || /resolution=/.test(prefer)) {
        throw new RestError(400, 'PGRST100', 'The local adapter does not upsert');
      }
      statement = `insert into ${relation} (${keys.join(', ')}) select ${keys.join(', ')} from pg_catalog.json_populate_recordset(null::${relation}, ${body})`;
    } else {
      if (rows.length !== 1) throw new RestError(400, 'PGRST102', 'PATCH takes one JSON object');
      statement = `update ${relation} set (${keys.join(', ')}) = (select ${keys.join(', ')} from pg_catalog.json_populate_record(null::${relation}, ${body}))${whereClause(params, types, values)}`;
    }
    statement += ' returning *';
  } else if (method === 'DELETE') {
    statement = `delete from ${relation}${whereClause(params, types, values)} returning *`;
  } else {
    throw new RestError(405, 'PGRST117', `The local adapter does not serve ${method}`);
  }
  const query =
    method === 'GET'
      ? `select coalesce(pg_catalog.json_agg(t), '[]') as rows from (${statement}) as t`
      : `with source as (${statement}) select coalesce(pg_catalog.json_agg(t), '[]') as rows from (select ${select} from source) as t`;
  const [result] = await tx.unsafe<{ rows: unknown[] }[]>(query, values as never[]);
  const rows = result!.rows;
  const status = method === 'POST' ? 201 : returning ? 200 : 204;
  return { status, rows: returning ? rows : null };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new RestError(413, 'PGRST413', 'The body is too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RestError(400, 'PGRST102', 'The body is not valid JSON');
  }
}

/** Handles one HTTP request as PostgREST would (see the top of this file). */
async function handle(sql: Sql, jwtSecret: string, req: IncomingMessage, res: ServerResponse) {
  let role = 'anon';
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const relation = /^\/rest\/v1\/([^/]+)$/.exec(url.pathname)?.[1];
    if (!relation) throw new RestError(404, 'PGRST125', `No route ${url.pathname}`);
    const profile = req.headers['accept-profile'] ?? req.headers['content-profile'];
    if (profile && profile !== 'public') throw new RestError(406, 'PGRST106', 'Only the public schema is served');

    const bearer = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const claims = bearer ? verifyJwt(bearer, jwtSecret) : { role: 'anon' };
    role = String(claims.role ?? 'anon');
    if (!API_ROLES.has(role)) throw new RestError(401, 'PGRST301', `role "${role}" is not an API role`);

    const body = await readBody(req);
    const single = String(req.headers.accept ?? '').includes('application/vnd.pgrst.object+json');
    const { status, rows } = await sql.begin(async (tx) => {
      // The role's own settings (statement_timeout), which a connection switching roles does not get.
      await tx`
        select set_config(split_part(s.setting, '=', 1), substr(s.setting, strpos(s.setting, '=') + 1), true)
        from pg_catalog.pg_db_role_setting as d
        cross join unnest(d.setconfig) as s(setting)
        where d.setrole = ${role}::regrole
          and d.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_database()))`;
      await tx`
        select set_config('role', ${role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
          set_config('request.method', ${req.method ?? 'GET'}, true), set_config('request.path', ${url.pathname}, true)`;
      const outcome = await execute(tx as unknown as Sql, {
        method: req.method ?? 'GET',
        relation,
        params: url.searchParams,
        headers: req.headers,
        body,
      });
      if (single && outcome.rows && outcome.rows.length !== 1) {
        // PostgREST rolls the change back when the object the client asked for is not exactly one row.
        throw new RestError(
          406,
          'PGRST116',
          'JSON object requested, multiple (or no) rows returned',
          `The result contains ${outcome.rows.length} rows`,
        );
      }
      return outcome;
    });
    if (rows === null) {
      res.writeHead(status).end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(single ? rows[0] : rows));
  } catch (error) {
    const e = error as { code?: string; message: string; detail?: string; hint?: string };
    const failure =
      error instanceof RestError
        ? error
        : typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)
          ? new RestError(httpStatus(e.code, role), e.code, e.message, e.detail ?? null, e.hint ?? null)
          : new RestError(500, 'PGRST000', e.message);
    res.writeHead(failure.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(
      JSON.stringify({ code: failure.code, message: failure.message, details: failure.details, hint: failure.hint }),
    );
  }
}

/** Serves /rest/v1 on a loopback port the OS picks; requests' JWTs must be signed with `jwtSecret`. */
export async function startRestAdapter(sql: Sql, jwtSecret: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => void handle(sql, jwtSecret, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

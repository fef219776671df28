-- Local stand-in for pg_net (https://github.com/supabase/pg_net), with its SQL signatures and semantics:
-- * net.http_post/http_get/http_delete only insert into net.http_request_queue and return the id;
--   nothing is sent before the transaction commits, and a rollback sends nothing.
-- * local/net-dispatcher.ts (a process the local stack runs in place of pg_net's background worker)
--   takes committed rows off the queue, sends them, and writes the outcome to net._http_response.
-- * No retries and unlogged tables, exactly like pg_net: it is a best-effort wake-up, not a record of work.
-- (Version local: the NOTIFY below woke the dispatcher at commit; version local-2 polls instead.)

create schema if not exists net;

create unlogged table net.http_request_queue (
  id bigserial not null,
  method text not null,
  url text not null,
  headers jsonb not null,
  body bytea,
  timeout_milliseconds integer not null
);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
create index _http_response_created_idx on net._http_response (created);

-- Percent-encodes a query-string component (RFC 3986 unreserved characters kept).
create function net._urlencode(value text) returns text
language sql immutable
as $$
  select coalesce(string_agg(
    case when b < 128 and chr(b) ~ '^[A-Za-z0-9._~-]$' then chr(b)
         else '%' || upper(lpad(to_hex(b), 2, '0')) end, '' order by i), '')
  from (select convert_to(value, 'utf8') as bytes) as s,
       lateral (select i, get_byte(s.bytes, i) as b from generate_series(0, length(s.bytes) - 1) as i) as x
$$;

-- Appends url-encoded params to the url, as pg_net does.
create function net._url_with_params(url text, params jsonb) returns text
language sql immutable
as $$
  select case
    when params is null or params = '{}'::jsonb then url
    else url || case when strpos(url, '?') > 0 then '&' else '?' end || (
      select string_agg(net._urlencode(key) || '=' || net._urlencode(value), '&' order by key)
      from jsonb_each_text(params))
  end
$$;

create function net._enqueue(method text, url text, params jsonb, headers jsonb, body bytea,
  timeout_milliseconds integer) returns bigint
language plpgsql
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, net._url_with_params(url, params), coalesce(headers, '{}'::jsonb), body, timeout_milliseconds)
  returning id into request_id;
  perform pg_notify('pg_net_local', request_id::text);
  return request_id;
end
$$;

create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql
as $$
declare
  content_type text;
begin
  -- pg_net refuses what it cannot send as JSON; so does the stand-in.
  select value into content_type from jsonb_each_text(headers) where lower(key) = 'content-type';
  if content_type is null or content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;
  if body is null then
    raise exception 'body must not be null';
  end if;
  return net._enqueue('POST', url, params, headers, convert_to(body::text, 'utf8'), timeout_milliseconds);
end
$$;

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql
as $$ select net._enqueue('GET', url, params, headers, null, timeout_milliseconds) $$;

create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql
as $$ select net._enqueue('DELETE', url, params, headers, null, timeout_milliseconds) $$;

-- pg_net's worker is woken on demand; so is the dispatcher.
create function net.wake() returns void
language sql
as $$ select pg_notify('pg_net_local', '') $$;

grant usage on schema net to postgres, service_role;
grant all on all tables in schema net to postgres, service_role;
grant all on all sequences in schema net to postgres, service_role;
grant execute on all functions in schema net to postgres, service_role;

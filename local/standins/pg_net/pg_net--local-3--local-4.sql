-- pg_net stand-in, version local-4: woken as pg_net 0.19.5's worker is.
-- pg_net keeps one flag in shared memory, "should wake". A transaction that queued a request flips it
-- at commit and wakes the worker only if it was down; the worker lowers it each time it goes back to
-- its queue after having emptied it. A NOTIFY stands in for the wake-up (a latch in pg_net), and
-- net._worker_state.awaiting_wake mirrors the flag being down, so that only the transaction that
-- flips it notifies: a NOTIFY from every request would make committing transactions queue for one
-- database-wide lock, which pg_net does not (versions local to local-3 say more).
-- The decision is taken at commit (a deferred trigger), as pg_net's commit callback takes it: a
-- transaction that looked at the flag earlier could commit just after the worker had lowered it and
-- leave its request unsent. Direct inserts into the queue wake nothing, as in pg_net.

-- net._dispatcher_progress (version local-3) is no longer written; kept, so that a dispatcher of
-- version local-3 still runs against this version (several checkouts on one machine share the
-- extension's files).

-- The worker's "should wake" flag, as the transactions see it: true while it is down (the worker
-- waits for a commit to wake it); written only by local/net-dispatcher.ts. True at first, so that the
-- first commit after the extension is created wakes the worker whatever it last saw.
create unlogged table net._worker_state (
  id boolean primary key default true check (id),
  awaiting_wake boolean not null default true,
  -- False from net.worker_restart() until the restarted worker runs (net.wait_until_running()).
  running boolean not null default true
);
insert into net._worker_state default values;

-- At commit of a transaction that queued requests through net.http_*: wake the worker if its flag is down.
-- Security definer: a deferred trigger runs as whoever commits (a resident's role, say, after a
-- security definer function queued the request), who need not see the net schema.
create function net._wake_at_commit() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if (select s.awaiting_wake from net._worker_state as s) then
    perform pg_catalog.pg_notify('pg_net_local', '');
  end if;
  return null;
end
$$;

-- Fires once per transaction: for the first request it queues (see net._enqueue), at commit.
create constraint trigger wake_at_commit
after insert on net.http_request_queue
deferrable initially deferred
for each row
when (current_setting('pg_net_local.wake', true) = 'pending')
execute function net._wake_at_commit();

create or replace function net._enqueue(method text, url text, params jsonb, headers jsonb, body bytea,
  timeout_milliseconds integer) returns bigint
language plpgsql
as $$
declare
  request_id bigint;
  first_in_transaction boolean := current_setting('pg_net_local.wake', true) is distinct from 'queued';
begin
  if first_in_transaction then
    perform set_config('pg_net_local.wake', 'pending', true);
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, net._url_with_params(url, params), coalesce(headers, '{}'::jsonb), body, timeout_milliseconds)
  returning id into request_id;
  if first_in_transaction then
    perform set_config('pg_net_local.wake', 'queued', true);
  end if;
  return request_id;
end
$$;

-- pg_net's net.wake(): wakes the worker at commit (rarely called; a NOTIFY is delivered only at commit).
create or replace function net.wake() returns void
language sql
as $$ select pg_notify('pg_net_local', '') $$;

grant all on net._worker_state to postgres, service_role;

-- The rest of pg_net's SQL interface, so that pg_net's own tests run against the stand-in
-- (local/standins/pg_net/upstream-tests/): collecting a response, its types, and the worker's controls.

create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');
create type net.http_response as (status_code integer, headers jsonb, body text);
create type net.http_response_result as (status net.request_status, message text, response net.http_response);

-- Waits until the response to request_id is recorded (looking every 50 ms, as pg_net does).
create function net._await_response(request_id bigint) returns boolean
language plpgsql
as $$
begin
  while not exists (select from net._http_response as r where r.id = request_id) loop
    perform pg_sleep(0.05);
  end loop;
  return true;
end
$$;

-- pg_net's: SUCCESS with the response, or ERROR with the error message (also while still pending).
create function net._http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result
language plpgsql
as $$
declare
  rec net._http_response;
begin
  if not async then
    perform net._await_response(request_id);
  end if;
  select * into rec from net._http_response as r where r.id = request_id;
  if rec is null or rec.error_msg is not null then
    return ('ERROR', coalesce(rec.error_msg, 'request matching request_id not found'), null)::net.http_response_result;
  end if;
  return ('SUCCESS', 'ok', (rec.status_code, rec.headers, rec.content)::net.http_response)::net.http_response_result;
end
$$;

create function net.http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result
language plpgsql
as $$
begin
  raise notice 'The net.http_collect_response function is deprecated.';
  return net._http_collect_response(request_id, async);
end
$$;

create function net._urlencode_string(string varchar) returns text
language sql immutable strict
as $$ select net._urlencode(string) $$;

-- The url with already encoded "key=value" parameters appended, as pg_net does.
create function net._encode_url_with_params_array(url text, params_array text[]) returns text
language sql immutable strict
as $$
  select case when coalesce(cardinality(params_array), 0) = 0 then url
    else url || case when strpos(url, '?') > 0 then '&' else '?' end || array_to_string(params_array, '&') end
$$;

-- The worker is local/net-dispatcher.ts, connected with this application_name.
create function net.check_worker_is_up() returns void
language plpgsql
as $$
begin
  if not exists (select from pg_stat_activity where application_name = 'pg_net worker (local stand-in)') then
    raise exception using
      message = 'the pg_net background worker is not up',
      detail = 'the pg_net background worker is down due to an internal error and cannot process requests',
      hint = 'make sure that you didn''t modify any of pg_net internal tables';
  end if;
end
$$;

create function net.wait_until_running() returns void
language plpgsql
as $$
begin
  while not exists (select from pg_stat_activity where application_name = 'pg_net worker (local stand-in)')
    or not (select s.running from net._worker_state as s) loop
    perform pg_sleep(0.01);
  end loop;
end
$$;

-- pg_net reloads the configuration and restarts its worker at once, inside a transaction or not:
-- after its current batch the worker exits, and PostgreSQL starts it again 1 s later with its flag
-- up. The stand-in's signal is as immediate: its worker's connection listening for it is ended, and
-- the dispatcher restarts its loop when that connection comes back (it reads pg_net.ttl and
-- pg_net.batch_size at every batch).
create function net.worker_restart() returns boolean
language plpgsql
as $$
begin
  perform pg_terminate_backend(a.pid) from pg_stat_activity as a
  where a.application_name = 'pg_net worker (local stand-in)' and a.query = 'listen "pg_net_local_restart"';
  return pg_reload_conf();
end
$$;

-- As pg_net 0.19.5: a POST without a Content-Type header gets "application/json" added, and a null
-- body is sent as no body; any other Content-Type is refused.
create or replace function net.http_post(
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
  select value into content_type from jsonb_each_text(coalesce(headers, '{}'::jsonb)) where lower(key) = 'content-type' limit 1;
  if content_type is null then
    headers := coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;
  return net._enqueue('POST', url, params, headers, convert_to(body::text, 'utf8'), timeout_milliseconds);
end
$$;

-- As pg_net 0.19.5: DELETE may carry a body.
drop function net.http_delete(text, jsonb, jsonb, integer);
create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000,
  body jsonb default null
) returns bigint
language sql
as $$ select net._enqueue('DELETE', url, params, headers, convert_to(body::text, 'utf8'), timeout_milliseconds) $$;

grant execute on all functions in schema net to postgres, service_role;

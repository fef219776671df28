-- pg_net stand-in, version local-5: net.worker_restart() is seen by net.wait_until_running() at once.
-- pg_net's worker exits microseconds after net.worker_restart(), so net.wait_until_running() sent in a
-- later statement finds it exited and waits for the restarted worker; sent in the same statement
-- batch, right after it, it usually does not. The stand-in's worker (local/net-dispatcher.ts) learns
-- of the restart only once the ended connection's close reaches it, often after the client's next
-- statement (decision 0037). So the request itself is recorded, and the wait also waits until the
-- worker has exited for every restart asked for in an earlier statement.
--
-- pg_net's restart is not transactional (a rolled-back transaction still restarted the worker), so
-- the request is a sequence's value (setval is not rolled back): the statement time, in microseconds
-- since 1970, of the latest net.worker_restart().
create sequence net._worker_restart_asked minvalue 0 start 0;

-- The latest restart request the worker has acted on (the sequence's value when it exited or started
-- again); written by the trigger below whenever the worker's running changes, so that a dispatcher of
-- version local-4 (which writes only running) also acknowledges.
alter table net._worker_state add column restart_seen bigint not null default 0;
-- How many times the worker has started again: net.wait_until_running() returns once it has, even if
-- the worker is down again by the time the wait looks (it exits after one batch when a restart was
-- asked for while it was down), as pg_net's waiters are woken by the worker's start.
alter table net._worker_state add column starts bigint not null default 0;

create function net._acknowledge_restart() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.running is distinct from old.running then
    new.restart_seen := greatest(new.restart_seen, (select s.last_value from net._worker_restart_asked as s));
  end if;
  if new.running and not old.running then
    new.starts := old.starts + 1;
  end if;
  return new;
end
$$;

create trigger acknowledge_restart
before update on net._worker_state
for each row
execute function net._acknowledge_restart();

-- Waits until the worker is connected and running, and has exited for every restart asked for before
-- this statement (a restart asked for in this statement's batch only if the worker has already said
-- so, as pg_net's usually has not); or until the worker has started since the wait began.
-- pg_stat_clear_snapshot(): pg_stat_activity is otherwise read once per transaction.
create or replace function net.wait_until_running() returns void
language plpgsql
as $$
declare
  this_statement constant bigint := (extract(epoch from statement_timestamp()) * 1000000)::bigint;
  starts_before bigint;
  starts_now bigint;
  ready boolean;
begin
  loop
    perform pg_stat_clear_snapshot();
    select w.starts, w.running and (a.last_value >= this_statement or w.restart_seen >= a.last_value)
    into starts_now, ready
    from net._worker_state as w, net._worker_restart_asked as a;
    starts_before := coalesce(starts_before, starts_now);
    exit when exists (select from pg_stat_activity where application_name = 'pg_net worker (local stand-in)')
      and (ready or starts_now > starts_before);
    perform pg_sleep(0.01);
  end loop;
end
$$;

-- pg_net reloads the configuration and restarts its worker at once, inside a transaction or not:
-- after its current batch the worker exits, and PostgreSQL starts it again 1 s later with its flag
-- up. The stand-in records the request (above) and ends its worker's connection listening for it;
-- the dispatcher restarts its loop when that connection closes (it reads pg_net.ttl and
-- pg_net.batch_size at every batch).
create or replace function net.worker_restart() returns boolean
language plpgsql
as $$
begin
  perform pg_catalog.setval('net._worker_restart_asked', greatest(s.last_value,
    (extract(epoch from statement_timestamp()) * 1000000)::bigint)) from net._worker_restart_asked as s;
  perform pg_terminate_backend(a.pid) from pg_stat_activity as a
  where a.application_name = 'pg_net worker (local stand-in)' and a.query = 'listen "pg_net_local_restart"';
  return pg_reload_conf();
end
$$;

grant select, update on net._worker_restart_asked to postgres, service_role;
grant execute on function net._acknowledge_restart() to postgres, service_role;

-- pg_net parses a request's URL with libcurl's URL parser when the request is queued
-- (net._encode_url_with_params_array: curl_url_set without a default scheme) and raises libcurl's
-- error text, so a URL libcurl refuses fails the statement that queues it, not the request later.
-- pg_net prints the parser's code through curl_easy_strerror, so an unknown scheme ("localhost:8888")
-- reads "Couldn't resolve proxy name". The stand-in refuses what libcurl refuses for an HTTP request:
-- no scheme, a scheme other than http or https, no host, or white space.
create or replace function net._url_with_params(url text, params jsonb) returns text
language plpgsql immutable
as $$
begin
  if url ~ '^[A-Za-z][A-Za-z0-9+.-]*:' and url !~* '^https?:' then
    raise exception 'Couldn''t resolve proxy name';
  end if;
  if url !~* '^https?://[^/?#[:space:]]' or url ~ '[[:space:]]' then
    raise exception 'URL using bad/illegal format or missing URL';
  end if;
  if params is null or params = '{}'::jsonb then
    return url;
  end if;
  return url || case when strpos(url, '?') > 0 then '&' else '?' end || (
    select string_agg(net._urlencode(key) || '=' || net._urlencode(value), '&' order by key)
    from jsonb_each_text(params));
end
$$;

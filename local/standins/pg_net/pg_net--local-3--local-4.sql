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

drop table net._dispatcher_progress;

-- The worker's "should wake" flag, as the transactions see it: true while it is down (the worker
-- waits for a commit to wake it); written only by local/net-dispatcher.ts. True at first, so that the
-- first commit after the extension is created wakes the worker whatever it last saw.
create unlogged table net._worker_state (
  id boolean primary key default true check (id),
  awaiting_wake boolean not null default true
);
insert into net._worker_state default values;

-- At commit of a transaction that queued requests through net.http_*: wake the worker if its flag is down.
create function net._wake_at_commit() returns trigger
language plpgsql
as $$
begin
  if (select s.awaiting_wake from net._worker_state as s) then
    perform pg_notify('pg_net_local', '');
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

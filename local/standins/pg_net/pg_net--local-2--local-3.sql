-- pg_net stand-in, version local-3: the first request queued after the dispatcher's last pass wakes it
-- at commit (NOTIFY), like pg_net's worker is woken through its latch; requests queued behind it are
-- taken by the pass that wakes, or by the dispatcher's poll.
-- Why not every request: a NOTIFY holds a database-wide lock from commit until the transaction ends,
-- so transactions that notify commit one after another (version local notified for every request and
-- made booking writes several times slower than hosted). And why not "when the queue is empty": a
-- look at the queue scans its dead rows, which under load cost more than the booking itself.

-- The highest request id the dispatcher has taken off the queue (one row, written by the dispatcher).
create unlogged table net._dispatcher_progress (
  id boolean primary key default true check (id),
  last_taken bigint not null default 0
);
insert into net._dispatcher_progress default values;

create or replace function net._enqueue(method text, url text, params jsonb, headers jsonb, body bytea,
  timeout_milliseconds integer) returns bigint
language plpgsql
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, net._url_with_params(url, params), coalesce(headers, '{}'::jsonb), body, timeout_milliseconds)
  returning id into request_id;
  -- Next in line after the last pass (or left behind by a transaction that committed late).
  if request_id <= (select p.last_taken from net._dispatcher_progress as p) + 1 then
    perform pg_notify('pg_net_local', '');
  end if;
  return request_id;
end
$$;

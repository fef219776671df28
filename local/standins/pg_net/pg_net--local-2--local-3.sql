-- pg_net stand-in, version local-3: a request queued into an empty queue wakes the dispatcher at
-- commit (NOTIFY), like pg_net's worker is woken through its latch; others are found by the
-- dispatcher's poll, or by the pass it is already making.
-- Why only then: a NOTIFY holds a database-wide lock from commit until the transaction ends, so
-- transactions that notify commit one after another (local-1 notified for every request and made
-- booking writes several times slower than hosted). A queue that already holds a request has a
-- dispatcher on its way: at most the poll interval later (10 ms), it takes this one too.

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
  if not exists (select from net.http_request_queue as q where q.id <> request_id) then
    perform pg_notify('pg_net_local', '');
  end if;
  return request_id;
end
$$;

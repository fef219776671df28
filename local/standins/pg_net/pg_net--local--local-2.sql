-- pg_net stand-in, version local-2: nothing in the request path NOTIFYs any more.
-- Why: a NOTIFY takes a database-wide lock held through commit, so every booking transaction that
-- queued a wake-up committed one after another (its WAL flush included). pg_net has no such lock (its
-- worker is woken through a latch), so the stand-in made local booking writes several times slower
-- than hosted. The dispatcher now polls the queue every few milliseconds instead; net.wake() still
-- notifies, for callers that want the worker now.

create or replace function net._url_with_params(url text, params jsonb) returns text
language plpgsql immutable
as $$
begin
  if params is null or params = '{}'::jsonb then
    return url;
  end if;
  return url || case when strpos(url, '?') > 0 then '&' else '?' end || (
    select string_agg(net._urlencode(key) || '=' || net._urlencode(value), '&' order by key)
    from jsonb_each_text(params));
end
$$;

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
  return request_id;
end
$$;

/*
 * Calls from the database to the edge functions, and the pg_cron jobs.
 *
 * The function secret never travels. Every call carries a token bound to one function and method:
 *
 *   Authorization: Bearer v2.<unix seconds>.<nonce>.<hex HMAC-SHA256(secret, "<unix seconds>.<nonce>.<METHOD>.<function>")>
 *
 * and the functions (src/shared/functions/auth.ts) refuse a signature that is wrong for their own name
 * and the request's method, a timestamp more than five minutes off, and a nonce they have seen before:
 * they remember accepted nonces in integration.used_request_nonces until the token would be refused as
 * expired anyway. One request seen in a proxy log or a pg_net response row can therefore neither be
 * replayed nor sent to another function.
 */
-- Nonces of accepted request tokens. Written by the functions through their direct database
-- connection; the primary key makes the second use of a nonce (even a concurrent one) lose.
create table integration.used_request_nonces (
  nonce text primary key,
  expires_at timestamptz not null
);
comment on table integration.used_request_nonces is
  'Nonces of function request tokens already accepted (replays are refused); purged once expired by '
  'integration.tick().';
grant select, insert, delete on table integration.used_request_nonces to service_role;
alter table integration.used_request_nonces enable row level security;
create index used_request_nonces_expires_at_idx on integration.used_request_nonces (expires_at);

-- The Authorization header value for one call to the function p_function with the HTTP method
-- p_method, or null without the Vault secret. Real time (clock_timestamp), never integration.now(): the
-- functions check it against their clock.
create function integration.function_authorization(p_function text, p_method text default 'POST')
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  functions_secret text;
  seconds text;
  nonce text;
  method text := pg_catalog.upper(p_method);
begin
  if p_function is null or p_function !~ '^[a-z0-9][a-z0-9_-]*$' then
    raise exception 'Not an edge function name: %', coalesce(p_function, 'null')
      using hint = 'Name the function as its folder in supabase/functions is named: salto-sync, salto-cleanup, send-alerts or health.';
  end if;
  if method is null or method !~ '^[A-Z]+$' then
    raise exception 'Not an HTTP method: %', coalesce(p_method, 'null')
      using hint = 'Name the method the call will use: POST (what pg_net sends) or GET.';
  end if;
  select s.decrypted_secret into functions_secret from vault.decrypted_secrets as s where s.name = 'functions_secret';
  if functions_secret is null then
    return null;
  end if;
  seconds := pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()))::bigint::text;
  nonce := pg_catalog.gen_random_uuid()::text;
  return 'Bearer v2.' || seconds || '.' || nonce || '.'
    || pg_catalog.encode(
      extensions.hmac(seconds || '.' || nonce || '.' || method || '.' || p_function, functions_secret, 'sha256'),
      'hex'
    );
end;
$$;
comment on function integration.function_authorization(text, text) is
  'A fresh, single-use request token for one call of the edge function p_function with the method '
  'p_method (POST unless said): "Bearer v2.<unix seconds>.<nonce>.<HMAC-SHA256 hex of '
  '"<seconds>.<nonce>.<METHOD>.<function>">", signed with the Vault secret functions_secret. No other '
  'function or method accepts it.';
revoke execute on function integration.function_authorization(text, text) from public;
grant execute on function integration.function_authorization(text, text) to service_role;

/*
 * One way for the database to call this project's edge functions: the wake-ups (salto-sync after a
 * booking change, salto-cleanup after a local midnight, send-alerts after an alert) say only which
 * function, why and how often; integration.call_function reads the project URL, mints the token and
 * queues the pg_net request.
 */
-- Queues a POST to <Vault project_url>/functions/v1/<p_function> with a fresh single-use token for
-- POST <p_function>; pg_net sends it after commit. Returns pg_net's request id, or null when the Vault
-- secrets are not set or project_url is not an http(s) URL (then nothing is sent, with a warning, and
-- the minute jobs are the only wake-ups): pg_net refuses a URL its parser refuses when the request is
-- queued, and a wake-up must never fail the booking's transaction that asks for it.
create function integration.call_function(p_function text, p_body jsonb)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  project_url text;
  authorization_header text;
begin
  select s.decrypted_secret into project_url from vault.decrypted_secrets as s where s.name = 'project_url';
  authorization_header := integration.function_authorization(p_function, 'POST');
  if project_url is null or authorization_header is null then
    return null;
  end if;
  if project_url !~* '^https?://[^/?#[:space:]]' or project_url ~ '[[:space:]]' then
    raise warning 'Vault secret project_url is not an http(s) URL: no call to % was queued', p_function;
    return null;
  end if;
  return net.http_post(
    -- The project URL as set, with or without a trailing slash.
    url => pg_catalog.rtrim(project_url, '/') || '/functions/v1/' || p_function,
    body => p_body,
    headers => pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'Authorization', authorization_header),
    timeout_milliseconds => 5000
  );
end;
$$;
comment on function integration.call_function(text, jsonb) is
  'Asks pg_net to POST to one of this project''s edge functions after commit, with a fresh '
  'single-use token (Vault secrets project_url and functions_secret). A wake-up only: pg_net never '
  'retries.';
revoke execute on function integration.call_function(text, jsonb) from public;
grant execute on function integration.call_function(text, jsonb) to service_role;

create function integration.wake_sync()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Once per transaction, however many bookings it changed.
  if pg_catalog.current_setting('integration.sync_woken', true) = 'yes' then
    return;
  end if;
  perform pg_catalog.set_config('integration.sync_woken', 'yes', true);
  perform integration.call_function('salto-sync', '{"reason": "changed"}');
end;
$$;
comment on function integration.wake_sync() is
  'Asks pg_net to call the salto-sync function after commit (once per transaction). A wake-up only: '
  'access level work is the record of work.';
revoke execute on function integration.wake_sync() from public;
grant execute on function integration.wake_sync() to service_role;

create function integration.wake_send_alerts()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Once per transaction, however many alerts it raised.
  if pg_catalog.current_setting('integration.send_alerts_woken', true) = 'yes' then
    return;
  end if;
  perform pg_catalog.set_config('integration.send_alerts_woken', 'yes', true);
  perform integration.call_function('send-alerts', '{"reason": "alert"}');
end;
$$;
comment on function integration.wake_send_alerts() is
  'Asks pg_net to call the send-alerts function after commit (once per transaction). A wake-up '
  'only: the outbox is the record of work.';
revoke execute on function integration.wake_send_alerts() from public;
grant execute on function integration.wake_send_alerts() to service_role;

-- Calls salto-cleanup once per due building, for that building only, keeping at most p_in_flight
-- runs under way (a live lease, a dispatch's own included): each call's run is leased here and the
-- invocation takes it over (integration.take_cleanup_run), so no run is called for twice and no
-- invocation cleans more than one building. The five-minute job starts the night's first runs; each
-- finished run starts the next (integration.finish_cleanup_run). Returns the calls queued.
create function integration.dispatch_cleanups(p_in_flight integer default 12, p_retry_failed boolean default true)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  dispatch uuid := pg_catalog.gen_random_uuid();
  free integer;
  run record;
  calls integer := 0;
begin
  -- Without the Vault secrets no call can be made: nothing is leased (the runs stay due).
  if (select pg_catalog.count(*) from vault.decrypted_secrets as s where s.name in ('project_url', 'functions_secret')) < 2 then
    return 0;
  end if;
  -- Dispatchers (the job, finishing runs) count the runs under way one at a time.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('integration.dispatch_cleanups'));
  select p_in_flight - pg_catalog.count(*)::integer into free
  from integration.cleanup_runs as r
  where r.status = 'running' and r.leased_until >= pg_catalog.clock_timestamp();
  if free <= 0 then
    return 0;
  end if;
  -- Two minutes for pg_net to deliver the call and the invocation to take its run over; a call that
  -- never arrives leaves the run to a later dispatch.
  for run in
    select * from integration.lease_cleanup_runs(dispatch, interval '2 minutes', null, free, p_retry_failed)
  loop
    perform integration.call_function('salto-cleanup', pg_catalog.jsonb_build_object(
      'reason', 'schedule', 'run_id', run.run_id, 'dispatch', dispatch));
    calls := calls + 1;
  end loop;
  return calls;
end;
$$;
comment on function integration.dispatch_cleanups(integer, boolean) is
  'Calls salto-cleanup once per due building (one building per call), at most p_in_flight runs under '
  'way at once; failed runs only when p_retry_failed. Returns how many calls were queued.';
revoke execute on function integration.dispatch_cleanups(integer, boolean) from public;
grant execute on function integration.dispatch_cleanups(integer, boolean) to service_role;

create function integration.wake_cleanup()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Every building whose local midnight has passed without a completed cleanup, failed runs of
  -- earlier calls included, a few at a time.
  perform integration.dispatch_cleanups();
end;
$$;
comment on function integration.wake_cleanup() is
  'Every five minutes (pg_cron): calls the salto-cleanup function once for each building whose '
  'nightly cleanup is due (integration.dispatch_cleanups), a few calls under way at a time.';
revoke execute on function integration.wake_cleanup() from public;
grant execute on function integration.wake_cleanup() to service_role;

/*
 * Every minute, and every night: fold first.
 */
-- The minute job: waiting bookings whose holder has finished are recorded as changed, then a batch of
-- pending changes is folded (the safety net: nothing depends on the wake-up arriving), then the sync is
-- woken while work or changes are pending, and expired request nonces are forgotten.
create function integration.tick()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into integration.booking_changes (building_id, apartment_id, facility_id)
  select distinct ba.building_id, ba.apartment_id, ba.facility_id
  from integration.booking_access as ba
  where ba.state = 'waiting' and ba.write_at <= integration.now();

  -- One bounded batch: the sync, woken below, folds the rest.
  perform integration.apply_booking_changes();

  if exists (select from integration.access_level_work as w where w.not_before <= (select integration.now()))
    or exists (select from integration.booking_changes)
    or exists (select from integration.salto_id_checks_due()) then
    perform integration.wake_sync();
  end if;

  delete from integration.used_request_nonces as n where n.expires_at < pg_catalog.now();
end;
$$;
comment on function integration.tick() is
  'Every minute: hands permissions to waiting bookings whose holder has finished, folds pending '
  'booking changes, wakes the sync function while work or SALTO ID checks are due, and forgets '
  'expired request nonces.';
revoke execute on function integration.tick() from public;
grant execute on function integration.tick() to service_role;

-- Every minute (pg_cron): the alerts of bookings that have finished are resolved, the two checks run,
-- then a wake-up for send-alerts while an email is due (including retries in backoff and emails held
-- back by quiet hours whose time has come).
create function integration.alerts_tick()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform integration.resolve_booking_alerts_due();
  perform integration.check_access_in_place();
  perform integration.check_salto_reachable();
  if exists (
    select from integration.email_outbox as o
    where (o.status = 'pending' and o.next_attempt_at <= pg_catalog.now())
      or (o.status = 'sending' and o.leased_until < pg_catalog.now())
  ) then
    perform integration.wake_send_alerts();
  end if;
end;
$$;
comment on function integration.alerts_tick() is
  'Every minute: resolves the alerts of bookings that have finished, raises access_not_in_place and '
  'salto_unreachable alerts, and wakes send-alerts while an alert email is due.';
revoke execute on function integration.alerts_tick() from public;
grant execute on function integration.alerts_tick() to service_role;

select cron.schedule('salto-sync-every-minute', '* * * * *', 'select integration.tick()');

-- Every five minutes: every zone's offset is a whole number of quarter hours, so the job runs at
-- each building's local midnight itself, and a missed or failed call is retried within the quarter.
select cron.schedule('salto-nightly-cleanup', '*/5 * * * *', 'select integration.wake_cleanup()');

select cron.schedule('send-alerts-every-minute', '* * * * *', 'select integration.alerts_tick()');

-- pg_cron records every run of every job (about 3,200 a day for the three above) and never forgets
-- one: a week of history is kept, for looking into a failing job.
create function integration.purge_cron_history()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  purged integer;
begin
  delete from cron.job_run_details as d where d.end_time < pg_catalog.now() - interval '7 days';
  get diagnostics purged = row_count;
  return purged;
end;
$$;
comment on function integration.purge_cron_history() is
  'Daily (pg_cron): forgets pg_cron''s records of job runs that ended more than 7 days ago; returns how '
  'many.';
revoke execute on function integration.purge_cron_history() from public;
grant execute on function integration.purge_cron_history() to service_role;

select cron.schedule('purge-cron-history-daily', '17 3 * * *', 'select integration.purge_cron_history()');

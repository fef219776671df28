/*
 * Replay-proof calls from the database to the edge functions.
 *
 * Until now the wake-ups carried the function secret itself as a bearer token: anyone who saw one
 * request (a proxy log, a leaked pg_net response row) could call the functions forever. Now the
 * secret never travels. Every call carries
 *
 *   Authorization: Bearer v1.<unix seconds>.<nonce>.<hex HMAC-SHA256(secret, "<unix seconds>.<nonce>")>
 *
 * and the functions (src/shared/functions/auth.ts) refuse a wrong signature, a timestamp more than
 * five minutes off, and a nonce they have seen before: they remember accepted nonces in
 * integration.used_request_nonces until the token would be refused as expired anyway.
 */

create extension if not exists pgcrypto with schema extensions;

-- Nonces of accepted request tokens. Written by the functions through their direct database
-- connection; the primary key makes the second use of a nonce (even a concurrent one) lose.
create table integration.used_request_nonces (
  nonce text primary key,
  expires_at timestamptz not null
);
alter table integration.used_request_nonces enable row level security;
create index used_request_nonces_expires_at_idx on integration.used_request_nonces (expires_at);
comment on table integration.used_request_nonces is
  'Nonces of function request tokens already accepted (replays are refused); purged once expired by integration.tick().';
grant select, insert, delete on integration.used_request_nonces to service_role;

-- The Authorization header value for one call to a function, or null without the Vault secret.
-- Real time (clock_timestamp), never integration.now(): the functions check it against their clock.
create function integration.function_authorization()
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
begin
  select s.decrypted_secret into functions_secret from vault.decrypted_secrets as s where s.name = 'functions_secret';
  if functions_secret is null then
    return null;
  end if;
  seconds := pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()))::bigint::text;
  nonce := pg_catalog.gen_random_uuid()::text;
  return 'Bearer v1.' || seconds || '.' || nonce || '.'
    || pg_catalog.encode(extensions.hmac(seconds || '.' || nonce, functions_secret, 'sha256'), 'hex');
end;
$$;
comment on function integration.function_authorization() is
  'A fresh, single-use request token for calling this project''s edge functions: "Bearer v1.<unix seconds>.<nonce>.<HMAC-SHA256 hex>", signed with the Vault secret functions_secret.';

-- The three wake-ups, as before (20261129001200, 20261129002000, 20261129003000), now with a token.
create or replace function integration.wake_sync()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  authorization_header text;
begin
  if pg_catalog.current_setting('integration.sync_woken', true) = 'yes' then
    return;
  end if;
  perform pg_catalog.set_config('integration.sync_woken', 'yes', true);

  select s.decrypted_secret into project_url from vault.decrypted_secrets as s where s.name = 'project_url';
  authorization_header := integration.function_authorization();
  if project_url is null or authorization_header is null then
    return;
  end if;

  perform net.http_post(
    url => project_url || '/functions/v1/salto-sync',
    body => '{"reason": "changed"}'::jsonb,
    headers => pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'Authorization', authorization_header),
    timeout_milliseconds => 5000
  );
end;
$$;

create or replace function integration.wake_cleanup()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  authorization_header text;
begin
  if not exists (select from integration.due_cleanups()) then
    return;
  end if;
  select s.decrypted_secret into project_url from vault.decrypted_secrets as s where s.name = 'project_url';
  authorization_header := integration.function_authorization();
  if project_url is null or authorization_header is null then
    return;
  end if;

  perform net.http_post(
    url => project_url || '/functions/v1/salto-cleanup',
    body => '{"reason": "schedule"}'::jsonb,
    headers => pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'Authorization', authorization_header),
    timeout_milliseconds => 5000
  );
end;
$$;

create or replace function integration.wake_send_alerts()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  authorization_header text;
begin
  if pg_catalog.current_setting('integration.send_alerts_woken', true) = 'yes' then
    return;
  end if;
  perform pg_catalog.set_config('integration.send_alerts_woken', 'yes', true);

  select s.decrypted_secret into project_url from vault.decrypted_secrets as s where s.name = 'project_url';
  authorization_header := integration.function_authorization();
  if project_url is null or authorization_header is null then
    return;
  end if;

  perform net.http_post(
    url => project_url || '/functions/v1/send-alerts',
    body => '{"reason": "alert"}'::jsonb,
    headers => pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'Authorization', authorization_header),
    timeout_milliseconds => 5000
  );
end;
$$;

-- The minute job, as before (20261129001300), also forgetting nonces whose tokens have expired.
create or replace function integration.tick()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  pair record;
begin
  for pair in
    select distinct ba.apartment_id, ba.facility_id
    from integration.booking_access as ba
    where ba.state = 'waiting' and ba.write_at <= integration.now()
  loop
    perform integration.pair_changed(pair.apartment_id, pair.facility_id);
  end loop;

  if exists (select from integration.access_level_work as w where w.not_before <= integration.now()) then
    perform integration.wake_sync();
  end if;

  delete from integration.used_request_nonces as n where n.expires_at < pg_catalog.now();
end;
$$;
comment on function integration.tick() is
  'Every minute: hands permissions to waiting bookings whose holder has finished, wakes the sync function while work is due, and forgets expired request nonces.';

grant execute on function integration.function_authorization() to service_role;
revoke execute on function integration.function_authorization() from public;

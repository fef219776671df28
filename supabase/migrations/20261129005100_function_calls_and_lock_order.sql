/*
 * One way for the database to call this project's edge functions, and one lock order.
 *
 * The three wake-ups (salto-sync after a booking change, salto-cleanup after a local midnight,
 * send-alerts after an alert) each read the project URL from Vault, minted a token and queued the
 * pg_net request themselves; now they say only what differs (which function, why, how often) and
 * integration.call_function does the rest. Behaviour is unchanged.
 */

-- Queues a POST to <Vault project_url>/functions/v1/<p_function> with a fresh single-use token; pg_net
-- sends it after commit. Returns pg_net's request id, or null when the Vault secrets are not set (then
-- nothing is sent and the minute jobs are the only wake-ups).
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
  authorization_header := integration.function_authorization();
  if project_url is null or authorization_header is null then
    return null;
  end if;
  return net.http_post(
    url => project_url || '/functions/v1/' || p_function,
    body => p_body,
    headers => pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'Authorization', authorization_header),
    timeout_milliseconds => 5000
  );
end;
$$;
comment on function integration.call_function(text, jsonb) is
  'Asks pg_net to POST to one of this project''s edge functions after commit, with a fresh single-use token (Vault secrets project_url and functions_secret). A wake-up only: pg_net never retries.';

create or replace function integration.wake_sync()
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

create or replace function integration.wake_cleanup()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Only when some building's local midnight has passed without a completed cleanup.
  if exists (select from integration.due_cleanups()) then
    perform integration.call_function('salto-cleanup', '{"reason": "schedule"}');
  end if;
end;
$$;

create or replace function integration.wake_send_alerts()
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

revoke execute on function integration.call_function(text, jsonb) from public;
grant execute on function integration.call_function(text, jsonb) to service_role;

/*
 * Lock order. Every transaction that touches both takes booking_access rows before outbox rows
 * (access_level_work), as the booking triggers do; the other order deadlocks with a booking being
 * written for the same access level. The apartment trigger queued the old access level first: it now
 * recomputes the states first.
 */
create or replace function integration.on_apartment_access_control_id_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  facility_id uuid;
begin
  for facility_id in
    select distinct b.facility_id from public.bookings as b where b.apartment_id = new.id
  loop
    perform integration.refresh_pair(new.id, facility_id);
  end loop;
  -- The old access level loses this project's zones; the new one gets the live permissions.
  perform integration.request_sync(old.building_id, old.access_control_id);
  perform integration.request_sync(new.building_id, new.access_control_id);
  return null;
end;
$$;

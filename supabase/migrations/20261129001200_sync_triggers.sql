/*
 * Triggers that turn changes of bookings, apartments and facilities into work for the sync function,
 * in the same transaction as the change, and wake the function after commit.
 *
 * The outbox row (integration.access_level_work) is the record of work; the HTTP call is only a
 * wake-up: pg_net sends it after commit and never retries, so the minute job (20261129001300) wakes
 * the function too and nothing depends on one request arriving.
 */

-- Wakes the salto-sync edge function, at most once per transaction. The URL and the function secret
-- come from Vault (secrets `project_url` and `functions_secret`); without them nothing is sent and
-- the minute job's wake-up is all there is.
create function integration.wake_sync()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  functions_secret text;
begin
  if pg_catalog.current_setting('integration.sync_woken', true) = 'yes' then
    return;
  end if;
  perform pg_catalog.set_config('integration.sync_woken', 'yes', true);

  select s.decrypted_secret into project_url from vault.decrypted_secrets as s where s.name = 'project_url';
  select s.decrypted_secret into functions_secret from vault.decrypted_secrets as s where s.name = 'functions_secret';
  if project_url is null or functions_secret is null then
    return;
  end if;

  perform net.http_post(
    url => project_url || '/functions/v1/salto-sync',
    body => '{"reason": "changed"}'::jsonb,
    headers => pg_catalog.jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' || functions_secret),
    timeout_milliseconds => 5000
  );
end;
$$;
comment on function integration.wake_sync() is
  'Asks pg_net to call the salto-sync function after commit (once per transaction). A wake-up only: the outbox is the record of work.';

-- Records that an access level must be reconciled with the bookings, and wakes the sync function.
-- Asking again while work is pending bumps the generation, so a sync that read the old state does
-- not mark the work done.
create function integration.request_sync(p_building_id uuid, p_access_level_id text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_access_level_id is null then
    return;
  end if;
  insert into integration.access_level_work as w (building_id, access_level_id)
  values (p_building_id, p_access_level_id)
  on conflict (building_id, access_level_id) do update set
    generation = w.generation + 1,
    requested_at = pg_catalog.now(),
    -- A new change is tried at once, unless SALTO is failing for this access level (then the
    -- backoff stands: the change is included in the next attempt).
    not_before = case when w.attempts = 0 then '-infinity'::timestamptz else w.not_before end;
  perform integration.wake_sync();
end;
$$;
comment on function integration.request_sync(uuid, text) is
  'Puts a SALTO access level in the outbox (or bumps its generation) and wakes the sync function.';

-- One apartment's bookings of one facility changed: recompute their states, queue the access level.
create function integration.pair_changed(p_apartment_id uuid, p_facility_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  apartment record;
begin
  perform integration.refresh_pair(p_apartment_id, p_facility_id);
  select a.building_id, a.access_control_id into apartment from public.apartments as a where a.id = p_apartment_id;
  if found then
    perform integration.request_sync(apartment.building_id, apartment.access_control_id);
  end if;
end;
$$;

create function integration.on_booking_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform integration.pair_changed(old.apartment_id, old.facility_id);
  end if;
  if tg_op = 'INSERT'
    or (tg_op = 'UPDATE' and (new.apartment_id, new.facility_id) is distinct from (old.apartment_id, old.facility_id)) then
    perform integration.pair_changed(new.apartment_id, new.facility_id);
  end if;
  return null;
end;
$$;
comment on function integration.on_booking_changed() is
  'Trigger: a booking was made, moved, cancelled or deleted; recompute access states and queue the access level.';

create trigger sync_salto_access
  after insert or delete on public.bookings
  for each row execute function integration.on_booking_changed();

create trigger sync_salto_access_on_update
  after update of starts_at, ends_at, status, apartment_id, facility_id on public.bookings
  for each row
  when ((old.starts_at, old.ends_at, old.status, old.apartment_id, old.facility_id)
    is distinct from (new.starts_at, new.ends_at, new.status, new.apartment_id, new.facility_id))
  execute function integration.on_booking_changed();

-- An apartment's Access Control ID was set, changed or cleared: the live permissions move from the
-- old access level (whose zones of ours are then removed) to the new one.
create function integration.on_apartment_access_control_id_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  facility_id uuid;
begin
  perform integration.request_sync(old.building_id, old.access_control_id);
  for facility_id in
    select distinct b.facility_id from public.bookings as b where b.apartment_id = new.id
  loop
    perform integration.refresh_pair(new.id, facility_id);
  end loop;
  perform integration.request_sync(new.building_id, new.access_control_id);
  return null;
end;
$$;
comment on function integration.on_apartment_access_control_id_changed() is
  'Trigger: moves an apartment''s live SALTO permissions from its old access level to the new one.';

create trigger sync_salto_access
  after update of access_control_id on public.apartments
  for each row
  when (old.access_control_id is distinct from new.access_control_id)
  execute function integration.on_apartment_access_control_id_changed();

-- A facility's Zone ID or buffers changed: every apartment with a booking of it (or a permission we
-- wrote on its old zone) is brought in line.
create function integration.on_facility_access_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  apartment_id uuid;
  access_level_id text;
begin
  for apartment_id in
    select distinct b.apartment_id from public.bookings as b where b.facility_id = new.id
  loop
    perform integration.pair_changed(apartment_id, new.id);
  end loop;
  for access_level_id in
    select wp.access_level_id from integration.written_permissions as wp
    where wp.building_id = old.building_id and wp.zone_id = old.access_control_facility_id
  loop
    perform integration.request_sync(old.building_id, access_level_id);
  end loop;
  return null;
end;
$$;
comment on function integration.on_facility_access_changed() is
  'Trigger: a facility''s Zone ID or access buffers changed; its bookings'' permissions are rewritten (and moved off the old zone).';

create trigger sync_salto_access
  after update of access_control_facility_id, access_buffer_before, access_buffer_after on public.facilities
  for each row
  when ((old.access_control_facility_id, old.access_buffer_before, old.access_buffer_after)
    is distinct from (new.access_control_facility_id, new.access_buffer_before, new.access_buffer_after))
  execute function integration.on_facility_access_changed();

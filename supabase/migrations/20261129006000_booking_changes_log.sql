/*
 * Booking triggers append; the access state is decided after commit (benchmark 1, trigger overhead).
 *
 * Until now a booking's trigger decided, in the booking's own transaction, the access state of every
 * booking of its apartment and facility (integration.refresh_pair over the one-permission rule), the
 * double-booking alert, and upserted the outbox row of the access level (integration.access_level_work,
 * one per building and access level). That row is shared: concurrent bookings of one apartment waited
 * for each other's commit on it, and the decision cost about as much server time as the insert itself.
 *
 * The contract (design.md, "The flow") asks the triggers to record in the same transaction which access
 * levels need to be brought in line - a durable outbox - and then to wake the sync. Now:
 *
 *   - integration.booking_changes is that durable record: the booking triggers only append one row per
 *     changed apartment and facility (the old pair and the new one when a booking moved), and wake the
 *     sync once per transaction. No upsert, no shared row, no read of other bookings.
 *   - integration.apply_booking_changes(p_limit) folds pending rows into what the trigger used to
 *     write: the booking access states, double-booking alerts and access_level_work rows, in one
 *     transaction (a fold that fails leaves its rows for the next one). It is called by the sync
 *     function before it claims work, by integration.tick() every minute (so nothing depends on the
 *     wake-up), and by the nightly cleanup (integration.refresh_finished_pairs).
 *   - Until its change is folded, a new booking has no integration.booking_access row;
 *     public.booking_access_states shows it as `pending`.
 *
 * Concurrency: folds take disjoint rows (for update skip locked), serialise per apartment and facility
 * (a transaction advisory lock, taken in one global order), and keep the lock order rule of
 * 20261129005100: booking_access rows before access_level_work rows (every pair's states first, then
 * the outbox rows, in key order).
 */

create table integration.booking_changes (
  id bigint generated always as identity primary key,
  -- No foreign keys: a change of a booking whose apartment or facility is deleted later is folded
  -- harmlessly (nothing left to decide), and the trigger's insert stays one index entry.
  building_id uuid not null,
  apartment_id uuid not null,
  facility_id uuid not null,
  changed_at timestamptz not null default pg_catalog.now()
);
alter table integration.booking_changes enable row level security;
comment on table integration.booking_changes is
  'Durable record of booking changes not yet folded into the access states and the outbox (integration.apply_booking_changes): one row per changed apartment and facility, appended by the booking triggers in the booking''s transaction.';
grant select, insert, delete on integration.booking_changes to service_role;

-- The advisory lock key of one apartment and facility: every transaction that recomputes a pair's
-- states holds it until commit, so two of them never decide the same pair from different snapshots.
create function integration.pair_lock_key(p_apartment_id uuid, p_facility_id uuid)
returns bigint
language sql
immutable
parallel safe
set search_path = ''
as $$
  select pg_catalog.hashtextextended('integration.pair:' || p_apartment_id::text || ':' || p_facility_id::text, 0)
$$;
comment on function integration.pair_lock_key(uuid, uuid) is
  'Transaction advisory lock key serialising the recomputation of one apartment and facility''s access states.';

-- One pair, decided now (alert actions): the pair's lock, its states, then its outbox row.
create or replace function integration.pair_changed(p_apartment_id uuid, p_facility_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  apartment record;
begin
  perform pg_catalog.pg_advisory_xact_lock(integration.pair_lock_key(p_apartment_id, p_facility_id));
  perform integration.refresh_pair(p_apartment_id, p_facility_id);
  select a.building_id, a.access_control_id into apartment from public.apartments as a where a.id = p_apartment_id;
  if found then
    perform integration.request_sync(apartment.building_id, apartment.access_control_id);
  end if;
end;
$$;

-- Folds up to p_limit pending booking changes (all when null), of one building when p_building_id is
-- given, into booking access states, double-booking alerts and outbox rows; returns how many change
-- rows it applied. Does not wake the sync: its callers are the sync itself, the minute job (which
-- wakes it while work is due) and the nightly cleanup (which writes its building's work itself).
-- Callers bound p_limit: each pair folded holds an advisory lock until commit, and the lock table is
-- shared by the whole server (max_locks_per_transaction x max_connections).
create function integration.apply_booking_changes(p_limit integer default 500, p_building_id uuid default null)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  taken integer;
  apartment_ids uuid[];
  facility_ids uuid[];
  lock_keys bigint[];
begin
  -- Rows are deleted only when this transaction commits, with everything decided from them; rows
  -- another fold holds are skipped (that fold decides them).
  with changes as (
    delete from integration.booking_changes as c
    where c.id in (
      select p.id from integration.booking_changes as p
      where p_building_id is null or p.building_id = p_building_id
      order by p.id
      limit p_limit
      for update skip locked)
    returning c.apartment_id, c.facility_id
  ),
  counted as (
    select pg_catalog.count(*)::integer as n from changes
  ),
  pairs as (
    select distinct ch.apartment_id, ch.facility_id,
      integration.pair_lock_key(ch.apartment_id, ch.facility_id) as lock_key
    from changes as ch
    -- An apartment deleted since (with its bookings and their states) leaves nothing to decide.
    where exists (select from public.apartments as a where a.id = ch.apartment_id)
  )
  select (select n from counted),
    pg_catalog.array_agg(p.apartment_id order by p.lock_key, p.apartment_id, p.facility_id),
    pg_catalog.array_agg(p.facility_id order by p.lock_key, p.apartment_id, p.facility_id),
    pg_catalog.array_agg(p.lock_key order by p.lock_key, p.apartment_id, p.facility_id)
  into taken, apartment_ids, facility_ids, lock_keys
  from pairs as p;

  if coalesce(taken, 0) = 0 or lock_keys is null then
    return coalesce(taken, 0);
  end if;

  -- Each pair's states, under its lock, in lock key order (no two folds wait for each other in a
  -- circle). Each refresh reads the bookings as committed once the lock is held.
  for i in 1 .. pg_catalog.array_length(lock_keys, 1) loop
    perform pg_catalog.pg_advisory_xact_lock(lock_keys[i]);
    perform integration.refresh_pair(apartment_ids[i], facility_ids[i]);
  end loop;

  -- Then the outbox rows of their access levels, in key order (integration.request_sync, without the
  -- wake-up).
  insert into integration.access_level_work as w (building_id, access_level_id)
  select distinct a.building_id, a.access_control_id
  from public.apartments as a
  where a.id = any (apartment_ids) and a.access_control_id is not null
  order by a.building_id, a.access_control_id
  on conflict (building_id, access_level_id) do update set
    generation = w.generation + 1,
    requested_at = pg_catalog.now(),
    not_before = case when w.attempts = 0 then '-infinity'::timestamptz else w.not_before end;

  return taken;
end;
$$;
comment on function integration.apply_booking_changes(integer, uuid) is
  'Folds pending booking changes (integration.booking_changes, up to p_limit, all when null; of one building when given) into booking access states, double-booking alerts and outbox rows, in one transaction; returns the change rows applied.';

/*
 * The triggers append.
 */

create or replace function integration.on_booking_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into integration.booking_changes (building_id, apartment_id, facility_id)
    values (new.building_id, new.apartment_id, new.facility_id);
  else
    insert into integration.booking_changes (building_id, apartment_id, facility_id)
    values (old.building_id, old.apartment_id, old.facility_id);
    if tg_op = 'UPDATE' and (new.apartment_id, new.facility_id) is distinct from (old.apartment_id, old.facility_id) then
      insert into integration.booking_changes (building_id, apartment_id, facility_id)
      values (new.building_id, new.apartment_id, new.facility_id);
    end if;
  end if;
  perform integration.wake_sync();
  return null;
end;
$$;
comment on function integration.on_booking_changed() is
  'Trigger: a booking was made, moved, cancelled or deleted; records its apartment and facility in integration.booking_changes (folded by integration.apply_booking_changes) and wakes the sync.';

-- An apartment's Access Control ID was set, changed or cleared: its pairs with bookings are recorded
-- as changed (the fold rewrites their states on the new access level and queues it); the old access
-- level loses this project's zones and the new one is reconciled, queued here.
create or replace function integration.on_apartment_access_control_id_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into integration.booking_changes (building_id, apartment_id, facility_id)
  select distinct new.building_id, b.apartment_id, b.facility_id
  from public.bookings as b where b.apartment_id = new.id;
  perform integration.request_sync(old.building_id, old.access_control_id);
  perform integration.request_sync(new.building_id, new.access_control_id);
  return null;
end;
$$;

-- A facility's Zone ID or buffers changed: every apartment with a booking of it is recorded as
-- changed, and every access level holding a permission we wrote on its old zone is queued.
create or replace function integration.on_facility_access_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  access_level_id text;
begin
  insert into integration.booking_changes (building_id, apartment_id, facility_id)
  select distinct new.building_id, b.apartment_id, b.facility_id
  from public.bookings as b where b.facility_id = new.id;
  for access_level_id in
    select distinct wp.access_level_id from integration.written_permissions as wp
    where wp.building_id = old.building_id and wp.zone_id = old.access_control_facility_id
    order by wp.access_level_id
  loop
    perform integration.request_sync(old.building_id, access_level_id);
  end loop;
  perform integration.wake_sync();
  return null;
end;
$$;

/*
 * Every minute, and every night: fold first.
 */

-- The minute job: waiting bookings whose holder has finished are recorded as changed, then a batch of
-- pending changes is folded (the safety net: nothing depends on the wake-up arriving), then the sync is
-- woken while work or changes are pending, and expired request nonces are forgotten.
create or replace function integration.tick()
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
  perform integration.apply_booking_changes(500);

  if exists (select from integration.access_level_work as w where w.not_before <= (select integration.now()))
    or exists (select from integration.booking_changes) then
    perform integration.wake_sync();
  end if;

  delete from integration.used_request_nonces as n where n.expires_at < pg_catalog.now();
end;
$$;
comment on function integration.tick() is
  'Every minute: hands permissions to waiting bookings whose holder has finished, folds pending booking changes, wakes the sync function while work is due, and forgets expired request nonces.';

-- The nightly cleanup's hand-overs: the building's finished pairs are recorded as changed; the cleanup
-- then folds the building's pending changes (integration.apply_booking_changes, in bounded batches)
-- before it reconciles.
create or replace function integration.refresh_finished_pairs(p_building_id uuid)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  refreshed integer;
begin
  insert into integration.booking_changes (building_id, apartment_id, facility_id)
  select distinct ba.building_id, ba.apartment_id, ba.facility_id
  from integration.booking_access as ba
  where ba.building_id = p_building_id
    and ba.state <> 'released'
    and (ba.window_end <= integration.now() or (ba.state = 'waiting' and ba.write_at <= integration.now()));
  get diagnostics refreshed = row_count;
  return refreshed;
end;
$$;
comment on function integration.refresh_finished_pairs(uuid) is
  'Records the finished pairs of one building (finished bookings to release, waiting bookings whose holder finished) as booking changes, for integration.apply_booking_changes; returns how many.';

/*
 * What the app sees: every booking, `pending` until its change is folded.
 */

create or replace view public.booking_access_states
with (security_invoker = true)
as
  select
    b.id as booking_id,
    b.building_id,
    b.apartment_id,
    b.facility_id,
    coalesce(ba.state, 'pending') as state,
    case when ba.booking_id is null then 'Just booked: its SALTO access is being worked out.' else ba.reason end as reason,
    ba.access_level_id,
    ba.zone_id,
    ba.window_start as access_starts_at,
    ba.window_end as access_ends_at,
    ba.period_start,
    ba.period_end,
    ba.timetable_id,
    ba.exact,
    ba.write_at as written_from,
    ba.holder_booking_ids as waiting_for_booking_ids,
    ba.written_at,
    coalesce(ba.updated_at, b.created_at) as updated_at
  from public.bookings as b
  left join integration.booking_access as ba on ba.booking_id = b.id;

comment on view public.booking_access_states is
  'SALTO access of each booking: pending (just booked; its access is being worked out, within seconds), waiting (another booking of the same apartment and facility holds the one permission SALTO allows; written_from says when it will be written), scheduled (being written), active (in SALTO), released (finished or cancelled), failed (reason says what to fix). Managers see their buildings, residents their apartment.';
comment on column public.booking_access_states.state is 'pending | waiting | scheduled | active | released | failed';
comment on column public.booking_access_states.reason is 'Why the booking is pending, waiting or failed, or what SALTO cannot express exactly, in words a manager can act on.';

revoke execute on function
  integration.pair_lock_key(uuid, uuid),
  integration.apply_booking_changes(integer, uuid)
  from public;
grant execute on function
  integration.pair_lock_key(uuid, uuid),
  integration.apply_booking_changes(integer, uuid)
  to service_role;

-- "Access not in place" also covers a booking whose change has not been folded five minutes after it
-- was made (no access state yet: the sync and the minute job both failed to fold it).
create or replace function integration.check_access_in_place()
returns integer
language sql
security definer
set search_path = ''
as $$
  with raised as (
    insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
    select b.building_id, 'access_not_in_place', b.id,
      pg_catalog.jsonb_build_object(
        'apartment_label', a.label,
        'facility_name', f.name,
        'access_level_id', a.access_control_id,
        'zone_id', f.access_control_facility_id,
        'booking', pg_catalog.jsonb_build_object('id', b.id, 'starts_at', b.starts_at, 'ends_at', b.ends_at),
        'state', coalesce(ba.state, 'pending'),
        'reason', case when ba.booking_id is null then 'Just booked: its SALTO access is being worked out.' else ba.reason end,
        'lead_time_minutes', (extract(epoch from s.access_lead_time) / 60)::integer
      ),
      'access_not_in_place:' || b.id
    from public.bookings as b
    left join integration.booking_access as ba on ba.booking_id = b.id
    join integration.email_settings as s on s.building_id = b.building_id
    join public.apartments as a on a.id = b.apartment_id
    join public.facilities as f on f.id = b.facility_id
    where b.status = 'confirmed'
      and b.starts_at <= integration.now() + s.access_lead_time
      and b.ends_at > integration.now()
      and (
        ba.state = 'failed'
        or (ba.state = 'scheduled' and ba.updated_at < pg_catalog.now() - interval '5 minutes')
        or (ba.state = 'waiting' and ba.write_at < integration.now() - interval '5 minutes')
        or (ba.booking_id is null and b.created_at < pg_catalog.now() - interval '5 minutes')
      )
      and not exists (
        select from integration.alerts as earlier
        where earlier.booking_id = b.id and earlier.kind = 'access_not_in_place')
    on conflict (dedupe_key) do nothing
    returning 1
  )
  select pg_catalog.count(*)::integer from raised
$$;

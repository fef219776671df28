/*
 * Access level work: the access levels to bring in line with the bookings
 */
-- One row per SALTO access level whose zone permissions may differ from what the bookings ask for.
-- Written by triggers in the transaction that changed the bookings (a rollback leaves no row, a commit
-- is never forgotten) and by the minute job when time moves a permission on. The sync function leases
-- the building, reconciles, and deletes a row only if nobody asked again meanwhile (generation unchanged).
create table integration.access_level_work (
  building_id uuid not null references public.buildings (id) on delete cascade,
  access_level_id text not null,
  generation bigint not null default 1,
  requested_at timestamptz not null default now(),
  -- Backoff after a transient failure: not worked on before this time.
  not_before timestamptz not null default '-infinity',
  attempts integer not null default 0,
  last_error text,
  -- Whether the failed attempts are SALTO's (unreachable, busy) or the access level's own: only the
  -- first make a SALTO outage (integration.check_salto_reachable).
  salto_unreachable boolean not null default false,
  constraint access_level_work_pkey primary key (building_id, access_level_id)
);
comment on table integration.access_level_work is
  'Access level work: SALTO access levels (by building and ExtGroupID) whose zone permissions must '
  'be reconciled with the bookings. Safe to repeat: the sync is level-triggered.';
comment on column integration.access_level_work.salto_unreachable is
  'True when the last failed attempt could not reach SALTO (an outage of the building''s server), '
  'false when it failed for a reason of the access level''s own (integration.record_access_level_error).';
grant select, insert, update, delete on table integration.access_level_work to service_role;
alter table integration.access_level_work enable row level security;
create index access_level_work_due_idx on integration.access_level_work (not_before);

/*
 * What this project wrote to SALTO
 */
-- The zone permissions this project last wrote, per access level and zone. It tells which zone
-- permissions of an access level are ours to change (every other one is permanent and untouched, even
-- on a zone a facility names), lets a changed Zone ID remove the permission from the old zone, and
-- shows which timetable slots are in use. Which bookings it was written for lets the cleanup tell a hand-over (the permission now
-- serves other bookings) from a repair (SALTO differs from what was written for the same bookings).
create table integration.written_permissions (
  building_id uuid not null references public.buildings (id) on delete cascade,
  access_level_id text not null,
  zone_id text not null,
  timetable_id integer not null,
  period_start date not null,
  period_end date not null,
  written_at timestamptz not null default now(),
  booking_ids uuid[] not null default '{}',
  constraint written_permissions_pkey primary key (building_id, access_level_id, zone_id)
);
comment on table integration.written_permissions is
  'Zone permissions this project has written to SALTO (one per access level and zone, as SALTO holds them).';
comment on column integration.written_permissions.booking_ids is
  'The bookings the permission was written for (one group of touching bookings of one apartment and '
  'facility).';
grant select, insert, update, delete on table integration.written_permissions to service_role;
alter table integration.written_permissions enable row level security;

/*
 * Permanent permissions on facilities' zones: what this project did not write
 */
-- Zone permissions SALTO holds for an apartment's access level on a zone a facility names, which this
-- project did not write: the main entrance every apartment holds, once a facility's Zone ID names it;
-- a staff access level holding the gym, once an apartment's Access Control ID names it. They are never
-- changed or removed: a booking that would need the zone on that access level fails with a reason,
-- and each row flags the facility (public.shared_facility_zones). The sync records the ones it meets
-- (integration.record_permanent_permissions), the nightly cleanup replaces the building's rows with
-- what SALTO lists (record_permanent_permissions_check), and a permission this project writes on the
-- zone later removes its row (SALTO holds one permission per access level and zone).
create table integration.permanent_permissions (
  building_id uuid not null references public.buildings (id) on delete cascade,
  access_level_id text not null,
  zone_id text not null,
  first_seen_at timestamptz not null default now(),
  last_checked_at timestamptz not null default now(),
  constraint permanent_permissions_pkey primary key (building_id, access_level_id, zone_id)
);
comment on table integration.permanent_permissions is
  'Zone permissions SALTO holds for apartments'' access levels on zones facilities name, which this '
  'project did not write: never changed; each flags the facility naming the zone.';
grant select, insert, update, delete on table integration.permanent_permissions to service_role;
grant select on table integration.permanent_permissions to authenticated;
alter table integration.permanent_permissions enable row level security;
create index permanent_permissions_zone_idx on integration.permanent_permissions (building_id, zone_id);
create policy "Managers can read permanent permissions of their buildings"
  on integration.permanent_permissions for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

-- A permission this project writes on a zone is the one SALTO holds there now: the access level no
-- longer holds the zone permanently (someone removed that permission, and the booking was written).
create function integration.on_permission_written()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from integration.permanent_permissions as pp
  where pp.building_id = new.building_id and pp.access_level_id = new.access_level_id and pp.zone_id = new.zone_id;
  return null;
end;
$$;
comment on function integration.on_permission_written() is
  'Trigger: a permission this project wrote on a zone removes the access level''s permanent '
  'permission record for that zone.';
revoke execute on function integration.on_permission_written() from public;
grant execute on function integration.on_permission_written() to service_role;
create trigger forget_permanent_permission
  after insert on integration.written_permissions
  for each row
  execute function integration.on_permission_written();

-- What the sync met on one access level: p_zone_ids is every zone SALTO holds for it with a permission
-- this project did not write. Records those that facilities of the building name (replacing the access
-- level's rows) and returns, for each, how many access levels are known to hold it permanently.
create function integration.record_permanent_permissions(
  p_building_id uuid,
  p_access_level_id text,
  p_zone_ids text[]
)
returns table (zone_id text, access_levels integer)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  delete from integration.permanent_permissions as pp
  where pp.building_id = p_building_id and pp.access_level_id = p_access_level_id
    and pp.zone_id <> all (p_zone_ids);
  insert into integration.permanent_permissions as pp (building_id, access_level_id, zone_id)
  select distinct p_building_id, p_access_level_id, f.access_control_facility_id
  from public.facilities as f
  where f.building_id = p_building_id and f.access_control_facility_id = any (p_zone_ids)
  on conflict on constraint permanent_permissions_pkey do update set last_checked_at = pg_catalog.now();
  return query
    select pp.zone_id, pg_catalog.count(*)::integer
    from integration.permanent_permissions as pp
    where pp.building_id = p_building_id and pp.zone_id = any (p_zone_ids)
    group by pp.zone_id;
end;
$$;
comment on function integration.record_permanent_permissions(uuid, text, text[]) is
  'Records the permanent permissions (not written by this project) that one access level holds on '
  'zones facilities name; returns how many access levels hold each such zone.';
revoke execute on function integration.record_permanent_permissions(uuid, text, text[]) from public;
grant execute on function integration.record_permanent_permissions(uuid, text, text[]) to service_role;

-- The nightly check: p_held maps each zone to the access levels SALTO listed holding it with a
-- permission this project did not write ({"MAIN": ["APT-1", "APT-2"]}), among the access levels
-- p_checked the cleanup read. Replaces those access levels' rows with the ones held by apartments'
-- access levels on zones facilities name (rows of other access levels stay, unless no apartment or
-- facility names them any more), and returns one row per such zone with the facilities that name it,
-- for the report.
create function integration.record_permanent_permissions_check(p_building_id uuid, p_held jsonb, p_checked text[])
returns table (zone_id text, facility_ids uuid[], facility_names text[], access_level_ids text[])
language sql
security definer
set search_path = ''
as $$
  with held as (
    select distinct h.key as zone_id, l.value as access_level_id
    from pg_catalog.jsonb_each(p_held) as h
    cross join lateral pg_catalog.jsonb_array_elements_text(h.value) as l
    where exists (
        select from public.facilities as f
        where f.building_id = p_building_id and f.access_control_facility_id = h.key)
      and exists (
        select from public.apartments as a
        where a.building_id = p_building_id and a.access_control_id = l.value)
  ),
  resolved as (
    delete from integration.permanent_permissions as pp
    where pp.building_id = p_building_id
      and not exists (select from held where held.zone_id = pp.zone_id and held.access_level_id = pp.access_level_id)
      and (
        pp.access_level_id = any (p_checked)
        or not exists (
          select from public.facilities as f
          where f.building_id = p_building_id and f.access_control_facility_id = pp.zone_id)
        or not exists (
          select from public.apartments as a
          where a.building_id = p_building_id and a.access_control_id = pp.access_level_id))
  ),
  marked as (
    insert into integration.permanent_permissions as pp (building_id, access_level_id, zone_id)
    select p_building_id, held.access_level_id, held.zone_id from held
    on conflict on constraint permanent_permissions_pkey do update set last_checked_at = pg_catalog.now()
  )
  select z.zone_id, f.facility_ids, f.facility_names, z.access_level_ids
  from (
    select held.zone_id, pg_catalog.array_agg(held.access_level_id order by held.access_level_id) as access_level_ids
    from held group by held.zone_id
  ) as z
  cross join lateral (
    select pg_catalog.array_agg(f.id order by f.name) as facility_ids,
      pg_catalog.array_agg(f.name order by f.name) as facility_names
    from public.facilities as f
    where f.building_id = p_building_id and f.access_control_facility_id = z.zone_id
  ) as f
  order by z.zone_id
$$;
comment on function integration.record_permanent_permissions_check(uuid, jsonb, text[]) is
  'The nightly cleanup''s check: replaces the building''s permanent permissions on facilities'' '
  'zones with what SALTO listed; returns each such zone with its facilities and access levels.';
revoke execute on function integration.record_permanent_permissions_check(uuid, jsonb, text[]) from public;
grant execute on function integration.record_permanent_permissions_check(uuid, jsonb, text[]) to service_role;

create view public.shared_facility_zones
with (security_invoker = true)
as
  select
    f.building_id,
    f.id as facility_id,
    f.name as facility_name,
    f.access_control_facility_id as zone_id,
    pg_catalog.count(*)::integer as access_levels,
    pg_catalog.array_agg(pp.access_level_id order by pp.access_level_id) as access_level_ids,
    pg_catalog.format(
      'Zone "%s" is held permanently by %s; a bookable facility needs a zone of its own. Give the facility '
      'its own zone in SALTO and set its Access Control Facility ID (Settings > Facilities; Studio: '
      'public.facilities.access_control_facility_id). If one apartment''s access level is a shared one, '
      'set that apartment''s Access Control ID (Building > Apartments; Studio: '
      'public.apartments.access_control_id) to its own.',
      f.access_control_facility_id,
      case pg_catalog.count(*) when 1 then '1 access level' else pg_catalog.count(*) || ' access levels' end
    ) as reason,
    pg_catalog.min(pp.first_seen_at) as first_seen_at,
    pg_catalog.max(pp.last_checked_at) as last_checked_at
  from public.facilities as f
  join integration.permanent_permissions as pp
    on pp.building_id = f.building_id and pp.zone_id = f.access_control_facility_id
  group by f.building_id, f.id, f.name, f.access_control_facility_id;
comment on view public.shared_facility_zones is
  'Facilities whose zone SALTO holds permanently for apartments'' access levels, with permissions '
  'connecX did not write and never changes (a main entrance, a shared access level): their bookings '
  'on those access levels cannot be written. As of the last sync that met one, or the nightly check. '
  'Managers see their buildings.';
comment on column public.shared_facility_zones.access_levels is
  'How many apartments'' access levels hold the zone permanently (access_level_ids lists them).';
comment on column public.shared_facility_zones.reason is 'What is wrong and what to do, in words a manager can act on.';
comment on column public.shared_facility_zones.building_id is 'The building.';
comment on column public.shared_facility_zones.facility_id is 'The facility whose zone is held permanently.';
comment on column public.shared_facility_zones.facility_name is 'The facility''s name.';
comment on column public.shared_facility_zones.zone_id is 'The facility''s Zone ID (its Access Control Facility ID).';
comment on column public.shared_facility_zones.access_level_ids is
  'The User Access Level EXT IDs (apartments'' Access Control IDs) that hold the zone permanently.';
comment on column public.shared_facility_zones.first_seen_at is 'When a permanent permission on the zone was first met.';
comment on column public.shared_facility_zones.last_checked_at is 'When the permanent permissions were last checked.';
revoke all on table public.shared_facility_zones from anon, authenticated, service_role;
grant all on table public.shared_facility_zones to service_role;
grant select on table public.shared_facility_zones to authenticated;

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
  'Records access level work for a SALTO access level (or bumps its generation) and wakes the sync function.';
revoke execute on function integration.request_sync(uuid, text) from public;
grant execute on function integration.request_sync(uuid, text) to service_role;

-- Each apartment and facility of the building is probed in the bookings' index (a LATERAL subquery
-- with LIMIT 1, never flattened into a join): an EXISTS could be planned as a hash of every booking,
-- and PL/pgSQL keeps a connection's generic plan (docs/decisions).
create function integration.desired_permissions_of(p_building_id uuid, p_access_level_ids text[])
returns table (
  access_level_id text,
  zone_id text,
  facility_id uuid,
  window_start timestamptz,
  window_end timestamptz,
  booking_ids uuid[]
)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  apartment_ids uuid[];
  facility_ids uuid[];
begin
  -- The pairs of these access levels with a booking at all (most apartments have none at most
  -- facilities), on facilities with a Zone ID.
  select pg_catalog.array_agg(a.id), pg_catalog.array_agg(f.id)
  into apartment_ids, facility_ids
  from public.apartments as a
  join public.facilities as f on f.building_id = a.building_id and f.access_control_facility_id is not null
  cross join lateral (
    select from public.bookings as b where b.apartment_id = a.id and b.facility_id = f.id limit 1
  ) as booked
  where a.building_id = p_building_id
    and a.access_control_id = any (p_access_level_ids);

  return query
    select a.access_control_id, f.access_control_facility_id, f.id, p.group_start, p.group_end,
      pg_catalog.array_agg(p.booking_id order by p.window_start, p.booking_id)
    from integration.permission_groups(apartment_ids, facility_ids, integration.now()) as p
    join public.apartments as a on a.id = p.apartment_id
    join public.facilities as f on f.id = p.facility_id
    where p.group_number = 1
    group by a.access_control_id, f.access_control_facility_id, f.id, p.group_start, p.group_end;
end;
$$;
comment on function integration.desired_permissions_of(uuid, text[]) is
  'integration.desired_permissions for several access levels of a building at once, one row per '
  'access level and zone.';
revoke execute on function integration.desired_permissions_of(uuid, text[]) from public;
grant execute on function integration.desired_permissions_of(uuid, text[]) to service_role;

-- The zones of each access level whose permission this project wrote: the only ones it changes or
-- removes. A zone a facility names is not one of them by that alone: SALTO may hold it for the
-- access level with a permission someone else wrote (the main entrance). The sync adds a permission
-- only on a zone SALTO holds nothing on for the access level (src/shared/sync/desired.ts, ownedZones).
create function integration.managed_zones_of(p_building_id uuid, p_access_level_ids text[])
returns table (access_level_id text, zone_id text)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    select wp.access_level_id, wp.zone_id from integration.written_permissions as wp
    where wp.building_id = p_building_id and wp.access_level_id = any (p_access_level_ids);
end;
$$;
comment on function integration.managed_zones_of(uuid, text[]) is
  'The zones of each given access level of a building whose permission this project wrote '
  '(integration.written_permissions): the only ones it changes or removes.';
revoke execute on function integration.managed_zones_of(uuid, text[]) from public;
grant execute on function integration.managed_zones_of(uuid, text[]) to service_role;

/*
 * Access levels with their desired permissions, in one round trip: what integration.desired_permissions_of (as
 * JSON) and managed_zones_of say of each. The nightly cleanup asks for all of a building's access
 * levels; the sync for its due ones (due_access_level_work).
 */
create function integration.desired_access_levels(p_building_id uuid, p_access_level_ids text[])
returns table (
  access_level_id text,
  desired jsonb,
  managed_zones text[]
)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    with desired as (
      select d.access_level_id,
        pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
          'zone_id', d.zone_id, 'facility_id', d.facility_id, 'window_start', d.window_start,
          'window_end', d.window_end, 'booking_ids', d.booking_ids) order by d.zone_id) as windows
      from integration.desired_permissions_of(p_building_id, p_access_level_ids) as d
      group by d.access_level_id
    ),
    managed as (
      select m.access_level_id, pg_catalog.array_agg(m.zone_id order by m.zone_id) as zones
      from integration.managed_zones_of(p_building_id, p_access_level_ids) as m
      group by m.access_level_id
    )
    select l.id, coalesce(desired.windows, '[]'::jsonb), coalesce(managed.zones, '{}'::text[])
    from pg_catalog.unnest(p_access_level_ids) as l (id)
    left join desired on desired.access_level_id = l.id
    left join managed on managed.access_level_id = l.id;
end;
$$;
comment on function integration.desired_access_levels(uuid, text[]) is
  'Each given access level of the building with its desired zone windows (JSON) and managed zones '
  '(those whose permission this project wrote).';
revoke execute on function integration.desired_access_levels(uuid, text[]) from public;
grant execute on function integration.desired_access_levels(uuid, text[]) to service_role;

/*
 * A building's due access level work with each access level's desired permissions, in one round trip
 * (up to p_limit, oldest first). Its plan is kept for the connection (force_generic_plan): it runs on
 * every sync pass, on the way from a booking to SALTO.
 */
create function integration.due_access_level_work(p_building_id uuid, p_limit integer)
returns table (
  access_level_id text,
  generation bigint,
  attempts integer,
  desired jsonb,
  managed_zones text[]
)
language plpgsql
stable
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
begin
  return query
    with due as (
      select w.access_level_id, w.generation, w.attempts, w.requested_at
      from integration.access_level_work as w
      where w.building_id = p_building_id and w.not_before <= (select integration.now())
      order by w.requested_at, w.access_level_id
      limit p_limit
    )
    select due.access_level_id, due.generation, due.attempts, d.desired, d.managed_zones
    from due
    join integration.desired_access_levels(p_building_id, array(select due.access_level_id from due)) as d
      on d.access_level_id = due.access_level_id
    order by due.requested_at, due.access_level_id;
end;
$$;
comment on function integration.due_access_level_work(uuid, integer) is
  'The building''s due access level work (up to p_limit, oldest first), each with its desired zone '
  'windows (JSON) and managed zones.';
revoke execute on function integration.due_access_level_work(uuid, integer) from public;
grant execute on function integration.due_access_level_work(uuid, integer) to service_role;

/*
 * Recording a reconciled access level: the permissions written, the booking states they serve, the
 * failures and alerts, and the work row done. Statements with nothing to do are skipped: the nightly
 * cleanup records thousands of access levels, most with nothing written. integration.record_reconciled
 * is this plus the renewal of the caller's building lease; record_reconciled_levels records a batch.
 */
create function integration.record_reconciled_level(
  p_building_id uuid,
  p_access_level_id text,
  p_generation bigint,
  p_written jsonb,
  p_failures jsonb,
  p_alerts jsonb
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  written_zone_ids text[] := array(select e ->> 'zone_id' from pg_catalog.jsonb_array_elements(p_written) as e);
  permission record;
  failure record;
begin
  delete from integration.written_permissions as wp
  where wp.building_id = p_building_id and wp.access_level_id = p_access_level_id
    and wp.zone_id <> all (written_zone_ids);

  if pg_catalog.cardinality(written_zone_ids) > 0 then
    insert into integration.written_permissions as wp
      (building_id, access_level_id, zone_id, timetable_id, period_start, period_end, booking_ids, written_at)
    select p_building_id, p_access_level_id, w.zone_id, w.timetable_id, w.period_start, w.period_end, w.booking_ids, pg_catalog.now()
    from pg_catalog.jsonb_to_recordset(p_written)
      as w (zone_id text, timetable_id integer, period_start date, period_end date, booking_ids uuid[])
    on conflict (building_id, access_level_id, zone_id) do update set
      timetable_id = excluded.timetable_id, period_start = excluded.period_start,
      period_end = excluded.period_end, booking_ids = excluded.booking_ids, written_at = excluded.written_at;

    -- Only bookings still served by exactly this window become active: a booking changed since the
    -- sync read the database has a newer state, and a newer work generation. The engine's times carry
    -- milliseconds; bookings may carry microseconds. One statement per permission (a handful): with
    -- the booking IDs as a value, not a column of a joined set, the booking_access primary key is used.
    for permission in
      select * from pg_catalog.jsonb_to_recordset(p_written)
        as p (timetable_id integer, period_start date, period_end date, booking_ids uuid[],
              window_start timestamptz, window_end timestamptz, exact boolean, reason text)
    loop
      update integration.booking_access as ba set
        state = 'active',
        reason = permission.reason,
        period_start = permission.period_start,
        period_end = permission.period_end,
        timetable_id = permission.timetable_id,
        exact = permission.exact,
        written_at = coalesce(ba.written_at, pg_catalog.now()),
        updated_at = pg_catalog.now()
      where ba.booking_id = any (permission.booking_ids)
        and ba.state in ('scheduled', 'active', 'failed')
        and pg_catalog.date_trunc('milliseconds', ba.window_start) = permission.window_start
        and pg_catalog.date_trunc('milliseconds', ba.window_end) = permission.window_end;
    end loop;
  end if;

  for failure in select * from pg_catalog.jsonb_to_recordset(p_failures) as f (booking_ids uuid[], reason text) loop
    update integration.booking_access as ba set state = 'failed', reason = failure.reason, updated_at = pg_catalog.now()
    where ba.booking_id = any (failure.booking_ids) and ba.state in ('scheduled', 'active', 'failed');
  end loop;

  if pg_catalog.jsonb_array_length(p_alerts) > 0 then
    insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
    select p_building_id, a.kind, a.booking_id, coalesce(a.details, '{}'), a.dedupe_key
    from pg_catalog.jsonb_to_recordset(p_alerts) as a (kind text, dedupe_key text, booking_id uuid, details jsonb)
    on conflict (dedupe_key) do nothing;
  end if;

  -- Done, unless someone asked again while we worked: then it stays, for another pass, without
  -- backoff (its attempts are reset).
  delete from integration.access_level_work as work
  where work.building_id = p_building_id and work.access_level_id = p_access_level_id and work.generation = p_generation;
  if not found then
    update integration.access_level_work as work set attempts = 0, last_error = null, salto_unreachable = false
    where work.building_id = p_building_id and work.access_level_id = p_access_level_id
      and (work.attempts, work.last_error, work.salto_unreachable) is distinct from (0, null, false);
  end if;
end;
$$;
comment on function integration.record_reconciled_level(uuid, text, bigint, jsonb, jsonb, jsonb) is
  'Records one reconciled access level: written permissions, booking states, alerts, and the work '
  'row done (same generation only).';
revoke execute on function integration.record_reconciled_level(uuid, text, bigint, jsonb, jsonb, jsonb) from public;

/*
 * Several reconciled access levels of one building recorded in one call (the nightly cleanup records
 * its access levels in batches while it goes on writing SALTO: one round trip for many).
 *   p_levels: [{access_level_id, generation, written, failures, alerts}], each as for record_reconciled.
 * Every access level is recorded (SALTO holds what was written, lease or not); returns whether the
 * caller still holds the building's lease.
 */
create function integration.record_reconciled_levels(
  p_building_id uuid,
  p_levels jsonb,
  p_invocation uuid,
  p_lease interval
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  level jsonb;
begin
  for level in select l from pg_catalog.jsonb_array_elements(p_levels) as l loop
    perform integration.record_reconciled_level(
      p_building_id, level ->> 'access_level_id', (level ->> 'generation')::bigint,
      level -> 'written', level -> 'failures', level -> 'alerts');
  end loop;
  -- Once for the batch, not once per access level.
  return integration.renew_lease(p_building_id, p_invocation, p_lease);
end;
$$;
comment on function integration.record_reconciled_levels(uuid, jsonb, uuid, interval) is
  'integration.record_reconciled_level for several access levels of a building in one call, then '
  'renews the caller''s lease once; returns whether the caller still holds it.';
revoke execute on function integration.record_reconciled_levels(uuid, jsonb, uuid, interval) from public;
grant execute on function integration.record_reconciled_levels(uuid, jsonb, uuid, interval) to service_role;

create function integration.record_reconciled(
  p_building_id uuid,
  p_access_level_id text,
  p_generation bigint,
  p_written jsonb,
  p_failures jsonb,
  p_alerts jsonb,
  p_invocation uuid,
  p_lease interval
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform integration.record_reconciled_level(p_building_id, p_access_level_id, p_generation, p_written, p_failures, p_alerts);
  return integration.renew_lease(p_building_id, p_invocation, p_lease);
end;
$$;
comment on function integration.record_reconciled(uuid, text, bigint, jsonb, jsonb, jsonb, uuid, interval) is
  'Records one reconciled access level in one call: written permissions, booking states, alerts, '
  'and the work row done (same generation only); renews the caller''s building lease and returns '
  'whether it still holds it.';
revoke execute on function integration.record_reconciled(uuid, text, bigint, jsonb, jsonb, jsonb, uuid, interval) from public;
grant execute on function integration.record_reconciled(uuid, text, bigint, jsonb, jsonb, jsonb, uuid, interval) to service_role;

/*
 * An access level that could not be reconciled for a reason of its own (its data, a value or a reply
 * the engine cannot use): it is tried again after the backoff (src/shared/sync/backoff.ts), with the
 * reason on its work row and on its bookings still to be written, while the building's other access
 * levels go on. Unlike after a transient SALTO failure (the sync store's recordRetry), the building's
 * other work does not wait.
 */
create function integration.record_access_level_error(
  p_building_id uuid,
  p_access_level_id text,
  p_error text,
  p_retry_at timestamptz,
  p_invocation uuid,
  p_lease interval
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Lock order, as the booking triggers take them: booking_access rows, then work rows.
  update integration.booking_access as ba
  set reason = pg_catalog.format('Writing this apartment''s access level failed (%s); retrying.', p_error),
    updated_at = pg_catalog.now()
  where ba.building_id = p_building_id and ba.access_level_id = p_access_level_id and ba.state = 'scheduled';
  update integration.access_level_work as work
  set attempts = work.attempts + 1, not_before = p_retry_at, last_error = p_error, salto_unreachable = false
  where work.building_id = p_building_id and work.access_level_id = p_access_level_id;
  return integration.renew_lease(p_building_id, p_invocation, p_lease);
end;
$$;
comment on function integration.record_access_level_error(uuid, text, text, timestamptz, uuid, interval) is
  'Records why an access level could not be reconciled (last_error, and the reason of its bookings '
  'still to be written) and when it is tried again; renews the caller''s building lease and returns '
  'whether it still holds it.';
revoke execute on function integration.record_access_level_error(uuid, text, text, timestamptz, uuid, interval) from public;
grant execute on function integration.record_access_level_error(uuid, text, text, timestamptz, uuid, interval) to service_role;

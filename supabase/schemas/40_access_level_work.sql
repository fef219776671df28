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
  constraint access_level_work_pkey primary key (building_id, access_level_id)
);
comment on table integration.access_level_work is
  'Access level work: SALTO access levels (by building and ExtGroupID) whose zone permissions must '
  'be reconciled with the bookings. Safe to repeat: the sync is level-triggered.';
grant select, insert, update, delete on table integration.access_level_work to service_role;
alter table integration.access_level_work enable row level security;
create index access_level_work_due_idx on integration.access_level_work (not_before);

/*
 * What this project wrote to SALTO
 */
-- The zone permissions this project last wrote, per access level and zone. It tells which zone
-- permissions of an access level are ours to change (every other one is permanent and untouched),
-- lets a changed Zone ID remove the permission from the old zone, and shows which timetable slots are
-- in use. Which bookings it was written for lets the cleanup tell a hand-over (the permission now
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
    select l.id, f.access_control_facility_id
    from pg_catalog.unnest(p_access_level_ids) as l (id)
    cross join public.facilities as f
    where f.building_id = p_building_id and f.access_control_facility_id is not null
    union
    select wp.access_level_id, wp.zone_id from integration.written_permissions as wp
    where wp.building_id = p_building_id and wp.access_level_id = any (p_access_level_ids);
end;
$$;
comment on function integration.managed_zones_of(uuid, text[]) is
  'integration.managed_zones for several access levels of a building at once.';
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
  'Each given access level of the building with its desired zone windows (JSON) and managed zones.';
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
    update integration.access_level_work as work set attempts = 0, last_error = null
    where work.building_id = p_building_id and work.access_level_id = p_access_level_id
      and (work.attempts, work.last_error) is distinct from (0, null);
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

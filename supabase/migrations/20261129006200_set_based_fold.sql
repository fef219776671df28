/*
 * The one-permission rule, decided for many apartments and facilities in one statement (benchmarks 2
 * and 5).
 *
 * A fold decided its pairs one at a time (integration.refresh_pair, about 0.5 ms each): the nightly
 * cleanup folds every finished pair of a building (10,000 over 50 buildings in benchmark 5), and the
 * sync's desired state ran integration.pair_plan once per apartment and facility with bookings. Now:
 *   - integration.pairs_plan is pair_plan for a list of pairs: the same window functions, partitioned
 *     by apartment and facility (pair_plan is now that list of one, so the rule has one text);
 *   - integration.refresh_pairs decides a list of pairs' booking access states and double-booking
 *     alerts in one statement; apply_booking_changes and pair_changed call it once their pairs' locks
 *     are held, and refresh_pair is dropped;
 *   - integration.desired_permissions_of plans all its pairs with one pairs_plan call;
 *   - bookings are found by apartment and facility through an index of that pair (the planner took
 *     the facility's index and filtered a whole facility's bookings for each apartment);
 *   - integration.pair_lock_key is PL/pgSQL: as a SQL function with a search_path it cannot be
 *     inlined, and each call set up an executor (about 25 us per pair folded);
 *   - a fold picks its batch of changes once (see apply_booking_changes).
 * Behaviour is unchanged (20261129004100, 20261129005000, 20261129006000, 20261129006100).
 */

create index bookings_apartment_id_facility_id_idx on public.bookings (apartment_id, facility_id);

create or replace function integration.pair_lock_key(p_apartment_id uuid, p_facility_id uuid)
returns bigint
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  return pg_catalog.hashtextextended('integration.pair:' || p_apartment_id::text || ':' || p_facility_id::text, 0);
end;
$$;

create function integration.pairs_plan(p_apartment_ids uuid[], p_facility_ids uuid[], p_at timestamptz)
returns table (
  apartment_id uuid,
  facility_id uuid,
  booking_id uuid,
  group_number bigint,
  window_start timestamptz,
  window_end timestamptz,
  group_start timestamptz,
  group_end timestamptz,
  write_at timestamptz,
  holder_booking_ids uuid[]
)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with pair as (
    select distinct p.apartment_id, p.facility_id
    from rows from (pg_catalog.unnest(p_apartment_ids), pg_catalog.unnest(p_facility_ids)) as p (apartment_id, facility_id)
  ),
  unfinished as (
    select
      b.apartment_id,
      b.facility_id,
      b.id,
      b.starts_at - f.access_buffer_before as window_start,
      b.ends_at + f.access_buffer_after as window_end
    from pair
    join public.bookings as b on b.apartment_id = pair.apartment_id and b.facility_id = pair.facility_id
    join public.facilities as f on f.id = b.facility_id
    where b.status = 'confirmed'
      and b.ends_at + f.access_buffer_after > p_at
  ),
  -- A booking starts a new time group unless it overlaps an earlier window of its pair.
  marked as (
    select u.*,
      case when u.window_start <= pg_catalog.max(u.window_end) over (
          partition by u.apartment_id, u.facility_id
          order by u.window_start, u.id rows between unbounded preceding and 1 preceding)
        then 0 else 1 end as starts_group
    from unfinished as u
  ),
  numbered as (
    select m.*,
      pg_catalog.sum(m.starts_group) over (
        partition by m.apartment_id, m.facility_id order by m.window_start, m.id) as time_group
    from marked as m
  ),
  groups as (
    select n.apartment_id, n.facility_id, n.time_group,
      pg_catalog.min(n.window_start) as group_start,
      pg_catalog.max(n.window_end) as group_end,
      pg_catalog.array_agg(n.id order by n.window_start, n.id) as booking_ids,
      pg_catalog.max(o.granted_at) as granted_at
    from numbered as n
    left join integration.permission_overrides as o on o.booking_id = n.id
    group by n.apartment_id, n.facility_id, n.time_group
  ),
  -- The group a manager granted the permission to first (the latest grant first), the others by start.
  ordered as (
    select g.*,
      pg_catalog.row_number() over (
        partition by g.apartment_id, g.facility_id
        order by g.granted_at desc nulls last, g.group_start, g.time_group) as group_number
    from groups as g
  ),
  -- A later group is written once every group before it has finished.
  scheduled as (
    select o.*,
      pg_catalog.max(o.group_end) over (
        partition by o.apartment_id, o.facility_id
        order by o.group_number rows between unbounded preceding and 1 preceding) as write_at
    from ordered as o
  )
  select n.apartment_id, n.facility_id, n.id, s.group_number, n.window_start, n.window_end,
    s.group_start, s.group_end, s.write_at,
    case when s.group_number > 1 then holder.booking_ids end as holder_booking_ids
  from numbered as n
  join scheduled as s
    on s.apartment_id = n.apartment_id and s.facility_id = n.facility_id and s.time_group = n.time_group
  left join scheduled as holder
    on holder.apartment_id = n.apartment_id and holder.facility_id = n.facility_id and holder.group_number = 1;
end;
$$;
comment on function integration.pairs_plan(uuid[], uuid[], timestamptz) is
  'The one-permission rule for each given apartment and facility (pairs: the two arrays side by side): each unfinished booking''s time group, which group holds the permission (group_number 1), and when a waiting group is written.';

create or replace function integration.pair_plan(p_apartment_id uuid, p_facility_id uuid, p_at timestamptz)
returns table (
  booking_id uuid,
  group_number bigint,
  window_start timestamptz,
  window_end timestamptz,
  group_start timestamptz,
  group_end timestamptz,
  write_at timestamptz,
  holder_booking_ids uuid[]
)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  select p.booking_id, p.group_number, p.window_start, p.window_end, p.group_start, p.group_end,
    p.write_at, p.holder_booking_ids
  from integration.pairs_plan(array[p_apartment_id], array[p_facility_id], p_at) as p;
end;
$$;
comment on function integration.pair_plan(uuid, uuid, timestamptz) is
  'integration.pairs_plan for one apartment and facility.';

-- Each given pair's booking access states (every booking of the pair, finished and cancelled ones
-- released) and a double-booking alert for each booking that starts waiting. Callers hold the pairs'
-- locks (integration.pair_lock_key), so the bookings read are those committed once they were held.
create function integration.refresh_pairs(p_apartment_ids uuid[], p_facility_ids uuid[])
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  with pair as (
    select distinct a.id as apartment_id, a.label as apartment_label, a.access_control_id,
      f.id as facility_id, f.name as facility_name, f.access_control_facility_id
    from rows from (pg_catalog.unnest(p_apartment_ids), pg_catalog.unnest(p_facility_ids)) as p (apartment_id, facility_id)
    -- A deleted apartment or facility took its bookings and their states with it.
    join public.apartments as a on a.id = p.apartment_id
    join public.facilities as f on f.id = p.facility_id
  ),
  plan as (
    select * from integration.pairs_plan(p_apartment_ids, p_facility_ids, integration.now())
  ),
  previous as (
    select ba.booking_id, ba.state
    from pair
    join integration.booking_access as ba on ba.apartment_id = pair.apartment_id and ba.facility_id = pair.facility_id
  ),
  next_state as (
    select
      b.id as booking_id,
      b.building_id,
      b.starts_at,
      b.ends_at,
      pair.apartment_id,
      pair.apartment_label,
      pair.access_control_id,
      pair.facility_id,
      pair.facility_name,
      pair.access_control_facility_id,
      case
        when b.status = 'cancelled' then 'released'
        when p.booking_id is null then 'released'
        when pair.access_control_id is null then 'failed'
        when pair.access_control_facility_id is null then 'failed'
        when p.group_number > 1 then 'waiting'
        else 'scheduled'
      end as state,
      case
        when b.status = 'cancelled' then 'The booking was cancelled.'
        when p.booking_id is null then 'The booking has finished.'
        when pair.access_control_id is null then pg_catalog.format(
          'Apartment %s has no Access Control ID. Set it in Building > Apartments to the User Access Level EXT ID of its access level in SALTO.',
          pair.apartment_label)
        when pair.access_control_facility_id is null then pg_catalog.format(
          'The facility %s has no Access Control Facility ID. Set it in Settings > Facilities to its Zone ID in SALTO.',
          pair.facility_name)
        when p.group_number > 1 then
          'SALTO holds one permission per apartment and zone; another booking of this facility holds it until it finishes.'
      end as reason,
      p.group_start,
      p.group_end,
      p.write_at,
      p.holder_booking_ids
    from pair
    join public.bookings as b on b.apartment_id = pair.apartment_id and b.facility_id = pair.facility_id
    left join plan as p on p.booking_id = b.id
  ),
  upserted as (
    insert into integration.booking_access as ba (
      booking_id, building_id, apartment_id, facility_id, state, reason, access_level_id, zone_id,
      window_start, window_end, write_at, holder_booking_ids, updated_at
    )
    select n.booking_id, n.building_id, n.apartment_id, n.facility_id, n.state, n.reason,
      n.access_control_id, n.access_control_facility_id,
      n.group_start, n.group_end, n.write_at, n.holder_booking_ids, pg_catalog.now()
    from next_state as n
    on conflict (booking_id) do update set
      -- A permission already in SALTO stays "active" while nothing about it changes.
      state = case
        when ba.state = 'active' and excluded.state = 'scheduled'
          and ba.window_start = excluded.window_start and ba.window_end = excluded.window_end
          and ba.access_level_id is not distinct from excluded.access_level_id
          and ba.zone_id is not distinct from excluded.zone_id
        then 'active'
        else excluded.state
      end,
      reason = case
        when ba.state = 'active' and excluded.state = 'scheduled'
          and ba.window_start = excluded.window_start and ba.window_end = excluded.window_end
          and ba.access_level_id is not distinct from excluded.access_level_id
          and ba.zone_id is not distinct from excluded.zone_id
        then ba.reason
        else excluded.reason
      end,
      apartment_id = excluded.apartment_id,
      facility_id = excluded.facility_id,
      access_level_id = excluded.access_level_id,
      zone_id = excluded.zone_id,
      window_start = excluded.window_start,
      window_end = excluded.window_end,
      write_at = excluded.write_at,
      holder_booking_ids = excluded.holder_booking_ids,
      updated_at = excluded.updated_at
    where (ba.state, ba.reason, ba.apartment_id, ba.facility_id, ba.access_level_id, ba.zone_id, ba.window_start, ba.window_end, ba.write_at, ba.holder_booking_ids)
      is distinct from
      (excluded.state, excluded.reason, excluded.apartment_id, excluded.facility_id, excluded.access_level_id, excluded.zone_id, excluded.window_start, excluded.window_end, excluded.write_at, excluded.holder_booking_ids)
    returning ba.booking_id, ba.state
  )
  insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
  select n.building_id, 'double_booking', n.booking_id,
    pg_catalog.jsonb_build_object(
      'apartment_id', n.apartment_id,
      'apartment_label', n.apartment_label,
      'access_level_id', n.access_control_id,
      'facility_id', n.facility_id,
      'facility_name', n.facility_name,
      'zone_id', n.access_control_facility_id,
      'waiting_booking', pg_catalog.jsonb_build_object('id', n.booking_id, 'starts_at', n.starts_at, 'ends_at', n.ends_at),
      'holding_bookings', (
        select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', hb.id, 'starts_at', hb.starts_at, 'ends_at', hb.ends_at) order by hb.starts_at)
        from public.bookings as hb where hb.id = any (n.holder_booking_ids)),
      'write_at', n.write_at
    ),
    'double_booking:' || n.booking_id
  from upserted as u
  join next_state as n on n.booking_id = u.booking_id
  left join previous as p on p.booking_id = u.booking_id
  where u.state = 'waiting' and p.state is distinct from 'waiting'
  on conflict (dedupe_key) do nothing;
end;
$$;
comment on function integration.refresh_pairs(uuid[], uuid[]) is
  'Decides the booking access states of the given apartments and facilities (pairs: the two arrays side by side) under the one-permission rule, and raises a double-booking alert for each booking that starts waiting. Callers hold the pairs'' locks.';

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
  perform integration.refresh_pairs(array[p_apartment_id], array[p_facility_id]);
  select a.building_id, a.access_control_id into apartment from public.apartments as a where a.id = p_apartment_id;
  if found then
    perform integration.request_sync(apartment.building_id, apartment.access_control_id);
  end if;
end;
$$;

create or replace function integration.apply_booking_changes(p_limit integer default 500, p_building_id uuid default null)
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
  -- another fold holds are skipped (that fold decides them). The batch is picked once, then deleted
  -- by key: the queue swings from empty to thousands of rows between two statistics runs, and as a
  -- `where id in (...)` subquery the pick could be planned as the inner side of a nested loop and
  -- run again for every row of the queue (10 s for one building's fold in benchmark 5).
  with picked as materialized (
    select p.id from integration.booking_changes as p
    where p_building_id is null or p.building_id = p_building_id
    order by p.id
    limit p_limit
    for update skip locked
  ),
  changes as (
    delete from integration.booking_changes as c
    using picked
    where c.id = picked.id
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

  -- Every pair's lock, in lock key order (no two folds wait for each other in a circle); then their
  -- states in one statement, which reads the bookings as committed once all the locks are held.
  for i in 1 .. pg_catalog.array_length(lock_keys, 1) loop
    perform pg_catalog.pg_advisory_xact_lock(lock_keys[i]);
  end loop;
  perform integration.refresh_pairs(apartment_ids, facility_ids);

  -- Then the outbox rows of their access levels, in key order (integration.request_sync, without the
  -- wake-up).
  insert into integration.access_level_work as w (building_id, access_level_id)
  select distinct a.building_id, a.access_control_id
  from pg_catalog.unnest(apartment_ids) as folded (apartment_id)
  join public.apartments as a on a.id = folded.apartment_id
  where a.access_control_id is not null
  order by a.building_id, a.access_control_id
  on conflict (building_id, access_level_id) do update set
    generation = w.generation + 1,
    requested_at = pg_catalog.now(),
    not_before = case when w.attempts = 0 then '-infinity'::timestamptz else w.not_before end;

  return taken;
end;
$$;

drop function integration.refresh_pair(uuid, uuid);

create or replace function integration.desired_permissions_of(p_building_id uuid, p_access_level_ids text[])
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
  where a.building_id = p_building_id
    and a.access_control_id = any (p_access_level_ids)
    and exists (select from public.bookings as b where b.apartment_id = a.id and b.facility_id = f.id);

  return query
    select a.access_control_id, f.access_control_facility_id, f.id, p.group_start, p.group_end,
      pg_catalog.array_agg(p.booking_id order by p.window_start, p.booking_id)
    from integration.pairs_plan(apartment_ids, facility_ids, integration.now()) as p
    join public.apartments as a on a.id = p.apartment_id
    join public.facilities as f on f.id = p.facility_id
    where p.group_number = 1
    group by a.access_control_id, f.access_control_facility_id, f.id, p.group_start, p.group_end;
end;
$$;

revoke execute on function
  integration.pairs_plan(uuid[], uuid[], timestamptz),
  integration.refresh_pairs(uuid[], uuid[])
  from public;

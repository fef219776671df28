/*
 * A fold reads the bookings whose state can change, not a pair's whole history.
 *
 * integration.refresh_pairs decided every booking an apartment ever had at a facility, and
 * integration.pairs_plan filtered all of them for the unfinished ones: a resident who has booked the
 * gym three times a week for two years has 300 bookings there, and each new booking's fold read all of
 * them (20261202000200 stopped writing them), a cost growing every week. On a building of 20,290
 * bookings (one such regular, 2,000 pairs with 10 past bookings), the same data with either body, a
 * fold took 3.0-3.6 ms for the regular and 1.9-2.1 ms for a pair without history; now 1.2-1.4 and
 * 1.2-1.5 ms. A finished booking whose state is released stays released, so a fold decides only:
 *   - the unfinished bookings: pairs_plan finds them from the end of a new (apartment, facility,
 *     ends_at) index, which replaces the (apartment, facility) one (buffers are whole minutes, so
 *     "ends_at + buffer > now" is "ends_at > now - buffer");
 *   - the bookings whose state is not released yet (finished or cancelled since the last fold), from a
 *     partial index of booking_access;
 *   - the bookings its changes name: integration.booking_changes now records which booking changed
 *     (null when a whole pair did: an Access Control ID, a Zone ID, a buffer, the minute job's and the
 *     nightly cleanup's hand-overs), which is how a booking made or moved into the past, or cancelled
 *     after it finished, gets its state.
 * Released states of past bookings are no longer rewritten when the apartment's Access Control ID or
 * the facility's Zone ID changes: they keep the access level and zone they were decided on.
 * refresh_pairs takes the changed bookings as a third argument (default none).
 */

alter table integration.booking_changes add column booking_id uuid;
comment on column integration.booking_changes.booking_id is
  'The booking that was made, moved, cancelled or deleted; null when the whole apartment and facility changed (its unfinished bookings and unreleased states are decided again).';

-- Built inside the migration's transaction (CREATE INDEX CONCURRENTLY cannot run in one): writes to
-- bookings wait while it builds, a moment at the table's size.
create index bookings_apartment_id_facility_id_ends_at_idx on public.bookings (apartment_id, facility_id, ends_at);
drop index public.bookings_apartment_id_facility_id_idx;

create index booking_access_unreleased_pair_idx on integration.booking_access (apartment_id, facility_id)
  where state <> 'released';

create or replace function integration.on_booking_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into integration.booking_changes (building_id, apartment_id, facility_id, booking_id)
    values (new.building_id, new.apartment_id, new.facility_id, new.id);
  else
    insert into integration.booking_changes (building_id, apartment_id, facility_id, booking_id)
    values (old.building_id, old.apartment_id, old.facility_id, old.id);
    if tg_op = 'UPDATE' and (new.apartment_id, new.facility_id) is distinct from (old.apartment_id, old.facility_id) then
      insert into integration.booking_changes (building_id, apartment_id, facility_id, booking_id)
      values (new.building_id, new.apartment_id, new.facility_id, new.id);
    end if;
  end if;
  perform integration.wake_sync();
  return null;
end;
$$;

create or replace function integration.pairs_plan(p_apartment_ids uuid[], p_facility_ids uuid[], p_at timestamptz)
returns table (apartment_id uuid, facility_id uuid, booking_id uuid, group_number bigint, window_start timestamptz,
  window_end timestamptz, group_start timestamptz, group_end timestamptz, write_at timestamptz, holder_booking_ids uuid[])
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
    join public.facilities as f on f.id = pair.facility_id
    -- The pair's bookings whose window is still open, from the end of the (apartment, facility,
    -- ends_at) index: its history is not read. A subquery of its own (OFFSET 0: not merged into the
    -- join), so the bound stays in the index scan whatever the statistics said when PL/pgSQL planned it.
    cross join lateral (
      select one.* from public.bookings as one
      where one.apartment_id = pair.apartment_id and one.facility_id = pair.facility_id
        and one.ends_at > p_at - f.access_buffer_after and one.status = 'confirmed'
      offset 0
    ) as b
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

drop function integration.refresh_pairs(uuid[], uuid[]);

create function integration.refresh_pairs(p_apartment_ids uuid[], p_facility_ids uuid[], p_changed_booking_ids uuid[] default '{}')
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
  -- The bookings whose state can change: those not yet finished (the plan), those whose state is not
  -- released yet (finished or cancelled since), and those this fold's changes name (a booking made or
  -- moved into the past, or cancelled after it finished). Every other booking of the pair is
  -- released already and stays so: a regular's history is not read again.
  candidate as (
    select p.booking_id from plan as p
    union
    select ba.booking_id
    from pair
    join integration.booking_access as ba
      on ba.apartment_id = pair.apartment_id and ba.facility_id = pair.facility_id and ba.state <> 'released'
    union
    select changed.booking_id from pg_catalog.unnest(p_changed_booking_ids) as changed (booking_id)
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
    from candidate as c
    -- Each by its key (LIMIT 1: not merged into the join, which could then read the pair's bookings
    -- from the pair's side, history and all).
    cross join lateral (select one.* from public.bookings as one where one.id = c.booking_id limit 1) as b
    -- A booking moved to another apartment or facility is decided with the pair it belongs to now.
    join pair on pair.apartment_id = b.apartment_id and pair.facility_id = b.facility_id
    left join plan as p on p.booking_id = b.id
  ),
  -- Each state to be beside the state it is: only the rows that differ are written (see above).
  decided as (
    select n.*,
      current.state as previous_state,
      case when kept.active then 'active' else n.state end as next_state,
      case when kept.active then current.reason else n.reason end as next_reason,
      (current.state, current.reason, current.apartment_id, current.facility_id, current.access_level_id, current.zone_id,
        current.window_start, current.window_end, current.write_at, current.holder_booking_ids) as was
    from next_state as n
    left join integration.booking_access as current on current.booking_id = n.booking_id
    -- A permission already in SALTO stays "active" while nothing about it changes.
    cross join lateral (
      select current.state = 'active' and n.state = 'scheduled'
        and current.window_start = n.group_start and current.window_end = n.group_end
        and current.access_level_id is not distinct from n.access_control_id
        and current.zone_id is not distinct from n.access_control_facility_id as active
    ) as kept
  ),
  upserted as (
    insert into integration.booking_access as ba (
      booking_id, building_id, apartment_id, facility_id, state, reason, access_level_id, zone_id,
      window_start, window_end, write_at, holder_booking_ids, updated_at
    )
    select d.booking_id, d.building_id, d.apartment_id, d.facility_id, d.next_state, d.next_reason,
      d.access_control_id, d.access_control_facility_id,
      d.group_start, d.group_end, d.write_at, d.holder_booking_ids, pg_catalog.now()
    from decided as d
    -- A booking without a state yet differs too: the state to be is never null.
    where d.was is distinct from (d.next_state, d.next_reason, d.apartment_id, d.facility_id, d.access_control_id,
      d.access_control_facility_id, d.group_start, d.group_end, d.write_at, d.holder_booking_ids)
    on conflict (booking_id) do update set
      state = excluded.state,
      reason = excluded.reason,
      apartment_id = excluded.apartment_id,
      facility_id = excluded.facility_id,
      access_level_id = excluded.access_level_id,
      zone_id = excluded.zone_id,
      window_start = excluded.window_start,
      window_end = excluded.window_end,
      write_at = excluded.write_at,
      holder_booking_ids = excluded.holder_booking_ids,
      updated_at = excluded.updated_at
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
  join decided as n on n.booking_id = u.booking_id
  where u.state = 'waiting' and n.previous_state is distinct from 'waiting'
  on conflict (dedupe_key) do nothing;
end;
$$;
comment on function integration.refresh_pairs(uuid[], uuid[], uuid[]) is
  'Decides the booking access states of the given apartments and facilities (pairs: the two arrays side by side) under the one-permission rule: their unfinished bookings, their bookings whose state is not released yet, and the changed bookings named; raises a double-booking alert for each booking that starts waiting. Callers hold the pairs'' locks.';
revoke execute on function integration.refresh_pairs(uuid[], uuid[], uuid[]) from public;

-- The fold hands refresh_pairs the bookings its changes name.
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
  changed_booking_ids uuid[];
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
    returning c.apartment_id, c.facility_id, c.booking_id
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
    pg_catalog.array_agg(p.lock_key order by p.lock_key, p.apartment_id, p.facility_id),
    (select pg_catalog.array_agg(distinct ch.booking_id) from changes as ch where ch.booking_id is not null)
  into taken, apartment_ids, facility_ids, lock_keys, changed_booking_ids
  from pairs as p;

  if coalesce(taken, 0) = 0 or lock_keys is null then
    return coalesce(taken, 0);
  end if;

  -- Every pair's lock, in lock key order (no two folds wait for each other in a circle); then their
  -- states in one statement, which reads the bookings as committed once all the locks are held.
  for i in 1 .. pg_catalog.array_length(lock_keys, 1) loop
    perform pg_catalog.pg_advisory_xact_lock(lock_keys[i]);
  end loop;
  perform integration.refresh_pairs(apartment_ids, facility_ids, coalesce(changed_booking_ids, '{}'));

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

/*
 * Fewer round trips for the sync and the nightly cleanup (benchmarks 2 and 5).
 *
 * The engines asked for one access level's desired permissions and managed zones at a time, and
 * recorded an outcome in about eight statements. On a small machine the round trips, not SALTO,
 * set the pace. Now:
 *   - integration.desired_permissions_of / managed_zones_of answer for many access levels of a
 *     building at once (same rules as integration.desired_permissions / managed_zones, which they
 *     replace: those are dropped at the end of this file);
 *   - integration.record_reconciled records one access level's outcome in one call, in the same
 *     order of statements as before (booking_access rows before the outbox row: the lock order);
 *   - integration.save_timetable_slot is the two statements of a slot change in one call.
 */

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
begin
  return query
    select a.access_control_id, f.access_control_facility_id, f.id, p.group_start, p.group_end,
      pg_catalog.array_agg(p.booking_id order by p.window_start, p.booking_id)
    from public.apartments as a
    join public.facilities as f on f.building_id = a.building_id and f.access_control_facility_id is not null
    cross join lateral integration.pair_plan(a.id, f.id, integration.now()) as p
    where a.building_id = p_building_id
      and a.access_control_id = any (p_access_level_ids)
      and p.group_number = 1
      -- Only pairs with a booking at all: most apartments have none at most facilities.
      and exists (select from public.bookings as b where b.apartment_id = a.id and b.facility_id = f.id)
    group by a.access_control_id, f.access_control_facility_id, f.id, p.group_start, p.group_end;
end;
$$;
comment on function integration.desired_permissions_of(uuid, text[]) is
  'integration.desired_permissions for several access levels of a building at once, one row per access level and zone.';

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

-- After a successful reconciliation of one access level: what SALTO now holds for its managed zones,
-- the bookings it serves (active) or cannot serve (failed), new alerts, and the outbox row done
-- unless it was asked for again meanwhile (a newer generation). Then renews the caller's lease on the
-- building and says whether it still holds it: a caller that lost it (too slow, or its lease expired
-- while the database was away) stops writing that building's SALTO, in the same round trip.
--   p_written:  [{zone_id, timetable_id, period_start, period_end, booking_ids, window_start, window_end, exact, reason}]
--   p_failures: [{booking_ids, reason}]
--   p_alerts:   [{kind, dedupe_key, booking_id, details}]
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
declare
  permission record;
  failure record;
begin
  delete from integration.written_permissions as wp
  where wp.building_id = p_building_id and wp.access_level_id = p_access_level_id
    and not (wp.zone_id = any (array(select e ->> 'zone_id' from pg_catalog.jsonb_array_elements(p_written) as e)));

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
  -- milliseconds; bookings may carry microseconds. One statement per permission (a handful): with the
  -- booking IDs as a value, not a column of a joined set, the booking_access primary key is used.
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

  for failure in select * from pg_catalog.jsonb_to_recordset(p_failures) as f (booking_ids uuid[], reason text) loop
    update integration.booking_access as ba set state = 'failed', reason = failure.reason, updated_at = pg_catalog.now()
    where ba.booking_id = any (failure.booking_ids) and ba.state in ('scheduled', 'active', 'failed');
  end loop;

  insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
  select p_building_id, a.kind, a.booking_id, coalesce(a.details, '{}'), a.dedupe_key
  from pg_catalog.jsonb_to_recordset(p_alerts) as a (kind text, dedupe_key text, booking_id uuid, details jsonb)
  on conflict (dedupe_key) do nothing;

  -- Done, unless someone asked again while we worked: then it stays, for another pass, without backoff.
  delete from integration.access_level_work as work
  where work.building_id = p_building_id and work.access_level_id = p_access_level_id and work.generation = p_generation;
  update integration.access_level_work as work set attempts = 0, last_error = null
  where work.building_id = p_building_id and work.access_level_id = p_access_level_id;

  update integration.building_leases as l set leased_until = pg_catalog.clock_timestamp() + p_lease
  where l.building_id = p_building_id and l.leased_by = p_invocation;
  return found;
end;
$$;
comment on function integration.record_reconciled(uuid, text, bigint, jsonb, jsonb, jsonb, uuid, interval) is
  'Records one reconciled access level in one call: written permissions, booking states, alerts, and the outbox row done (same generation only); renews the caller''s building lease and returns whether it still holds it.';

-- A slot's new content; written_at set once SALTO holds it. A slot left unwritten by an interrupted
-- attempt may still claim the same content: it is dropped.
create function integration.save_timetable_slot(
  p_building_id uuid,
  p_timetable_id integer,
  p_content_key text,
  p_intervals jsonb,
  p_written boolean
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from integration.timetable_slots as ts
  where ts.building_id = p_building_id and ts.content_key = p_content_key
    and ts.timetable_id <> p_timetable_id and ts.written_at is null;
  insert into integration.timetable_slots as ts (building_id, timetable_id, content_key, intervals, written_at)
  values (p_building_id, p_timetable_id, p_content_key, p_intervals, case when p_written then pg_catalog.now() end)
  on conflict (building_id, timetable_id) do update set
    content_key = excluded.content_key, intervals = excluded.intervals, written_at = excluded.written_at;
end;
$$;
comment on function integration.save_timetable_slot(uuid, integer, text, jsonb, boolean) is
  'Records what a reserved SALTO timetable slot holds (written = SALTO confirmed it).';

revoke execute on function integration.desired_permissions_of(uuid, text[]) from public;
revoke execute on function integration.managed_zones_of(uuid, text[]) from public;
revoke execute on function integration.record_reconciled(uuid, text, bigint, jsonb, jsonb, jsonb, uuid, interval) from public;
revoke execute on function integration.save_timetable_slot(uuid, integer, text, jsonb, boolean) from public;
grant execute on function integration.desired_permissions_of(uuid, text[]) to service_role;
grant execute on function integration.managed_zones_of(uuid, text[]) to service_role;
grant execute on function integration.record_reconciled(uuid, text, bigint, jsonb, jsonb, jsonb, uuid, interval) to service_role;
grant execute on function integration.save_timetable_slot(uuid, integer, text, jsonb, boolean) to service_role;


/*
 * integration.now() once per claim. It cannot be inlined (it reads the clock offset with a subquery),
 * so a comparison with it in a scan that the planner does not serve from the index calls it for every
 * row: with 10,000 outbox rows due, each claim made 10,000 calls (most of one benchmark's database
 * time). As an uncorrelated subquery it is evaluated once. Otherwise as in 20261129001300.
 */
create or replace function integration.claim_buildings(p_invocation uuid, p_lease interval, p_limit integer default 100)
returns setof uuid
language sql
security definer
set search_path = ''
as $$
  insert into integration.building_leases as l (building_id, leased_by, leased_until)
  select due.building_id, p_invocation, pg_catalog.clock_timestamp() + p_lease
  from (
    select distinct w.building_id
    from integration.access_level_work as w
    where w.not_before <= (select integration.now())
  ) as due
  left join integration.building_leases as held on held.building_id = due.building_id
  where held.building_id is null or held.leased_until < pg_catalog.clock_timestamp()
  limit p_limit
  on conflict (building_id) do update set leased_by = excluded.leased_by, leased_until = excluded.leased_until
    where l.leased_until < pg_catalog.clock_timestamp()
  returning l.building_id
$$;

/*
 * integration.now() keeps its plan. As a SQL function that cannot be inlined (its subquery), its
 * body was planned on every call: about 60 microseconds, four times per booking refreshed. PL/pgSQL
 * prepares it once per connection. Same result as in 20261129001000.
 */
create or replace function integration.now()
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  return pg_catalog.now() + coalesce((select c.shift from integration.clock_offset as c), interval '0');
end;
$$;

/*
 * A sync round in one round trip: fold a batch of booking changes (their outbox rows appear), lease
 * the buildings with due work once no more changes wait, and say whether more changes wait and when
 * the next work falls due.
 * Was three calls in a row on the path from a booking to SALTO.
 */
create function integration.take_work(
  p_invocation uuid,
  p_lease interval,
  p_limit integer,
  p_fold_batch integer,
  out claimed uuid[],
  out changes_left boolean,
  out seconds_until_due double precision
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  at timestamptz := integration.now();
begin
  changes_left := integration.apply_booking_changes(p_fold_batch) >= p_fold_batch;
  -- A backlog of changes is folded before any building is leased: an access level is then read and
  -- written once with all its bookings' changes, not once per batch that reaches it.
  claimed := case when p_limit > 0 and not changes_left
    then array(select integration.claim_buildings(p_invocation, p_lease, p_limit))
    else '{}'::uuid[] end;
  -- 0 when work is due now (held by another invocation's lease), null when there is none.
  select case when min(w.not_before) is not null
      then extract(epoch from greatest(min(w.not_before), at) - at)::double precision end
  into seconds_until_due
  from integration.access_level_work as w;
end;
$$;
comment on function integration.take_work(uuid, interval, integer, integer) is
  'One round of the sync: folds a batch of booking changes, leases buildings with due work (up to p_limit), and reports whether changes remain and the seconds until the next work falls due (null: none).';
revoke execute on function integration.take_work(uuid, interval, integer, integer) from public;
grant execute on function integration.take_work(uuid, interval, integer, integer) to service_role;

/*
 * Access levels with their plans, in one round trip: what integration.desired_permissions_of (as
 * JSON) and managed_zones_of say of each. The nightly cleanup asks for all of a building's access
 * levels; the sync for its due ones (due_work_plans).
 */
create function integration.access_level_plans(p_building_id uuid, p_access_level_ids text[])
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
comment on function integration.access_level_plans(uuid, text[]) is
  'Each given access level of the building with its desired zone windows (JSON) and managed zones.';
revoke execute on function integration.access_level_plans(uuid, text[]) from public;
grant execute on function integration.access_level_plans(uuid, text[]) to service_role;

/*
 * A building's due access levels with their plans, in one round trip: the outbox rows to work on (up
 * to p_limit, oldest first), each with its integration.access_level_plans row. Was two calls in a row
 * on the path from a booking to SALTO.
 */
create function integration.due_work_plans(p_building_id uuid, p_limit integer)
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
    select due.access_level_id, due.generation, due.attempts, plan.desired, plan.managed_zones
    from due
    join integration.access_level_plans(p_building_id, array(select due.access_level_id from due)) as plan
      on plan.access_level_id = due.access_level_id
    order by due.requested_at, due.access_level_id;
end;
$$;
comment on function integration.due_work_plans(uuid, integer) is
  'The building''s due outbox rows (up to p_limit, oldest first), each with its desired zone windows (JSON) and managed zones.';
revoke execute on function integration.due_work_plans(uuid, integer) from public;
grant execute on function integration.due_work_plans(uuid, integer) to service_role;

-- Replaced by desired_permissions_of and managed_zones_of (one access level is a list of one).
drop function integration.desired_permissions(uuid, text);
drop function integration.managed_zones(uuid, text);

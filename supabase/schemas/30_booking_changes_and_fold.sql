/*
 * Clock
 */
-- The integration reads time through integration.now(), never now() directly, so that the local
-- stack can move it forward for tests and the demo ("the first booking has ended") instead of waiting
-- for hours: local/stack.ts replaces this function after the migrations with one that adds a clock
-- offset (local/standins/after-migrations/clock.sql). Defined here, and so in every deployed
-- database, it is the transaction's time and reads nothing else: no offset can exist there.
-- SQL without `set search_path` (its body names pg_catalog itself), so that the planner inlines it.
create function integration.now()
returns timestamptz
language sql
stable
as $$
  select pg_catalog.now()
$$;
comment on function integration.now() is
  'The time the integration acts on: the transaction''s now(). Only the local stack (tests, demo) '
  'replaces it with a clock it can move forward.';
revoke execute on function integration.now() from public;
grant execute on function integration.now() to service_role;

/*
 * Booking access states
 */
-- What each booking's access looks like, for managers and residents: waiting for another booking of
-- the same apartment and facility to finish, scheduled (to be written), active in SALTO, released,
-- or failed with the reason a manager can act on.
create table integration.booking_access (
  booking_id uuid primary key references public.bookings (id) on delete cascade,
  building_id uuid not null,
  apartment_id uuid not null,
  facility_id uuid not null,
  state text not null check (state in ('waiting', 'scheduled', 'active', 'released', 'failed')),
  reason text,
  access_level_id text,
  zone_id text,
  -- The access window of the permission serving this booking (its own window widened by the
  -- facility's buffers, joined with the bookings it is served together with).
  window_start timestamptz,
  window_end timestamptz,
  period_start date,
  period_end date,
  timetable_id integer,
  -- False when SALTO cannot express the window exactly (see reason): whole days are granted.
  exact boolean,
  -- Waiting: when the permission will be written (the holder finishes).
  write_at timestamptz,
  -- The bookings currently holding the permission this one waits for.
  holder_booking_ids uuid[],
  written_at timestamptz,
  updated_at timestamptz not null default now()
);
comment on table integration.booking_access is
  'Access state of each booking: waiting, scheduled, active (in SALTO), released, or failed with a reason.';
grant select, insert, update, delete on table integration.booking_access to service_role;
grant select on table integration.booking_access to authenticated;
alter table integration.booking_access enable row level security;
create index booking_access_building_id_idx on integration.booking_access (building_id);
create index booking_access_apartment_id_idx on integration.booking_access (apartment_id);
create index booking_access_write_at_idx on integration.booking_access (write_at) where state = 'waiting';
create policy "Managers can read access states of their buildings' bookings"
  on integration.booking_access for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));
create policy "Residents can read access states of their apartment's bookings"
  on integration.booking_access for select to authenticated
  using (apartment_id = any (array(select private.resident_apartment_ids())));
create index booking_access_unreleased_pair_idx on integration.booking_access (apartment_id, facility_id)
  where state <> 'released';

/*
 * Alerts
 */
-- Facts a building manager must hear about. One row per fact (dedupe_key), so repeating the same
-- situation never repeats the alert; the email outbox (80_alerts_and_email.sql) sends them. The key
-- is unique among all alerts, open and resolved (every raise is `on conflict (dedupe_key) do
-- nothing`); resolving an alert frees it (integration.free_key_of_resolved_alert below).
create table integration.alerts (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null references public.buildings (id) on delete cascade,
  kind text not null check (kind in ('double_booking', 'access_not_in_place', 'unknown_salto_id', 'salto_unreachable')),
  booking_id uuid references public.bookings (id) on delete set null,
  details jsonb not null default '{}',
  dedupe_key text not null unique,
  created_at timestamptz not null default now(),
  -- When the fact stopped being true (the booking got its permission or ended, the ID was fixed,
  -- SALTO answered again), and what ended it.
  resolved_at timestamptz,
  resolution text
);
comment on table integration.alerts is
  'Alerts for building managers (double booking, access not in place, unknown SALTO ID, SALTO '
  'unreachable), one per fact; resolved_at and resolution say when and how it stopped being true.';
comment on column integration.alerts.resolved_at is
  'When the problem ended (null while it lasts): a booking''s permission written to SALTO, the '
  'booking cancelled, finished or deleted (double_booking, access_not_in_place); an unknown ID fixed '
  'or found in SALTO; SALTO reachable again.';
comment on column integration.alerts.resolution is
  'What ended the problem, in words (e.g. The Zone ID was changed to "POOL".).';
grant select, insert, update, delete on table integration.alerts to service_role;
grant select on table integration.alerts to authenticated;
alter table integration.alerts enable row level security;
create index alerts_building_id_created_at_idx on integration.alerts (building_id, created_at desc);
create index alerts_booking_id_idx on integration.alerts (booking_id);
create policy "Managers can read alerts of their buildings"
  on integration.alerts for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

-- Resolving an alert frees its dedupe key: the alert's id is appended to it, so the same problem
-- coming back after this one ended (an ID wrong again, a booking waiting again, SALTO failing again)
-- raises a new alert, and a new email, instead of meeting the resolved alert's key. The one rule for
-- every kind, whoever resolves the alert. The trigger fires after resolve_when_booking_deleted
-- (in 80_alerts_and_email.sql), which resolves an alert in the same update: a row's before triggers
-- fire in the order of their names, and the WHEN clause reads the row as the earlier ones left it.
create function integration.free_key_of_resolved_alert()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.dedupe_key := new.dedupe_key || ':resolved:' || new.id;
  return new;
end;
$$;
comment on function integration.free_key_of_resolved_alert() is
  'Trigger: appends a resolved alert''s id to its dedupe key, so the same problem can be alerted again.';
revoke execute on function integration.free_key_of_resolved_alert() from public;
create trigger resolved_alert_frees_its_key
  before update on integration.alerts
  for each row
  when (old.resolved_at is null and new.resolved_at is not null)
  execute function integration.free_key_of_resolved_alert();

-- Marks the open alert with this dedupe key resolved, saying what resolved it (which frees the key).
create function integration.resolve_alert(p_dedupe_key text, p_resolution text)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  resolved integer;
begin
  update integration.alerts as a
  set resolved_at = pg_catalog.now(), resolution = p_resolution
  where a.dedupe_key = p_dedupe_key and a.resolved_at is null;
  get diagnostics resolved = row_count;
  return resolved;
end;
$$;
comment on function integration.resolve_alert(text, text) is
  'Resolves the open alert with the dedupe key (resolved_at, resolution), which frees the key for a '
  'later recurrence; returns how many (0 or 1).';
revoke execute on function integration.resolve_alert(text, text) from public;
grant execute on function integration.resolve_alert(text, text) to service_role;

/*
 * Booking changes and the fold.
 *
 * A booking's triggers only append to integration.booking_changes (one row per changed apartment and
 * facility: the old and the new one when a booking moved) and wake the sync once per transaction: no
 * shared row, no read of other bookings, so concurrent bookings never wait for each other and the
 * booking's own transaction stays cheap. integration.apply_booking_changes later folds pending rows
 * into the booking access states, double-booking alerts and access level work, in one transaction (a
 * fold that fails leaves its rows for the next one). The sync folds before it leases work,
 * integration.tick() every minute (so nothing depends on the wake-up), and the nightly cleanup after
 * handing finished permissions over. Until its change is folded, a booking has no
 * integration.booking_access row and public.booking_access_states shows it as `pending`.
 *
 * Concurrency: folds take disjoint rows (for update skip locked) and serialise per apartment and
 * facility with a transaction advisory lock taken in one global order; every fold writes booking_access
 * rows before access_level_work rows, in key order, so two folds never deadlock.
 *
 * A fold decides only the bookings whose state can change: the unfinished ones (found from the end of
 * the bookings' (apartment, facility, ends_at) index), those whose state is not released yet, and the
 * bookings its changes name (a booking made or moved into the past, or cancelled after it finished).
 * A released state stays released, with the access level and zone it was decided on, so a resident's
 * history never makes a fold slower. See docs/decisions for the measurements behind this shape.
 */
create table integration.booking_changes (
  id bigint generated always as identity primary key,
  -- No foreign keys: a change of a booking whose apartment or facility is deleted later is folded
  -- harmlessly (nothing left to decide), and the trigger's insert stays one index entry.
  building_id uuid not null,
  apartment_id uuid not null,
  facility_id uuid not null,
  changed_at timestamptz not null default pg_catalog.now(),
  booking_id uuid
);
comment on table integration.booking_changes is
  'Durable record of booking changes not yet folded into the access states and access level work '
  '(integration.apply_booking_changes): one row per changed apartment and facility, appended by the '
  'booking triggers in the booking''s transaction.';
comment on column integration.booking_changes.booking_id is
  'The booking that was made, moved, cancelled or deleted; null when the whole apartment and '
  'facility changed (its unfinished bookings and unreleased states are decided again).';
grant select, insert, delete on table integration.booking_changes to service_role;
alter table integration.booking_changes enable row level security;
-- A building's pending changes: the fold's turns per building, and whether a building may be leased.
create index booking_changes_building_id_id_idx on integration.booking_changes (building_id, id);

create function integration.pair_lock_key(p_apartment_id uuid, p_facility_id uuid)
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
comment on function integration.pair_lock_key(uuid, uuid) is
  'Transaction advisory lock key serialising the recomputation of one apartment and facility''s '
  'access states.';
revoke execute on function integration.pair_lock_key(uuid, uuid) from public;
grant execute on function integration.pair_lock_key(uuid, uuid) to service_role;

-- The two selections below are plain SQL without a pinned search_path (every name in them is
-- qualified), so that PostgreSQL inlines them into the query that calls them: its plan reads the
-- bookings' index as if the selection were written there. A caller that locks what they select does
-- so in its own query (refresh_pairs). Only their owner calls them (from functions whose search_path
-- is empty).
create function integration.unfinished_bookings(p_apartment_ids uuid[], p_facility_ids uuid[], p_at timestamptz)
returns table (apartment_id uuid, facility_id uuid, booking_id uuid, window_start timestamptz, window_end timestamptz)
language sql
stable
as $$
  select b.apartment_id, b.facility_id, b.id,
    -- Never out of range: a booking within a buffer of the first or last instant a timestamp holds
    -- (stored past the checks of public.bookings) gets an infinite window, which the sync fails
    -- alone, instead of failing every building's fold.
    case when b.starts_at < '4713-01-01 00:00:00+00 BC'::timestamptz then '-infinity'::timestamptz
      else b.starts_at - f.access_buffer_before end,
    case when b.ends_at > '294276-12-31 00:00:00+00'::timestamptz then 'infinity'::timestamptz
      else b.ends_at + f.access_buffer_after end
  from (
    select distinct p.apartment_id, p.facility_id
    from rows from (pg_catalog.unnest(p_apartment_ids), pg_catalog.unnest(p_facility_ids)) as p (apartment_id, facility_id)
  ) as pair
  join public.facilities as f on f.id = pair.facility_id
  -- The pair's bookings whose window is still open, from the end of the (apartment, facility,
  -- ends_at) index: its history is not read. A subquery of its own (OFFSET 0: not merged into the
  -- join), so the bound stays in the index scan whatever the statistics said when the calling query
  -- was planned.
  cross join lateral (
    select one.* from public.bookings as one
    where one.apartment_id = pair.apartment_id and one.facility_id = pair.facility_id
      and one.ends_at > p_at - f.access_buffer_after and one.status = 'confirmed'
    offset 0
  ) as b
$$;
comment on function integration.unfinished_bookings(uuid[], uuid[], timestamptz) is
  'The confirmed bookings of the given apartments and facilities (pairs: the two arrays side by side) '
  'whose access window (the booking and the facility''s buffers) is still open at p_at, with that '
  'window: the bookings the one-permission rule decides (integration.permission_groups).';
revoke execute on function integration.unfinished_bookings(uuid[], uuid[], timestamptz) from public;

-- The bookings whose state can change: those not yet finished, those whose state is not released
-- yet (finished or cancelled since), and those the changes name (a booking made or moved into the
-- past, or cancelled after it finished). Every other booking of the pair is released already and
-- stays so: a regular's history is not read again.
create function integration.decidable_bookings(p_apartment_ids uuid[], p_facility_ids uuid[],
  p_changed_booking_ids uuid[], p_at timestamptz)
returns table (booking_id uuid)
language sql
stable
as $$
  select u.booking_id from integration.unfinished_bookings(p_apartment_ids, p_facility_ids, p_at) as u
  union
  select ba.booking_id
  from (
    select distinct p.apartment_id, p.facility_id
    from rows from (pg_catalog.unnest(p_apartment_ids), pg_catalog.unnest(p_facility_ids)) as p (apartment_id, facility_id)
  ) as pair
  join integration.booking_access as ba
    on ba.apartment_id = pair.apartment_id and ba.facility_id = pair.facility_id and ba.state <> 'released'
  union
  select changed.booking_id from pg_catalog.unnest(p_changed_booking_ids) as changed (booking_id)
$$;
comment on function integration.decidable_bookings(uuid[], uuid[], uuid[], timestamptz) is
  'The bookings a fold of the given apartments and facilities (pairs: the two arrays side by side) '
  'decides: their unfinished bookings at p_at, their bookings whose state is not released yet, and '
  'the changed bookings named. Some may belong to other pairs now, or be gone.';
revoke execute on function integration.decidable_bookings(uuid[], uuid[], uuid[], timestamptz) from public;

create function integration.permission_groups(p_apartment_ids uuid[], p_facility_ids uuid[], p_at timestamptz)
returns table (apartment_id uuid, facility_id uuid, booking_id uuid, group_number bigint, window_start timestamptz,
  window_end timestamptz, group_start timestamptz, group_end timestamptz, write_at timestamptz, holder_booking_ids uuid[])
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with unfinished as (
    select u.apartment_id, u.facility_id, u.booking_id as id, u.window_start, u.window_end
    from integration.unfinished_bookings(p_apartment_ids, p_facility_ids, p_at) as u
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
  -- Every step below is a window over the pair's rows, never a join of the pair with itself: the
  -- planner cannot know how many bookings a pair has, and a nested loop over a pair of thousands of
  -- bookings (a manager may book beyond the residents' policy) would cost its square.
  -- Each booking beside its time group's extent and the latest grant a manager made in it.
  in_group as (
    select n.*,
      pg_catalog.min(n.window_start) over time_group as group_start,
      pg_catalog.max(n.window_end) over time_group as group_end,
      pg_catalog.max(o.granted_at) over time_group as granted_at
    from numbered as n
    left join integration.permission_overrides as o on o.booking_id = n.id
    window time_group as (partition by n.apartment_id, n.facility_id, n.time_group)
  ),
  -- The group a manager granted the permission to first (the latest grant first), the others by start.
  ordered as (
    select g.*,
      pg_catalog.dense_rank() over (
        partition by g.apartment_id, g.facility_id
        order by g.granted_at desc nulls last, g.group_start, g.time_group) as group_number
    from in_group as g
  ),
  -- A later group is written once every group before it has finished; the first group's bookings
  -- (in start order) are the ones a waiting booking waits for.
  scheduled as (
    select o.*,
      pg_catalog.max(o.group_end) over (
        partition by o.apartment_id, o.facility_id
        order by o.group_number groups between unbounded preceding and 1 preceding) as write_at,
      pg_catalog.array_agg(o.id) filter (where o.group_number = 1) over (
        partition by o.apartment_id, o.facility_id
        order by o.group_number, o.window_start, o.id
        rows between unbounded preceding and unbounded following) as first_group_booking_ids
    from ordered as o
  )
  select s.apartment_id, s.facility_id, s.id, s.group_number, s.window_start, s.window_end,
    s.group_start, s.group_end, s.write_at,
    case when s.group_number > 1 then s.first_group_booking_ids end as holder_booking_ids
  from scheduled as s;
end;
$$;
comment on function integration.permission_groups(uuid[], uuid[], timestamptz) is
  'The one-permission rule for each given apartment and facility (pairs: the two arrays side by '
  'side): each unfinished booking''s time group, which group holds the permission (group_number 1), '
  'and when a waiting group is written.';
revoke execute on function integration.permission_groups(uuid[], uuid[], timestamp with time zone) from public;


create function integration.refresh_pairs(p_apartment_ids uuid[], p_facility_ids uuid[], p_changed_booking_ids uuid[] default '{}')
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  decidable uuid[];
begin
  -- The bookings whose state can change (below) are locked first, FOR KEY SHARE: until this fold
  -- commits nobody deletes them, so its states never name a booking that is gone (a foreign key
  -- error) and it never waits for a delete that waits for it (a deadlock). Updates other than of
  -- the key do not conflict with it. A booking being deleted right now is skipped, not waited for:
  -- its change is recorded again, so a later fold decides it whether the delete commits or not.
  with wanted as (
    select d.booking_id as id
    from integration.decidable_bookings(p_apartment_ids, p_facility_ids, p_changed_booking_ids, integration.now()) as d
  ),
  -- Each by its key, in a subquery of its own that locks only the row it reads.
  locked as (
    select b.id
    from wanted as w
    cross join lateral (
      select one.id from public.bookings as one where one.id = w.id for key share of one skip locked
    ) as b
  ),
  skipped as (
    insert into integration.booking_changes (building_id, apartment_id, facility_id, booking_id)
    select b.building_id, b.apartment_id, b.facility_id, b.id
    from public.bookings as b
    where b.id in (select w.id from wanted as w) and b.id not in (select l.id from locked as l)
  )
  select pg_catalog.array_agg(l.id) into decidable from locked as l;

  with pair as (
    select distinct a.id as apartment_id, a.label as apartment_label, a.access_control_id,
      f.id as facility_id, f.name as facility_name, f.access_control_facility_id
    from rows from (pg_catalog.unnest(p_apartment_ids), pg_catalog.unnest(p_facility_ids)) as p (apartment_id, facility_id)
    -- A deleted apartment or facility took its bookings and their states with it.
    join public.apartments as a on a.id = p.apartment_id
    join public.facilities as f on f.id = p.facility_id
  ),
  grouped as (
    select * from integration.permission_groups(p_apartment_ids, p_facility_ids, integration.now())
  ),
  -- The bookings whose state can change (as locked above, seen again by this statement).
  candidate as (
    select d.booking_id
    from integration.decidable_bookings(p_apartment_ids, p_facility_ids, p_changed_booking_ids, integration.now()) as d
  ),
  -- Each candidate locked above, by its key (LIMIT 1: not merged into a join, which could then read
  -- the pair's bookings from the pair's side, history and all). Materialized, so that it meets the
  -- pairs and their groups in one join, not each booking all of the groups again.
  decidable_booking as materialized (
    select b.*
    from candidate as c
    cross join lateral (select one.* from public.bookings as one where one.id = c.booking_id limit 1) as b
    where c.booking_id = any (decidable)
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
          'Apartment %s has no Access Control ID. Set it in Building > Apartments (Studio: table public.apartments, column access_control_id) to the User Access Level EXT ID of its access level in SALTO.',
          pair.apartment_label)
        when pair.access_control_facility_id is null then pg_catalog.format(
          'The facility %s has no Access Control Facility ID. Set it in Settings > Facilities (Studio: table public.facilities, column access_control_facility_id) to its Zone ID in SALTO.',
          pair.facility_name)
        when p.group_number > 1 then
          'SALTO holds one permission per apartment and zone; another booking of this facility holds it until it finishes.'
      end as reason,
      p.group_start,
      p.group_end,
      p.write_at,
      p.holder_booking_ids
    from decidable_booking as b
    -- A booking moved to another apartment or facility is decided with the pair it belongs to now.
    join pair on pair.apartment_id = b.apartment_id and pair.facility_id = b.facility_id
    left join grouped as p on p.booking_id = b.id
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
    -- Each by its key (LIMIT 1: a lookup per booking, never every state of the pair joined with all
    -- of its bookings, whatever the planner thinks the tables hold).
    left join lateral (
      select ba.* from integration.booking_access as ba where ba.booking_id = n.booking_id limit 1
    ) as current on true
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
  'Decides the booking access states of the given apartments and facilities (pairs: the two arrays '
  'side by side) under the one-permission rule: their unfinished bookings, their bookings whose '
  'state is not released yet, and the changed bookings named; raises a double-booking alert for '
  'each booking that starts waiting. Callers hold the pairs'' locks.';
revoke execute on function integration.refresh_pairs(uuid[], uuid[], uuid[]) from public;

-- The fold hands refresh_pairs the bookings its changes name.
-- Booking changes folded per transaction. Each holds an advisory lock per apartment and facility
-- until commit, so a batch bounds how long a fold blocks bookings of the same pairs.
create function integration.fold_batch()
returns integer
language sql
immutable
set search_path = ''
as $$
  select 500
$$;
comment on function integration.fold_batch() is
  'Booking changes folded per transaction (integration.apply_booking_changes): each holds an '
  'advisory lock per apartment and facility until commit.';
revoke execute on function integration.fold_batch() from public;
grant execute on function integration.fold_batch() to service_role;

create function integration.fold_batch_per_building()
returns integer
language sql
immutable
set search_path = ''
as $$
  select 100
$$;
comment on function integration.fold_batch_per_building() is
  'One building''s booking changes in a batch of all buildings'' (integration.apply_booking_changes '
  'without a building): how long a building''s flood can hold another building''s changes back.';
revoke execute on function integration.fold_batch_per_building() from public;
grant execute on function integration.fold_batch_per_building() to service_role;

create function integration.apply_booking_changes(p_limit integer default integration.fold_batch(), p_building_id uuid default null)
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
  -- run again for every row of the queue.
  -- Buildings take turns: each building's oldest change first, then each one's second, and so on,
  -- and one building's at most fold_batch_per_building() of a batch of all buildings': a building
  -- that committed thousands of changes at once delays another building's by one small batch at most.
  with turns as materialized (
    select p.id, pg_catalog.row_number() over (partition by p.building_id order by p.id) as turn
    from integration.booking_changes as p
    where p_building_id is null or p.building_id = p_building_id
  ),
  picked as materialized (
    select p.id from integration.booking_changes as p
    join (
      select t.id from turns as t
      where p_building_id is not null or t.turn <= integration.fold_batch_per_building()
      order by t.turn, t.id limit p_limit
    ) as fair on fair.id = p.id
    for update of p skip locked
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

  -- Then the work rows of their access levels, in key order (integration.request_sync, without the
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
comment on function integration.apply_booking_changes(integer, uuid) is
  'Folds pending booking changes (integration.booking_changes, up to p_limit, all when null; of one '
  'building when given) into booking access states, double-booking alerts and access level work, in '
  'one transaction; returns the change rows applied.';
revoke execute on function integration.apply_booking_changes(integer, uuid) from public;
grant execute on function integration.apply_booking_changes(integer, uuid) to service_role;

create function integration.on_booking_changed()
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
comment on function integration.on_booking_changed() is
  'Trigger: a booking was made, moved, cancelled or deleted; records its apartment and facility in '
  'integration.booking_changes (folded by integration.apply_booking_changes) and wakes the sync.';
revoke execute on function integration.on_booking_changed() from public;
grant execute on function integration.on_booking_changed() to service_role;
create trigger sync_salto_access
  after insert or delete on public.bookings
  for each row execute function integration.on_booking_changed();
create trigger sync_salto_access_on_update
  after update of starts_at, ends_at, status, apartment_id, facility_id on public.bookings
  for each row
  when ((old.starts_at, old.ends_at, old.status, old.apartment_id, old.facility_id)
    is distinct from (new.starts_at, new.ends_at, new.status, new.apartment_id, new.facility_id))
  execute function integration.on_booking_changed();

-- An apartment's Access Control ID was set, changed or cleared: its pairs with bookings are recorded
-- as changed (the fold rewrites their states on the new access level and queues it); the old access
-- level loses this project's zones and the new one is reconciled, queued here.
create function integration.on_apartment_access_control_id_changed()
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
comment on function integration.on_apartment_access_control_id_changed() is
  'Trigger: moves an apartment''s live SALTO permissions from its old access level to the new one.';
revoke execute on function integration.on_apartment_access_control_id_changed() from public;
grant execute on function integration.on_apartment_access_control_id_changed() to service_role;
create trigger sync_salto_access
  after update of access_control_id on public.apartments
  for each row
  when (old.access_control_id is distinct from new.access_control_id)
  execute function integration.on_apartment_access_control_id_changed();

-- A facility's Zone ID or buffers changed: every apartment with a booking of it is recorded as
-- changed, and every access level holding a permission we wrote on its old zone is queued.
create function integration.on_facility_access_changed()
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
comment on function integration.on_facility_access_changed() is
  'Trigger: a facility''s Zone ID or access buffers changed; its bookings'' permissions are '
  'rewritten (and moved off the old zone).';
revoke execute on function integration.on_facility_access_changed() from public;
grant execute on function integration.on_facility_access_changed() to service_role;
create trigger sync_salto_access
  after update of access_control_facility_id, access_buffer_before, access_buffer_after on public.facilities
  for each row
  when ((old.access_control_facility_id, old.access_buffer_before, old.access_buffer_after)
    is distinct from (new.access_control_facility_id, new.access_buffer_before, new.access_buffer_after))
  execute function integration.on_facility_access_changed();

-- A building's time zone changed: every period and timetable written for it was computed in the old
-- zone, so SALTO now opens the doors at other hours than the bookings say. Every access level of the
-- building with a permission written, or with a booking still to be served, is queued at once (the
-- sync rewrites it in the new zone), and each booking active in SALTO is scheduled again until that
-- write records it active with its new period and timetable: its state never says active for a
-- permission SALTO holds in the wrong zone.
create function integration.on_building_time_zone_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update integration.booking_access as ba set state = 'scheduled', updated_at = pg_catalog.now()
  where ba.building_id = new.id and ba.state = 'active';

  insert into integration.access_level_work as w (building_id, access_level_id)
  select new.id, levels.access_level_id
  from (
    select wp.access_level_id from integration.written_permissions as wp where wp.building_id = new.id
    union
    select a.access_control_id
    from public.apartments as a
    where a.building_id = new.id and a.access_control_id is not null
      and exists (
        select from integration.booking_access as ba
        where ba.apartment_id = a.id and ba.state <> 'released')
  ) as levels
  order by levels.access_level_id
  on conflict (building_id, access_level_id) do update set
    generation = w.generation + 1,
    requested_at = pg_catalog.now(),
    not_before = case when w.attempts = 0 then '-infinity'::timestamptz else w.not_before end;
  perform integration.wake_sync();
  return null;
end;
$$;
comment on function integration.on_building_time_zone_changed() is
  'Trigger: a building''s time zone changed; every access level of the building is queued so that '
  'SALTO is rewritten in the new zone, and active bookings are scheduled again until it is.';
revoke execute on function integration.on_building_time_zone_changed() from public;
grant execute on function integration.on_building_time_zone_changed() to service_role;
create trigger sync_salto_access
  after update of timezone on public.buildings
  for each row
  when (old.timezone is distinct from new.timezone)
  execute function integration.on_building_time_zone_changed();

create function integration.pair_changed(p_apartment_id uuid, p_facility_id uuid)
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
revoke execute on function integration.pair_changed(uuid, uuid) from public;
grant execute on function integration.pair_changed(uuid, uuid) to service_role;

-- The nightly cleanup's hand-overs: the finished pairs are recorded as changed; the cleanup then folds
-- the building's pending changes (integration.apply_booking_changes, in bounded batches) before it
-- reconciles. A cleanup call cleans a slice of the building's access levels (docs/decisions/0035) and
-- hands over only that slice's pairs (p_access_level_ids): the fold queues access level work for the
-- apartments' access levels, and work queued for a later slice's access levels would be taken by the
-- sync between two slices (the building's lease is free then), its finished permissions removed from
-- SALTO but left out of the cleanup's report. Pairs of apartments without an Access Control ID have
-- nothing in SALTO and go with any slice; null: every pair of the building.
create function integration.refresh_finished_pairs(p_building_id uuid, p_access_level_ids text[] default null)
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
  join public.apartments as a on a.id = ba.apartment_id
  where ba.building_id = p_building_id
    and ba.state <> 'released'
    and (ba.window_end <= integration.now() or (ba.state = 'waiting' and ba.write_at <= integration.now()))
    and (p_access_level_ids is null or a.access_control_id is null or a.access_control_id = any (p_access_level_ids));
  get diagnostics refreshed = row_count;
  return refreshed;
end;
$$;
comment on function integration.refresh_finished_pairs(uuid, text[]) is
  'Records the finished pairs of one building (finished bookings to release, waiting bookings whose '
  'holder finished) as booking changes, for integration.apply_booking_changes: of the apartments '
  'whose Access Control ID is one of p_access_level_ids (and of those without one), or of every '
  'apartment when null; returns how many.';
revoke execute on function integration.refresh_finished_pairs(uuid, text[]) from public;
grant execute on function integration.refresh_finished_pairs(uuid, text[]) to service_role;

/*
 * What the app sees: every booking, `pending` until its change is folded.
 */
-- The states a booking's access can be in, as the app reads them (generated types make it a union).
create type public.booking_access_state as enum ('pending', 'waiting', 'scheduled', 'active', 'released', 'failed');
comment on type public.booking_access_state is
  'pending (just booked) | waiting (another booking holds the permission) | scheduled (being written '
  'to SALTO) | active (in SALTO) | released (finished or cancelled) | failed (see reason).';

-- A span of building-local time as people read it: "Thu 3 Dec, 18:00-19:00", "Thu 3 Dec, 23:00-24:00",
-- "Thu 3 Dec 23:00 - Fri 4 Dec 01:00". English day and month names, whatever the session's locale.
-- Takes local times (timestamp without time zone), converted once by the caller. SQL without `set
-- search_path` (its body names pg_catalog itself) so that the planner inlines it: a view calls it
-- twice per row.
create function private.describe_local_span(p_start timestamp, p_end timestamp)
returns text
language sql
stable
as $$
  select case
    when p_start is null or p_end is null then null
    when p_start::date = p_end::date
      then pg_catalog.to_char(p_start, 'Dy FMDD Mon, HH24:MI') || '-' || pg_catalog.to_char(p_end, 'HH24:MI')
    when p_end = p_start::date + 1
      then pg_catalog.to_char(p_start, 'Dy FMDD Mon, HH24:MI') || '-24:00'
    else pg_catalog.to_char(p_start, 'Dy FMDD Mon HH24:MI') || ' - ' || pg_catalog.to_char(p_end, 'Dy FMDD Mon HH24:MI')
  end
$$;
comment on function private.describe_local_span(timestamp, timestamp) is
  'A span of local time as people read it: Thu 3 Dec, 18:00-19:00 (or across midnight, '
  'Thu 3 Dec 23:00 - Fri 4 Dec 01:00).';
revoke execute on function private.describe_local_span(timestamp, timestamp) from public;
grant execute on function private.describe_local_span(timestamp, timestamp) to authenticated, service_role;

create view public.booking_access_states
with (security_invoker = true)
as
  select
    b.id as booking_id,
    b.building_id,
    b.apartment_id,
    b.facility_id,
    coalesce(ba.state, 'pending')::public.booking_access_state as state,
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
    coalesce(ba.updated_at, b.created_at) as updated_at,
    f.name as facility_name,
    a.label as apartment_label,
    bl.timezone as time_zone,
    local.starts_at as local_starts_at,
    local.ends_at as local_ends_at,
    local.access_starts_at as local_access_starts_at,
    local.access_ends_at as local_access_ends_at,
    case coalesce(ba.state, 'pending')
      when 'pending' then pg_catalog.format('Your booking of the %s on %s is being set up on your key card.', f.name, span.booked)
      when 'waiting' then pg_catalog.format('Your key card will open the %s on %s: it is set up when your apartment''s earlier booking of it ends%s.',
        f.name, span.opens, coalesce(' (' || pg_catalog.to_char(local.write_at, 'Dy FMDD Mon, HH24:MI') || ')', ''))
      when 'scheduled' then pg_catalog.format('Your key card is being set up to open the %s on %s.', f.name, span.opens)
      when 'active' then pg_catalog.format('Your key card opens the %s on %s.', f.name, span.opens)
      when 'released' then case when b.status = 'cancelled'
        then pg_catalog.format('Your booking of the %s on %s was cancelled: your key card does not open it for this booking.', f.name, span.booked)
        else pg_catalog.format('Your booking of the %s on %s is over.', f.name, span.booked) end
      else pg_catalog.format('Your key card could not be set up to open the %s on %s. The building''s managers have been told.', f.name, span.booked)
    end as resident_summary,
    pg_catalog.format('%s for apartment %s, %s (%s): ', f.name, a.label, span.booked, bl.timezone)
      || case coalesce(ba.state, 'pending')
        when 'pending' then 'just booked; its SALTO access is being worked out.'
        when 'waiting' then 'waiting: another booking of this apartment holds the facility''s permission'
          || coalesce(' until ' || pg_catalog.to_char(local.write_at, 'Dy FMDD Mon, HH24:MI'), '') || '.'
        when 'scheduled' then pg_catalog.format('being written to SALTO (key cards to open %s).', span.opens)
        when 'active' then pg_catalog.format('in SALTO; key cards open %s.', span.opens)
        when 'released' then case when b.status = 'cancelled' then 'cancelled; its permission is withdrawn.'
          else 'finished; its permission is withdrawn.' end
        else 'FAILED: ' || coalesce(ba.reason, 'no reason recorded.')
      end as manager_summary
  from public.bookings as b
  left join integration.booking_access as ba on ba.booking_id = b.id
  join public.facilities as f on f.id = b.facility_id
  join public.apartments as a on a.id = b.apartment_id
  join public.buildings as bl on bl.id = b.building_id
  -- Each instant converted to building-local time once.
  cross join lateral (
    select
      b.starts_at at time zone bl.timezone as starts_at,
      b.ends_at at time zone bl.timezone as ends_at,
      ba.window_start at time zone bl.timezone as access_starts_at,
      ba.window_end at time zone bl.timezone as access_ends_at,
      ba.write_at at time zone bl.timezone as write_at
  ) as local
  cross join lateral (
    select
      private.describe_local_span(local.starts_at, local.ends_at) as booked,
      private.describe_local_span(coalesce(local.access_starts_at, local.starts_at), coalesce(local.access_ends_at, local.ends_at)) as opens
  ) as span;
comment on column public.booking_access_states.booking_id is 'The booking (public.bookings.id).';
comment on column public.booking_access_states.building_id is 'The booking''s building.';
comment on column public.booking_access_states.apartment_id is 'The apartment booked for (apartment_label names it).';
comment on column public.booking_access_states.facility_id is 'The facility booked (facility_name names it).';
comment on column public.booking_access_states.state is
  'pending (just booked) | waiting (another booking holds the permission) | scheduled (being written '
  'to SALTO) | active (in SALTO) | released (finished or cancelled) | failed (reason says what to fix).';
comment on column public.booking_access_states.reason is
  'Why the booking is pending, waiting or failed, or what SALTO cannot express exactly, in words a '
  'manager can act on. Residents read resident_summary instead.';
comment on column public.booking_access_states.access_level_id is
  'The SALTO User Access Level EXT ID (the apartment''s Access Control ID) the permission is '
  'written to.';
comment on column public.booking_access_states.zone_id is
  'The SALTO Zone ID (the facility''s Access Control Facility ID) the permission opens.';
comment on column public.booking_access_states.access_starts_at is
  'When the key cards start to open the zone (an instant; local_access_starts_at in the building''s '
  'time zone): the booking start minus the facility''s before-buffer (joined with touching bookings '
  'served by the same permission).';
comment on column public.booking_access_states.access_ends_at is
  'When the key cards stop opening the zone (an instant; local_access_ends_at in the building''s time zone).';
comment on column public.booking_access_states.period_start is
  'First date of the SALTO Period written, in the building''s time zone.';
comment on column public.booking_access_states.period_end is
  'Last date of the SALTO Period written, in the building''s time zone.';
comment on column public.booking_access_states.timetable_id is
  'The SALTO Timetable (TimezoneTableID) written; 0 means always.';
comment on column public.booking_access_states.exact is
  'False when SALTO cannot express the access window exactly and whole days are granted (reason says why).';
comment on column public.booking_access_states.written_from is
  'For a waiting booking: when the booking holding the permission finishes and this one is written.';
comment on column public.booking_access_states.waiting_for_booking_ids is
  'For a waiting booking: the bookings of the same apartment and facility that hold the permission now.';
comment on column public.booking_access_states.written_at is 'When the permission was last written to SALTO.';
comment on column public.booking_access_states.updated_at is 'When the access state last changed.';
comment on column public.booking_access_states.facility_name is 'The facility''s name.';
comment on column public.booking_access_states.apartment_label is 'The apartment''s label.';
comment on column public.booking_access_states.time_zone is
  'The building''s time zone (IANA name): every local_* column and the summaries are in it.';
comment on column public.booking_access_states.local_starts_at is 'When the booking starts, building-local.';
comment on column public.booking_access_states.local_ends_at is 'When the booking ends, building-local.';
comment on column public.booking_access_states.local_access_starts_at is
  'When the key cards start to open the zone, building-local (null until decided).';
comment on column public.booking_access_states.local_access_ends_at is
  'When the key cards stop opening the zone, building-local (null until decided).';
comment on column public.booking_access_states.resident_summary is
  'One sentence the app can show the resident, e.g. Your key card opens the Gym on Thu 3 Dec, 17:50-19:10.';
comment on column public.booking_access_states.manager_summary is
  'One line for managers: facility, apartment, local time with the time zone, and the state (with '
  'the reason when it failed).';
comment on view public.booking_access_states is
  'SALTO access of each booking: pending (just booked; its access is being worked out, within '
  'seconds), waiting (another booking of the same apartment and facility holds the one permission '
  'SALTO allows; written_from says when it will be written), scheduled (being written), active (in '
  'SALTO), released (finished or cancelled), failed (reason says what to fix). Names, local times in '
  'the building''s time zone and one-line summaries (resident_summary, manager_summary) are at the '
  'end. Managers see their buildings, residents their apartment.';
revoke all on table public.booking_access_states from anon, authenticated, service_role;
grant all on table public.booking_access_states to service_role;
grant select on table public.booking_access_states to authenticated;

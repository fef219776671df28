/*
 * The nightly cleanup: just after each building's local midnight, the salto-cleanup edge function
 * clears finished bookings' permissions from SALTO, hands them to the next waiting bookings, recycles
 * timetable slots, reconciles every managed access level with SALTO (repairing hand edits), checks
 * that SALTO still knows every Zone ID and Access Control ID, and records one report per building and
 * local date.
 *
 * pg_cron (1.4) schedules in UTC and knows no time zones, so the job runs every five minutes and the
 * database decides which buildings are due: those whose local date (at integration.now(), in the
 * building's time zone) has no completed run yet. "Exactly once per building and local date" is the
 * unique key of integration.cleanup_runs plus a claim on that row; a completed run is never redone.
 */

/*
 * Run reports
 */

-- One row per building and local date: the claim that makes the run happen once, and its report.
-- A run that failed (SALTO unreachable, refused, or the function died) is claimed again by a later
-- call; its counts and errors accumulate, so the date keeps one report whatever the number of attempts.
create table integration.cleanup_runs (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null references public.buildings (id) on delete cascade,
  -- The building-local date whose midnight the run follows.
  local_date date not null,
  status text not null check (status in ('running', 'completed', 'failed', 'unreachable')),
  attempts integer not null default 1 check (attempts > 0),
  -- Integration time (integration.now()), so reports line up with the test/demo clock.
  started_at timestamptz not null,
  last_attempt_at timestamptz not null,
  finished_at timestamptz,
  -- Permissions of finished (or cancelled) bookings removed from SALTO, nothing waiting after them.
  cleared integer not null default 0 check (cleared >= 0),
  -- Permissions of finished bookings replaced by the next waiting booking's.
  handed_over integer not null default 0 check (handed_over >= 0),
  -- Differences between SALTO and what this project wrote (removed, altered or added by hand) put right.
  repaired integer not null default 0 check (repaired >= 0),
  -- Booking changes the sync had not written yet, written by the cleanup.
  synced integer not null default 0 check (synced >= 0),
  -- Access levels or zone permissions that could not be brought in line (each one in details.failed).
  failed integer not null default 0 check (failed >= 0),
  slots_recycled integer not null default 0 check (slots_recycled >= 0),
  unknown_ids integer not null default 0 check (unknown_ids >= 0),
  access_levels_checked integer not null default 0 check (access_levels_checked >= 0),
  salto_calls integer not null default 0 check (salto_calls >= 0),
  -- What was cleared, handed over, repaired, synced and failed: arrays of {access_level_id, zone_id, ...}.
  details jsonb not null default '{}',
  -- One entry per attempt that did not complete: {attempt, at, status, message}.
  errors jsonb not null default '[]',
  -- The invocation working on the run, until when (real time: moving the test clock frees nothing).
  claimed_by uuid,
  claimed_until timestamptz,
  constraint cleanup_runs_once_per_local_date unique (building_id, local_date),
  constraint cleanup_runs_finished check ((status = 'running') = (finished_at is null))
);
alter table integration.cleanup_runs enable row level security;
comment on table integration.cleanup_runs is
  'Nightly cleanup: one run (and report) per building and building-local date. Completed runs are never redone; failed or unreachable ones are retried by later calls and accumulate counts and errors.';
comment on column integration.cleanup_runs.local_date is 'The building-local date whose midnight this run follows.';
comment on column integration.cleanup_runs.status is 'running | completed | failed (retried later) | unreachable (SALTO could not be reached; retried later)';

/*
 * Salto IDs SALTO does not know
 */

-- Facilities whose Zone ID and apartments whose Access Control ID SALTO did not list at the last
-- check. A row lives while the problem does: the nightly check deletes it once SALTO knows the ID (or
-- the ID was changed), so managers see the current truth.
create table integration.unknown_salto_ids (
  building_id uuid not null references public.buildings (id) on delete cascade,
  kind text not null check (kind in ('zone', 'access_level')),
  salto_id text not null,
  facility_id uuid references public.facilities (id) on delete cascade,
  apartment_id uuid references public.apartments (id) on delete cascade,
  first_seen_at timestamptz not null default now(),
  last_checked_at timestamptz not null default now(),
  constraint unknown_salto_ids_pkey primary key (building_id, kind, salto_id),
  constraint unknown_salto_ids_owner check (
    (kind = 'zone' and facility_id is not null and apartment_id is null)
    or (kind = 'access_level' and apartment_id is not null and facility_id is null))
);
alter table integration.unknown_salto_ids enable row level security;
comment on table integration.unknown_salto_ids is
  'Zone IDs (facilities) and Access Control IDs (apartments) that SALTO did not know at the last nightly check.';

/*
 * Which bookings a written permission serves
 */

-- Lets the cleanup tell a hand-over (the permission now serves other bookings than the ones it was
-- written for) from a repair (SALTO differs from what was written for the same bookings).
alter table integration.written_permissions add column booking_ids uuid[] not null default '{}';
comment on column integration.written_permissions.booking_ids is
  'The bookings the permission was written for (one group of touching bookings of one apartment and facility).';

/*
 * Which buildings are due
 */

-- Buildings due for their nightly cleanup at `p_at`, with the local date the run is for: the local
-- date at p_at has no completed run, and the building existed before that date began (a building is
-- first cleaned after its first local midnight). Comparing local dates, not clock times, makes this
-- right whatever the time-zone rules do: a 23- or 25-hour night, a half-hour offset, or a zone where
-- midnight itself is skipped (the date still changes at the jump). A run in progress (live claim)
-- is not due. Only buildings with a SALTO server are cleaned.
create function integration.due_cleanups(p_at timestamptz default integration.now())
returns table (building_id uuid, local_date date)
language sql
stable
security definer
set search_path = ''
as $$
  select b.id, (p_at at time zone b.timezone)::date
  from public.buildings as b
  join integration.salto_servers as s on s.building_id = b.id
  where (p_at at time zone b.timezone)::date > (b.created_at at time zone b.timezone)::date
    and not exists (
      select from integration.cleanup_runs as r
      where r.building_id = b.id
        and r.local_date = (p_at at time zone b.timezone)::date
        and (r.status = 'completed' or (r.status = 'running' and r.claimed_until >= pg_catalog.clock_timestamp()))
    )
$$;
comment on function integration.due_cleanups(timestamptz) is
  'Buildings whose nightly cleanup is due at the given instant (default integration.now()), and the local date it is for: local midnight has passed and that date has no completed or running run.';

-- Claims due runs for one invocation: inserts the (building, local date) row, or takes over a failed,
-- unreachable or abandoned one. Concurrent callers never get the same run: the second insert waits
-- for the first transaction and then finds a live claim. `p_building_ids` restricts the claim (an
-- operator re-running one building; tests).
create function integration.claim_cleanup_runs(
  p_invocation uuid,
  p_lease interval,
  p_building_ids uuid[] default null,
  p_limit integer default 100
)
returns table (run_id uuid, building_id uuid, local_date date, attempts integer)
language sql
security definer
set search_path = ''
as $$
  insert into integration.cleanup_runs as r
    (building_id, local_date, status, started_at, last_attempt_at, claimed_by, claimed_until)
  select d.building_id, d.local_date, 'running', integration.now(), integration.now(), p_invocation,
    pg_catalog.clock_timestamp() + p_lease
  from integration.due_cleanups() as d
  where p_building_ids is null or d.building_id = any (p_building_ids)
  order by d.building_id
  limit p_limit
  on conflict (building_id, local_date) do update set
    status = 'running',
    attempts = r.attempts + 1,
    last_attempt_at = excluded.last_attempt_at,
    finished_at = null,
    claimed_by = excluded.claimed_by,
    claimed_until = excluded.claimed_until
    where r.status in ('failed', 'unreachable')
      or (r.status = 'running' and r.claimed_until < pg_catalog.clock_timestamp())
  returning r.id, r.building_id, r.local_date, r.attempts
$$;
comment on function integration.claim_cleanup_runs(uuid, interval, uuid[], integer) is
  'Claims the due nightly cleanup runs (one row per building and local date) for an invocation; a completed run is never claimed again.';

-- Extends the claim on a run while it works; false when the claim was lost.
create function integration.renew_cleanup_claim(p_run_id uuid, p_invocation uuid, p_lease interval)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with renewed as (
    update integration.cleanup_runs as r set claimed_until = pg_catalog.clock_timestamp() + p_lease
    where r.id = p_run_id and r.claimed_by = p_invocation and r.status = 'running'
    returning 1
  )
  select exists (select from renewed)
$$;
comment on function integration.renew_cleanup_claim(uuid, uuid, interval) is
  'Extends an invocation''s claim on a cleanup run; false when it no longer holds it.';

-- Ends an attempt: adds its counts to the run's, appends its details and error, and sets the status.
-- Only the invocation holding the claim may finish it (a late, superseded attempt records nothing).
create function integration.finish_cleanup_run(
  p_run_id uuid,
  p_invocation uuid,
  p_status text,
  p_counts jsonb,
  p_details jsonb,
  p_error text default null
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  kind text;
  merged jsonb;
begin
  if p_status not in ('completed', 'failed', 'unreachable') then
    raise exception 'finish_cleanup_run: status must be completed, failed or unreachable, not %', p_status;
  end if;
  select r.details into merged from integration.cleanup_runs as r
  where r.id = p_run_id and r.claimed_by = p_invocation and r.status = 'running'
  for update;
  if not found then
    return false;
  end if;
  for kind in select pg_catalog.jsonb_object_keys(coalesce(p_details, '{}')) loop
    merged := merged || pg_catalog.jsonb_build_object(kind,
      coalesce(merged -> kind, '[]'::jsonb) || (p_details -> kind));
  end loop;
  update integration.cleanup_runs as r set
    status = p_status,
    finished_at = integration.now(),
    claimed_by = null,
    claimed_until = null,
    cleared = r.cleared + coalesce((p_counts ->> 'cleared')::integer, 0),
    handed_over = r.handed_over + coalesce((p_counts ->> 'handed_over')::integer, 0),
    repaired = r.repaired + coalesce((p_counts ->> 'repaired')::integer, 0),
    synced = r.synced + coalesce((p_counts ->> 'synced')::integer, 0),
    failed = r.failed + coalesce((p_counts ->> 'failed')::integer, 0),
    slots_recycled = r.slots_recycled + coalesce((p_counts ->> 'slots_recycled')::integer, 0),
    -- The latest check's figure, not a sum: the same unknown ID seen twice is one problem.
    unknown_ids = coalesce((p_counts ->> 'unknown_ids')::integer, r.unknown_ids),
    access_levels_checked = greatest(r.access_levels_checked, coalesce((p_counts ->> 'access_levels_checked')::integer, 0)),
    salto_calls = r.salto_calls + coalesce((p_counts ->> 'salto_calls')::integer, 0),
    details = merged,
    errors = case when p_error is null then r.errors else r.errors || pg_catalog.jsonb_build_array(
      pg_catalog.jsonb_build_object('attempt', r.attempts, 'at', integration.now(), 'status', p_status, 'message', p_error)) end
  where r.id = p_run_id;
  return true;
end;
$$;
comment on function integration.finish_cleanup_run(uuid, uuid, text, jsonb, jsonb, text) is
  'Records the outcome of one cleanup attempt: adds its counts, appends its details and error, sets completed, failed or unreachable.';

/*
 * The building's SALTO server: one talker at a time
 */

-- Takes one building's lease (integration.building_leases, shared with the sync) unless another
-- invocation holds it. The cleanup holds it while it talks to the building's SALTO server, so it never
-- writes an access level at the same time as a sync invocation.
create function integration.take_building_lease(p_building_id uuid, p_invocation uuid, p_lease interval)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with taken as (
    insert into integration.building_leases as l (building_id, leased_by, leased_until)
    values (p_building_id, p_invocation, pg_catalog.clock_timestamp() + p_lease)
    on conflict (building_id) do update set leased_by = excluded.leased_by, leased_until = excluded.leased_until
      where l.leased_until < pg_catalog.clock_timestamp() or l.leased_by = excluded.leased_by
    returning 1
  )
  select exists (select from taken)
$$;
comment on function integration.take_building_lease(uuid, uuid, interval) is
  'Takes a building''s SALTO lease for an invocation unless another live invocation holds it.';

/*
 * What the cleanup works on
 */

-- Recomputes the access states of every apartment-facility pair of the building in which time has
-- moved something on: a booking finished (its state becomes released) or a waiting booking's holder
-- finished (it is handed the permission). The minute job does the latter too; the cleanup does it
-- itself so it never depends on that job having run. Returns the number of pairs refreshed.
create function integration.refresh_finished_pairs(p_building_id uuid)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  pair record;
  refreshed integer := 0;
begin
  for pair in
    select distinct ba.apartment_id, ba.facility_id
    from integration.booking_access as ba
    where ba.building_id = p_building_id
      and ba.state <> 'released'
      and (ba.window_end <= integration.now() or (ba.state = 'waiting' and ba.write_at <= integration.now()))
  loop
    perform integration.refresh_pair(pair.apartment_id, pair.facility_id);
    refreshed := refreshed + 1;
  end loop;
  return refreshed;
end;
$$;
comment on function integration.refresh_finished_pairs(uuid) is
  'Releases finished bookings and hands permissions to waiting bookings whose holder finished, for one building; returns the pairs refreshed.';

-- Every access level the cleanup reconciles: each apartment's Access Control ID (a zone we manage
-- added by hand to an apartment without bookings is drift too) and every access level we wrote to
-- (an Access Control ID changed since still holds our permissions until they are removed).
create function integration.cleanup_access_levels(p_building_id uuid)
returns table (access_level_id text, apartment_id uuid)
language sql
stable
security definer
set search_path = ''
as $$
  select a.access_control_id, a.id
  from public.apartments as a
  where a.building_id = p_building_id and a.access_control_id is not null
  union
  select distinct wp.access_level_id, null::uuid
  from integration.written_permissions as wp
  where wp.building_id = p_building_id
    and not exists (
      select from public.apartments as a
      where a.building_id = p_building_id and a.access_control_id = wp.access_level_id)
$$;
comment on function integration.cleanup_access_levels(uuid) is
  'The access levels the nightly cleanup reconciles for a building: every apartment''s Access Control ID, and every access level this project wrote to.';

-- Frees the building's timetable slots no written permission uses any more. SALTO keeps the slot's
-- content (nothing refers to it); the next timetable needing a slot overwrites it.
create function integration.recycle_timetable_slots(p_building_id uuid)
returns integer
language sql
security definer
set search_path = ''
as $$
  with recycled as (
    delete from integration.timetable_slots as ts
    where ts.building_id = p_building_id
      and not exists (
        select from integration.written_permissions as wp
        where wp.building_id = ts.building_id and wp.timetable_id = ts.timetable_id)
    returning 1
  )
  select pg_catalog.count(*)::integer from recycled
$$;
comment on function integration.recycle_timetable_slots(uuid) is
  'Deletes the building''s timetable slot records no written permission uses (the slots become free for reuse); returns how many.';

-- Records which of the building's Zone IDs and Access Control IDs SALTO knows, given the IDs SALTO
-- listed: marks the unknown ones (integration.unknown_salto_ids), clears marks of IDs SALTO knows
-- again (or that were changed), and alerts managers. The alert's dedupe key is the one the sync uses
-- for the same problem, so a manager hears once about an unknown ID, whoever notices it first, and
-- not again every night. Returns the unknown IDs.
create function integration.record_salto_ids_check(
  p_building_id uuid,
  p_known_zone_ids text[],
  p_known_access_level_ids text[]
)
returns table (kind text, salto_id text, facility_id uuid, apartment_id uuid)
language sql
security definer
set search_path = ''
as $$
  with unknown as (
    select 'zone' as kind, f.access_control_facility_id as salto_id, f.id as facility_id,
      null::uuid as apartment_id, f.name as label
    from public.facilities as f
    where f.building_id = p_building_id and f.access_control_facility_id is not null
      and not (f.access_control_facility_id = any (p_known_zone_ids))
    union all
    select 'access_level', a.access_control_id, null::uuid, a.id, a.label
    from public.apartments as a
    where a.building_id = p_building_id and a.access_control_id is not null
      and not (a.access_control_id = any (p_known_access_level_ids))
  ),
  resolved as (
    delete from integration.unknown_salto_ids as u
    where u.building_id = p_building_id
      and not exists (select from unknown as n where n.kind = u.kind and n.salto_id = u.salto_id)
  ),
  marked as (
    insert into integration.unknown_salto_ids as u (building_id, kind, salto_id, facility_id, apartment_id)
    select p_building_id, n.kind, n.salto_id, n.facility_id, n.apartment_id from unknown as n
    on conflict on constraint unknown_salto_ids_pkey do update set
      facility_id = excluded.facility_id, apartment_id = excluded.apartment_id, last_checked_at = pg_catalog.now()
  ),
  alerted as (
    insert into integration.alerts (building_id, kind, details, dedupe_key)
    select p_building_id, 'unknown_salto_id',
      case n.kind
        when 'zone' then pg_catalog.jsonb_build_object(
          'what', 'zone', 'zone_id', n.salto_id, 'facility_id', n.facility_id, 'facility_name', n.label,
          'found_by', 'nightly_check',
          'next_step', 'Set the facility''s Access Control Facility ID in Settings > Facilities to the Zone ID of its zone in SALTO ProAccess SPACE.')
        else pg_catalog.jsonb_build_object(
          'what', 'access_level', 'access_level_id', n.salto_id, 'apartment_id', n.apartment_id, 'apartment_label', n.label,
          'found_by', 'nightly_check',
          'next_step', 'Set the apartment''s Access Control ID in Building > Apartments to the User Access Level EXT ID of its access level in SALTO ProAccess SPACE.')
      end,
      'unknown_salto_id:' || p_building_id || ':' || n.kind || ':' || n.salto_id
    from unknown as n
    on conflict (dedupe_key) do nothing
  )
  select n.kind, n.salto_id, n.facility_id, n.apartment_id from unknown as n
$$;
comment on function integration.record_salto_ids_check(uuid, text[], text[]) is
  'Marks the building''s Zone IDs and Access Control IDs that SALTO does not list (and unmarks the ones it lists again), with one alert per unknown ID.';

/*
 * The job
 */

-- Wakes the salto-cleanup edge function when some building is due. The URL and the function secret
-- come from Vault (secrets `project_url` and `functions_secret`), as for the sync; without them
-- nothing is sent. pg_net never retries: a lost call is made up by the job's next run five minutes
-- later, well within the quarter hour after midnight the cleanup has.
create function integration.wake_cleanup()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  functions_secret text;
begin
  if not exists (select from integration.due_cleanups()) then
    return;
  end if;
  select s.decrypted_secret into project_url from vault.decrypted_secrets as s where s.name = 'project_url';
  select s.decrypted_secret into functions_secret from vault.decrypted_secrets as s where s.name = 'functions_secret';
  if project_url is null or functions_secret is null then
    return;
  end if;

  perform net.http_post(
    url => project_url || '/functions/v1/salto-cleanup',
    body => '{"reason": "schedule"}'::jsonb,
    headers => pg_catalog.jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' || functions_secret),
    timeout_milliseconds => 5000
  );
end;
$$;
comment on function integration.wake_cleanup() is
  'Every five minutes (pg_cron): asks pg_net to call the salto-cleanup function when a building''s nightly cleanup is due.';

-- Every five minutes: every zone's offset is a whole number of quarter hours, so the job runs at
-- each building's local midnight itself, and a missed or failed call is retried within the quarter.
select cron.schedule('salto-nightly-cleanup', '*/5 * * * *', 'select integration.wake_cleanup()');

grant select, insert, update, delete on integration.cleanup_runs, integration.unknown_salto_ids to service_role;
grant execute on all functions in schema integration to service_role;
-- Functions are executable by PUBLIC by default: take that back explicitly (see 20261129001300).
revoke execute on all functions in schema integration from public;

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
 * unique key of integration.cleanup_runs plus a lease on that row; a completed run is never redone.
 */
/*
 * Run reports
 */
-- One row per building and local date: the lease that makes the run happen once, and its report.
-- A run that failed (SALTO unreachable, refused, or the function died) is leased again by a later
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
  -- Differences between SALTO and what this project wrote (removed or altered by hand) put right; a
  -- permission this project did not write is never repaired (details.permanent reports those on
  -- facilities' zones).
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
  leased_by uuid,
  leased_until timestamptz,
  -- How far the run has got: the last access level (in the order of their IDs) a call cleaned and
  -- recorded. A building is cleaned a slice of access levels per call (src/shared/cleanup/engine.ts,
  -- CLEANUP_ACCESS_LEVELS); the next call goes on after it. Null: no slice done yet.
  resume_after text,
  constraint cleanup_runs_once_per_local_date unique (building_id, local_date),
  constraint cleanup_runs_finished check ((status = 'running') = (finished_at is null))
);
comment on table integration.cleanup_runs is
  'Nightly cleanup: one run (and report) per building and building-local date. Completed runs are '
  'never redone; failed or unreachable ones are retried by later calls and accumulate counts and '
  'errors.';
comment on column integration.cleanup_runs.local_date is
  'The building-local date whose midnight this run follows.';
comment on column integration.cleanup_runs.status is
  'running | completed | failed (retried later) | unreachable (SALTO could not be reached; retried '
  'later)';
comment on column integration.cleanup_runs.resume_after is
  'The last access level (by ID) the run has cleaned; the next call of a running run goes on after '
  'it. Null: none yet.';
grant select, insert, update, delete on table integration.cleanup_runs to service_role;
grant select on table integration.cleanup_runs to authenticated;
alter table integration.cleanup_runs enable row level security;
create policy "Managers can read cleanup reports of their buildings"
  on integration.cleanup_runs for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

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
comment on table integration.unknown_salto_ids is
  'Zone IDs (facilities) and Access Control IDs (apartments) that SALTO did not know at the last '
  'nightly check.';
grant select, insert, update, delete on table integration.unknown_salto_ids to service_role;
grant select on table integration.unknown_salto_ids to authenticated;
alter table integration.unknown_salto_ids enable row level security;
create policy "Managers can read unknown SALTO IDs of their buildings"
  on integration.unknown_salto_ids for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));
comment on column integration.unknown_salto_ids.kind is
  'zone: a facility''s Access Control Facility ID; access_level: an apartment''s Access Control ID.';
comment on column integration.unknown_salto_ids.salto_id is 'The ID, as saved in connecX, that SALTO does not list.';
comment on column integration.unknown_salto_ids.first_seen_at is 'When a check first found SALTO does not know it.';
comment on column integration.unknown_salto_ids.last_checked_at is 'When a check last found SALTO does not know it.';

/*
 * IDs checked when they are saved
 *
 * Saving a facility's Zone ID (access_control_facility_id) or an apartment's Access Control ID queues a
 * check of that ID against the building's SALTO server and wakes the salto-sync function, which asks
 * SALTO within seconds (src/shared/sync/id-checks.ts) under the building's lease, bookings or not. A
 * wrong ID is marked unknown (here and in unknown_salto_ids) with the closest IDs SALTO has, and raises
 * an unknown_salto_id alert, whose email goes out as for any configuration problem. A fixed or found
 * ID resolves that alert.
 *
 * One rule for case: an ID matches only when spelled exactly as SALTO lists it. SALTO's handling of
 * case in ExtIDs is not documented; exact spelling works whichever it is, and the check names the ID
 * SALTO lists when only the case differs ("did you mean POOL?"). Two IDs of one building may not
 * differ only in case (the unique indexes on lower()), as SALTO may treat them as one.
 */
create table integration.salto_id_checks (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null references public.buildings (id) on delete cascade,
  kind text not null check (kind in ('zone', 'access_level')),
  facility_id uuid unique references public.facilities (id) on delete cascade,
  apartment_id uuid unique references public.apartments (id) on delete cascade,
  salto_id text not null,
  status text not null default 'pending'
    check (status in ('pending', 'known', 'unknown', 'unreachable', 'not_checked')),
  message text,
  suggestions text[] not null default '{}',
  requested_at timestamptz not null default now(),
  checked_at timestamptz,
  constraint salto_id_checks_owner check (
    (kind = 'zone' and facility_id is not null and apartment_id is null)
    or (kind = 'access_level' and apartment_id is not null and facility_id is null))
);
comment on table integration.salto_id_checks is
  'The last check of each facility''s Zone ID and each apartment''s Access Control ID against '
  'SALTO, made within seconds of saving it.';
comment on column integration.salto_id_checks.kind is
  'zone: a facility''s Access Control Facility ID; access_level: an apartment''s Access Control ID.';
comment on column integration.salto_id_checks.salto_id is 'The ID checked, as saved.';
comment on column integration.salto_id_checks.status is
  'pending (being checked) | known (SALTO lists it) | unknown (SALTO does not list it) | unreachable '
  '(SALTO did not answer; checked again within minutes) | not_checked (the building has no SALTO '
  'server configured).';
comment on column integration.salto_id_checks.message is 'What the check found, in words a manager can act on.';
comment on column integration.salto_id_checks.suggestions is
  'For an unknown ID: the closest IDs SALTO lists (the same letters in another case first).';
comment on column integration.salto_id_checks.requested_at is 'When the ID was saved (the check was asked for).';
comment on column integration.salto_id_checks.checked_at is 'When SALTO was last asked.';
grant select, insert, update, delete on table integration.salto_id_checks to service_role;
grant select on table integration.salto_id_checks to authenticated;
alter table integration.salto_id_checks enable row level security;
create policy "Managers can read SALTO ID checks of their buildings"
  on integration.salto_id_checks for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));
create index salto_id_checks_building_id_idx on integration.salto_id_checks (building_id);
create index salto_id_checks_due_idx on integration.salto_id_checks (requested_at)
  where status in ('pending', 'unreachable');

-- The dedupe key of the alert about an unknown ID (the sync engine, the nightly check and the ID
-- check use the same, so a manager hears once about one problem, whoever notices it first).
create function integration.unknown_salto_id_key(p_building_id uuid, p_kind text, p_salto_id text)
returns text
language sql
immutable
set search_path = ''
as $$
  select 'unknown_salto_id:' || p_building_id || ':' || p_kind || ':' || p_salto_id
$$;
comment on function integration.unknown_salto_id_key(uuid, text, text) is
  'Dedupe key of the unknown_salto_id alert about one ID of a building.';
revoke execute on function integration.unknown_salto_id_key(uuid, text, text) from public;
grant execute on function integration.unknown_salto_id_key(uuid, text, text) to service_role;

-- What a manager does about an unknown ID: the portal screen and the Studio table and column.
create function integration.unknown_salto_id_next_step(p_kind text, p_suggestions text[])
returns text
language sql
immutable
set search_path = ''
as $$
  select case p_kind
    when 'zone' then 'Set the facility''s Access Control Facility ID in Settings > Facilities (Studio: '
      || 'table public.facilities, column access_control_facility_id) to the Zone ID of its zone in SALTO '
      || 'ProAccess SPACE, spelled exactly as SALTO lists it.'
    else 'Set the apartment''s Access Control ID in Building > Apartments (Studio: table public.apartments, '
      || 'column access_control_id) to the User Access Level EXT ID of its access level in SALTO ProAccess '
      || 'SPACE, spelled exactly as SALTO lists it.'
  end
  || case when pg_catalog.cardinality(p_suggestions) > 0
    then ' Did you mean ' || (
      select pg_catalog.string_agg(pg_catalog.format('"%s"', s.id), ' or ' order by s.ord)
      from pg_catalog.unnest(p_suggestions) with ordinality as s (id, ord)) || '?'
    else '' end
$$;
comment on function integration.unknown_salto_id_next_step(text, text[]) is
  'The fix for an unknown Zone ID (zone) or Access Control ID (access_level), naming the portal '
  'screen and the Studio table and column, with the closest IDs SALTO lists.';
revoke execute on function integration.unknown_salto_id_next_step(text, text[]) from public;
grant execute on function integration.unknown_salto_id_next_step(text, text[]) to service_role;

-- A Zone ID or Access Control ID was saved: the old ID's problem (if any) is over, the new one is
-- queued for a check and the sync woken. Saving the same ID again checks it again unless SALTO
-- already knew it.
create function integration.queue_salto_id_check(
  p_building_id uuid, p_kind text, p_facility_id uuid, p_apartment_id uuid, p_old_id text, p_new_id text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  what text := case p_kind when 'zone' then 'Zone ID' else 'Access Control ID' end;
  queued integer;
begin
  if p_old_id is not null and p_old_id is distinct from p_new_id then
    perform integration.resolve_alert(integration.unknown_salto_id_key(p_building_id, p_kind, p_old_id),
      case when p_new_id is null then pg_catalog.format('The %s was cleared.', what)
        else pg_catalog.format('The %s was changed to "%s".', what, p_new_id) end);
    delete from integration.unknown_salto_ids as u
    where u.building_id = p_building_id and u.kind = p_kind and u.salto_id = p_old_id;
  end if;

  if p_new_id is null then
    delete from integration.salto_id_checks as c
    where c.facility_id = p_facility_id or c.apartment_id = p_apartment_id;
    return;
  end if;

  if p_kind = 'zone' then
    insert into integration.salto_id_checks as c (building_id, kind, facility_id, salto_id)
    values (p_building_id, p_kind, p_facility_id, p_new_id)
    on conflict (facility_id) do update set
      salto_id = excluded.salto_id, status = 'pending', message = null, suggestions = '{}',
      requested_at = pg_catalog.now(), checked_at = null
    where c.salto_id is distinct from excluded.salto_id or c.status <> 'known';
  else
    insert into integration.salto_id_checks as c (building_id, kind, apartment_id, salto_id)
    values (p_building_id, p_kind, p_apartment_id, p_new_id)
    on conflict (apartment_id) do update set
      salto_id = excluded.salto_id, status = 'pending', message = null, suggestions = '{}',
      requested_at = pg_catalog.now(), checked_at = null
    where c.salto_id is distinct from excluded.salto_id or c.status <> 'known';
  end if;
  get diagnostics queued = row_count;
  if queued > 0 then
    perform integration.wake_sync();
  end if;
end;
$$;
comment on function integration.queue_salto_id_check(uuid, text, uuid, uuid, text, text) is
  'A Zone ID or Access Control ID was saved: resolves the old ID''s unknown_salto_id alert, queues '
  'the new ID''s check against SALTO and wakes the sync.';
revoke execute on function integration.queue_salto_id_check(uuid, text, uuid, uuid, text, text) from public;
grant execute on function integration.queue_salto_id_check(uuid, text, uuid, uuid, text, text) to service_role;

create function integration.on_facility_zone_id_saved()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform integration.queue_salto_id_check(new.building_id, 'zone', new.id, null,
    case when tg_op = 'UPDATE' then old.access_control_facility_id end, new.access_control_facility_id);
  return null;
end;
$$;
comment on function integration.on_facility_zone_id_saved() is
  'Trigger: a facility''s Zone ID was saved; queues its check against SALTO.';
revoke execute on function integration.on_facility_zone_id_saved() from public;
create trigger check_salto_id
  after insert or update of access_control_facility_id on public.facilities
  for each row execute function integration.on_facility_zone_id_saved();

create function integration.on_apartment_access_control_id_saved()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform integration.queue_salto_id_check(new.building_id, 'access_level', null, new.id,
    case when tg_op = 'UPDATE' then old.access_control_id end, new.access_control_id);
  return null;
end;
$$;
comment on function integration.on_apartment_access_control_id_saved() is
  'Trigger: an apartment''s Access Control ID was saved; queues its check against SALTO.';
revoke execute on function integration.on_apartment_access_control_id_saved() from public;
create trigger check_salto_id
  after insert or update of access_control_id on public.apartments
  for each row execute function integration.on_apartment_access_control_id_saved();

-- Checks due: pending, SALTO did not answer five minutes ago, or not checked for want of a SALTO
-- server that the building has now.
create function integration.salto_id_checks_due()
returns setof integration.salto_id_checks
language sql
stable
security definer
set search_path = ''
as $$
  select c.* from integration.salto_id_checks as c
  where c.status = 'pending'
    or (c.status = 'unreachable' and c.checked_at < pg_catalog.now() - interval '5 minutes')
    or (c.status = 'not_checked'
      and exists (select from integration.salto_servers as s where s.building_id = c.building_id))
$$;
comment on function integration.salto_id_checks_due() is
  'ID checks to make: pending ones, those SALTO did not answer more than five minutes ago, and those '
  'not checked for want of a SALTO server that the building has now.';
revoke execute on function integration.salto_id_checks_due() from public;
grant execute on function integration.salto_id_checks_due() to service_role;

-- Leases up to p_limit buildings with due ID checks that no live invocation holds, and returns each
-- with its context (integration.building_context) and its due checks. The checks of a building
-- without a SALTO server are marked not_checked.
create function integration.take_salto_id_checks(p_invocation uuid, p_lease interval, p_limit integer default 10)
returns setof jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  due_building uuid;
  taken integer := 0;
begin
  update integration.salto_id_checks as c
  set status = 'not_checked', checked_at = pg_catalog.now(),
    message = 'Not checked: the building has no SALTO server configured (integration.salto_servers).'
  where c.id in (select d.id from integration.salto_id_checks_due() as d)
    and not exists (select from integration.salto_servers as s where s.building_id = c.building_id);

  for due_building in
    select distinct d.building_id from integration.salto_id_checks_due() as d order by d.building_id
  loop
    exit when taken >= p_limit;
    if integration.take_building_lease(due_building, p_invocation, p_lease) then
      taken := taken + 1;
      return next pg_catalog.jsonb_build_object(
        'building', integration.building_context(due_building),
        'checks', (
          select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', d.id, 'kind', d.kind, 'salto_id', d.salto_id)
            order by d.requested_at)
          from integration.salto_id_checks_due() as d where d.building_id = due_building));
    end if;
  end loop;
end;
$$;
comment on function integration.take_salto_id_checks(uuid, interval, integer) is
  'Leases buildings with due SALTO ID checks (up to p_limit) and returns each with its context and '
  'due checks, as JSON.';
revoke execute on function integration.take_salto_id_checks(uuid, interval, integer) from public;
grant execute on function integration.take_salto_id_checks(uuid, interval, integer) to service_role;

-- Records what SALTO answered for the checks taken (p_results: [{id, salto_id, status known, unknown
-- or unreachable, suggestions, error}]) and releases the building's lease. A check whose ID was saved
-- again meanwhile is left pending for the next pass. An unknown ID is marked (unknown_salto_ids) and
-- alerted; a known one is unmarked and its alert resolved.
create function integration.record_salto_id_checks(p_building_id uuid, p_invocation uuid, p_results jsonb)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  checked integer := 0;
  what text;
begin
  for r in
    select c.id, c.kind, c.salto_id, c.facility_id, c.apartment_id, res.status, res.error,
      coalesce(array(select pg_catalog.jsonb_array_elements_text(res.suggestions)), '{}') as suggestions,
      coalesce(f.name, a.label) as label
    from pg_catalog.jsonb_to_recordset(p_results) as res (id uuid, salto_id text, status text, suggestions jsonb, error text)
    join integration.salto_id_checks as c
      on c.id = res.id and c.salto_id = res.salto_id and c.building_id = p_building_id
    left join public.facilities as f on f.id = c.facility_id
    left join public.apartments as a on a.id = c.apartment_id
    where c.status in ('pending', 'unreachable') and res.status in ('known', 'unknown', 'unreachable')
    for update of c
  loop
    checked := checked + 1;
    what := case r.kind when 'zone' then 'Zone ID' else 'Access Control ID' end;
    update integration.salto_id_checks as c
    set status = r.status, suggestions = r.suggestions, checked_at = pg_catalog.now(),
      message = case r.status
        when 'known' then pg_catalog.format('SALTO knows the %s "%s".', what, r.salto_id)
        when 'unknown' then pg_catalog.format('SALTO has no %s "%s". ',
            case r.kind when 'zone' then 'zone with the Zone ID' else 'user access level with the EXT ID' end, r.salto_id)
          || integration.unknown_salto_id_next_step(r.kind, r.suggestions)
        else pg_catalog.format('SALTO could not be asked (%s); checked again within minutes.', coalesce(r.error, 'no answer'))
      end
    where c.id = r.id;

    if r.status = 'known' then
      delete from integration.unknown_salto_ids as u
      where u.building_id = p_building_id and u.kind = r.kind and u.salto_id = r.salto_id;
      perform integration.resolve_alert(integration.unknown_salto_id_key(p_building_id, r.kind, r.salto_id),
        pg_catalog.format('SALTO knows the %s "%s" now.', what, r.salto_id));
    elsif r.status = 'unknown' then
      insert into integration.unknown_salto_ids as u (building_id, kind, salto_id, facility_id, apartment_id)
      values (p_building_id, r.kind, r.salto_id, r.facility_id, r.apartment_id)
      on conflict on constraint unknown_salto_ids_pkey do update set
        facility_id = excluded.facility_id, apartment_id = excluded.apartment_id, last_checked_at = pg_catalog.now();
      insert into integration.alerts (building_id, kind, details, dedupe_key)
      values (p_building_id, 'unknown_salto_id',
        case r.kind
          when 'zone' then pg_catalog.jsonb_build_object('what', 'zone', 'zone_id', r.salto_id,
            'facility_id', r.facility_id, 'facility_name', r.label)
          else pg_catalog.jsonb_build_object('what', 'access_level', 'access_level_id', r.salto_id,
            'apartment_id', r.apartment_id, 'apartment_label', r.label)
        end || pg_catalog.jsonb_build_object('found_by', 'id_check', 'suggestions', r.suggestions,
          'next_step', integration.unknown_salto_id_next_step(r.kind, r.suggestions)),
        integration.unknown_salto_id_key(p_building_id, r.kind, r.salto_id))
      on conflict (dedupe_key) do nothing;
    end if;
  end loop;
  perform integration.release_lease(p_building_id, p_invocation);
  return checked;
end;
$$;
comment on function integration.record_salto_id_checks(uuid, uuid, jsonb) is
  'Records SALTO''s answers to a building''s ID checks (known, unknown with suggestions, '
  'unreachable), marks and alerts unknown IDs, resolves the alerts of known ones, and releases the '
  'building''s lease; returns how many checks it recorded.';
revoke execute on function integration.record_salto_id_checks(uuid, uuid, jsonb) from public;
grant execute on function integration.record_salto_id_checks(uuid, uuid, jsonb) to service_role;

/*
 * Which buildings are due
 */
-- Buildings due for their nightly cleanup at `p_at`, with the local date the run is for: the local
-- date at p_at has no completed run, and the building existed before that date began (a building is
-- first cleaned after its first local midnight). Comparing local dates, not clock times, makes this
-- right whatever the time-zone rules do: a 23- or 25-hour night, a half-hour offset, or a zone where
-- midnight itself is skipped (the date still changes at the jump). A run in progress (live lease)
-- is not due; one between two slices (no lease) is. Only buildings with a SALTO server are cleaned.
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
        and (r.status = 'completed' or (r.status = 'running' and r.leased_until >= pg_catalog.clock_timestamp()))
    )
$$;
comment on function integration.due_cleanups(timestamptz) is
  'Buildings whose nightly cleanup is due at the given instant (default integration.now()), and the '
  'local date it is for: local midnight has passed and that date has no completed or running run.';
revoke execute on function integration.due_cleanups(timestamp with time zone) from public;
grant execute on function integration.due_cleanups(timestamp with time zone) to service_role;

-- Leases due runs to one invocation: inserts the (building, local date) row, or takes over a failed,
-- unreachable or abandoned one. Concurrent callers never get the same run: the second insert waits
-- for the first transaction and then finds a live lease. `p_building_ids` restricts the lease (an
-- operator re-running one building; tests). Without `p_retry_failed`, runs whose last attempt failed
-- or found SALTO unreachable are left for a later call (the five-minute job retries them). A run
-- between two slices (running, no lease: integration.finish_cleanup_run with 'paused') is taken
-- first and goes on where it stopped, as the same attempt.
create function integration.lease_cleanup_runs(
  p_invocation uuid,
  p_lease interval,
  p_building_ids uuid[] default null,
  p_limit integer default 100,
  p_retry_failed boolean default true
)
returns table (run_id uuid, building_id uuid, local_date date, attempts integer)
language sql
security definer
set search_path = ''
as $$
  insert into integration.cleanup_runs as r
    (building_id, local_date, status, started_at, last_attempt_at, leased_by, leased_until)
  select d.building_id, d.local_date, 'running', integration.now(), integration.now(), p_invocation,
    pg_catalog.clock_timestamp() + p_lease
  from integration.due_cleanups() as d
  where (p_building_ids is null or d.building_id = any (p_building_ids))
    and (p_retry_failed or not exists (
      select from integration.cleanup_runs as f
      where f.building_id = d.building_id and f.local_date = d.local_date and f.status in ('failed', 'unreachable')))
  order by exists (
      select from integration.cleanup_runs as p
      where p.building_id = d.building_id and p.local_date = d.local_date and p.status = 'running'
        and p.leased_by is null) desc,
    d.building_id
  limit p_limit
  on conflict (building_id, local_date) do update set
    status = 'running',
    attempts = r.attempts + case when r.status = 'running' and r.leased_by is null then 0 else 1 end,
    last_attempt_at = excluded.last_attempt_at,
    finished_at = null,
    leased_by = excluded.leased_by,
    leased_until = excluded.leased_until
    where r.status in ('failed', 'unreachable')
      or (r.status = 'running' and (r.leased_by is null or r.leased_until < pg_catalog.clock_timestamp()))
  returning r.id, r.building_id, r.local_date, r.attempts
$$;
comment on function integration.lease_cleanup_runs(uuid, interval, uuid[], integer, boolean) is
  'Leases the due nightly cleanup runs (one row per building and local date) for an invocation, runs '
  'between two slices first; a completed run is never leased again; failed ones only when '
  'p_retry_failed.';
revoke execute on function integration.lease_cleanup_runs(uuid, interval, uuid[], integer, boolean) from public;
grant execute on function integration.lease_cleanup_runs(uuid, interval, uuid[], integer, boolean) to service_role;

-- The salto-cleanup invocation a dispatch called (integration.dispatch_cleanups) takes its one run
-- over from the dispatch: nothing when the dispatch's lease is gone (the call came too late; the run
-- is dispatched again) or the run was never this dispatch's.
create function integration.take_cleanup_run(p_run_id uuid, p_dispatch uuid, p_invocation uuid, p_lease interval)
returns table (run_id uuid, building_id uuid, local_date date, attempts integer)
language sql
security definer
set search_path = ''
as $$
  update integration.cleanup_runs as r set
    leased_by = p_invocation,
    leased_until = pg_catalog.clock_timestamp() + p_lease
  where r.id = p_run_id and r.leased_by = p_dispatch and r.status = 'running'
    and r.leased_until >= pg_catalog.clock_timestamp()
  returning r.id, r.building_id, r.local_date, r.attempts
$$;
comment on function integration.take_cleanup_run(uuid, uuid, uuid, interval) is
  'Hands a run leased by integration.dispatch_cleanups to the salto-cleanup invocation it called; '
  'empty when the dispatch no longer holds it.';
revoke execute on function integration.take_cleanup_run(uuid, uuid, uuid, interval) from public;
grant execute on function integration.take_cleanup_run(uuid, uuid, uuid, interval) to service_role;

-- Extends the lease on a run while it works; false when the lease was lost.
create function integration.renew_cleanup_lease(p_run_id uuid, p_invocation uuid, p_lease interval)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with renewed as (
    update integration.cleanup_runs as r set leased_until = pg_catalog.clock_timestamp() + p_lease
    where r.id = p_run_id and r.leased_by = p_invocation and r.status = 'running'
    returning 1
  )
  select exists (select from renewed)
$$;
comment on function integration.renew_cleanup_lease(uuid, uuid, interval) is
  'Extends an invocation''s lease on a cleanup run; false when it no longer holds it.';
revoke execute on function integration.renew_cleanup_lease(uuid, uuid, interval) from public;
grant execute on function integration.renew_cleanup_lease(uuid, uuid, interval) to service_role;

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
  'The access levels the nightly cleanup reconciles for a building: every apartment''s Access '
  'Control ID, and every access level this project wrote to.';
revoke execute on function integration.cleanup_access_levels(uuid) from public;
grant execute on function integration.cleanup_access_levels(uuid) to service_role;

-- Ends an attempt, or a slice of one: adds its counts to the run's, appends its details and error,
-- and sets the status. 'paused' ends a slice of access levels (src/shared/cleanup/engine.ts,
-- CLEANUP_ACCESS_LEVELS) with more to do: the run stays running, records how far it got
-- (p_resume_after, the last access level cleaned), gives up its lease and is dispatched again at once
-- (integration.lease_cleanup_runs takes such runs first), as the same attempt. Access levels checked
-- count once a slice is done: those of a failed attempt are checked again by the retry, which goes on
-- from the last slice done. Only the invocation holding the lease may finish it (a late, superseded
-- attempt records nothing). The run's place is then given to the next due building
-- (integration.dispatch_cleanups), so a night of many buildings is worked through a few invocations at
-- a time; failed runs wait for the five-minute job, so one building that keeps failing is retried
-- without holding up the others.
create function integration.finish_cleanup_run(
  p_run_id uuid,
  p_invocation uuid,
  p_status text,
  p_counts jsonb,
  p_details jsonb,
  p_error text default null,
  p_resume_after text default null
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  kind text;
  merged jsonb;
  paused boolean := p_status = 'paused';
  done boolean := p_status in ('completed', 'paused');
begin
  if p_status not in ('completed', 'paused', 'failed', 'unreachable') then
    raise exception 'finish_cleanup_run: status must be completed, paused, failed or unreachable, not %', p_status;
  end if;
  if paused and p_resume_after is null then
    raise exception 'finish_cleanup_run: a paused run needs the last access level it cleaned (p_resume_after)';
  end if;
  select r.details into merged from integration.cleanup_runs as r
  where r.id = p_run_id and r.leased_by = p_invocation and r.status = 'running'
  for update;
  if not found then
    return false;
  end if;
  for kind in select pg_catalog.jsonb_object_keys(coalesce(p_details, '{}')) loop
    merged := merged || pg_catalog.jsonb_build_object(kind,
      coalesce(merged -> kind, '[]'::jsonb) || (p_details -> kind));
  end loop;
  update integration.cleanup_runs as r set
    status = case when paused then 'running' else p_status end,
    finished_at = case when paused then null else integration.now() end,
    leased_by = null,
    leased_until = null,
    resume_after = case when paused then p_resume_after else r.resume_after end,
    cleared = r.cleared + coalesce((p_counts ->> 'cleared')::integer, 0),
    handed_over = r.handed_over + coalesce((p_counts ->> 'handed_over')::integer, 0),
    repaired = r.repaired + coalesce((p_counts ->> 'repaired')::integer, 0),
    synced = r.synced + coalesce((p_counts ->> 'synced')::integer, 0),
    failed = r.failed + coalesce((p_counts ->> 'failed')::integer, 0),
    slots_recycled = r.slots_recycled + coalesce((p_counts ->> 'slots_recycled')::integer, 0),
    -- The latest check's figure, not a sum: the same unknown ID seen twice is one problem (a slice
    -- after the first does not check the IDs and sends none).
    unknown_ids = coalesce((p_counts ->> 'unknown_ids')::integer, r.unknown_ids),
    access_levels_checked = r.access_levels_checked
      + case when done then coalesce((p_counts ->> 'access_levels_checked')::integer, 0) else 0 end,
    salto_calls = r.salto_calls + coalesce((p_counts ->> 'salto_calls')::integer, 0),
    details = merged,
    errors = case when p_error is null then r.errors else r.errors || pg_catalog.jsonb_build_array(
      pg_catalog.jsonb_build_object('attempt', r.attempts, 'at', integration.now(), 'status', p_status, 'message', p_error)) end
  where r.id = p_run_id;
  perform integration.dispatch_cleanups(p_retry_failed => false);
  return true;
end;
$$;
comment on function integration.finish_cleanup_run(uuid, uuid, text, jsonb, jsonb, text, text) is
  'Records the outcome of one cleanup attempt or slice: adds its counts, appends its details and '
  'error, sets completed, failed or unreachable; paused keeps the run running from p_resume_after '
  '(the last access level cleaned) and dispatches it again.';
revoke execute on function integration.finish_cleanup_run(uuid, uuid, text, jsonb, jsonb, text, text) from public;
grant execute on function integration.finish_cleanup_run(uuid, uuid, text, jsonb, jsonb, text, text) to service_role;

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
  -- Open alerts about IDs of the building that are no longer unknown (found in SALTO, or changed).
  resolved_alerts as (
    update integration.alerts as a
    set resolved_at = pg_catalog.now(),
      resolution = 'The nightly check found no unknown ID here any more.'
    where a.building_id = p_building_id and a.kind = 'unknown_salto_id' and a.resolved_at is null
      and not exists (
        select from unknown as n
        where a.dedupe_key = integration.unknown_salto_id_key(p_building_id, n.kind, n.salto_id))
  ),
  rechecked as (
    update integration.salto_id_checks as c
    set status = 'known', checked_at = pg_catalog.now(), suggestions = '{}',
      message = pg_catalog.format('SALTO knows the %s "%s" (nightly check).',
        case c.kind when 'zone' then 'Zone ID' else 'Access Control ID' end, c.salto_id)
    where c.building_id = p_building_id and c.status in ('unknown', 'known')
      and not exists (select from unknown as n where n.kind = c.kind and n.salto_id = c.salto_id)
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
          'next_step', integration.unknown_salto_id_next_step('zone', '{}'))
        else pg_catalog.jsonb_build_object(
          'what', 'access_level', 'access_level_id', n.salto_id, 'apartment_id', n.apartment_id, 'apartment_label', n.label,
          'found_by', 'nightly_check',
          'next_step', integration.unknown_salto_id_next_step('access_level', '{}'))
      end,
      integration.unknown_salto_id_key(p_building_id, n.kind, n.salto_id)
    from unknown as n
    on conflict (dedupe_key) do nothing
  )
  select n.kind, n.salto_id, n.facility_id, n.apartment_id from unknown as n
$$;
comment on function integration.record_salto_ids_check(uuid, text[], text[]) is
  'Marks the building''s Zone IDs and Access Control IDs that SALTO does not list (and unmarks the '
  'ones it lists again), with one alert per unknown ID.';
revoke execute on function integration.record_salto_ids_check(uuid, text[], text[]) from public;
grant execute on function integration.record_salto_ids_check(uuid, text[], text[]) to service_role;

create view public.cleanup_reports
with (security_invoker = true)
as
  select
    r.id,
    r.building_id,
    r.local_date,
    r.status,
    r.attempts,
    r.started_at,
    r.finished_at,
    r.cleared,
    r.handed_over,
    r.repaired,
    r.synced,
    r.failed,
    r.slots_recycled,
    r.unknown_ids,
    r.access_levels_checked,
    r.salto_calls,
    r.details,
    r.errors
  from integration.cleanup_runs as r;
comment on view public.cleanup_reports is
  'Nightly cleanup report per building and local date: cleared (finished bookings'' permissions '
  'removed from SALTO), handed_over (given to the next waiting booking), repaired (SALTO edited by '
  'hand, put back), synced, failed; details lists each, errors each failed attempt. Managers see '
  'their buildings.';
comment on column public.cleanup_reports.id is 'The cleanup run.';
comment on column public.cleanup_reports.building_id is 'The building cleaned.';
comment on column public.cleanup_reports.attempts is 'How many times the run was attempted (a failed attempt is retried).';
comment on column public.cleanup_reports.started_at is 'When the first attempt started.';
comment on column public.cleanup_reports.finished_at is 'When the run completed (null while running or failing).';
comment on column public.cleanup_reports.access_levels_checked is 'Access levels read from SALTO and compared with the bookings.';
comment on column public.cleanup_reports.details is
  'What was done, per kind (cleared, handed_over, repaired, failed, permanent), as JSON.';
comment on column public.cleanup_reports.errors is 'Each failed attempt''s error, as JSON.';
comment on column public.cleanup_reports.local_date is
  'The building-local date whose midnight the cleanup followed.';
comment on column public.cleanup_reports.status is
  'running | completed | failed or unreachable (retried by the next call, every five minutes)';
comment on column public.cleanup_reports.cleared is
  'Permissions of finished or cancelled bookings removed from SALTO.';
comment on column public.cleanup_reports.handed_over is
  'Permissions of finished bookings given to the next waiting booking of the same apartment and '
  'facility.';
comment on column public.cleanup_reports.repaired is
  'Permissions this project wrote that SALTO had lost, or that were changed by hand in SALTO, put '
  'back as the bookings say. Permissions it did not write are never repaired: details.permanent '
  'lists the facilities'' zones apartments hold so (see shared_facility_zones).';
comment on column public.cleanup_reports.synced is 'Booking changes not yet in SALTO that the cleanup wrote.';
comment on column public.cleanup_reports.failed is
  'Access levels or permissions that could not be brought in line; details.failed says why.';
comment on column public.cleanup_reports.slots_recycled is 'SALTO timetable slots freed for reuse.';
comment on column public.cleanup_reports.unknown_ids is
  'Zone IDs and Access Control IDs SALTO did not know (see unknown_salto_ids).';
comment on column public.cleanup_reports.salto_calls is
  'SHIP requests the cleanup sent to the building''s SALTO server.';
revoke all on table public.cleanup_reports from anon, authenticated, service_role;
grant all on table public.cleanup_reports to service_role;
grant select on table public.cleanup_reports to authenticated;

create view public.unknown_salto_ids
with (security_invoker = true)
as
  select u.building_id, u.kind, u.salto_id, u.facility_id, u.apartment_id, u.first_seen_at, u.last_checked_at,
    f.name as facility_name, a.label as apartment_label, c.suggestions
  from integration.unknown_salto_ids as u
  left join public.facilities as f on f.id = u.facility_id
  left join public.apartments as a on a.id = u.apartment_id
  left join integration.salto_id_checks as c
    on (c.facility_id = u.facility_id or c.apartment_id = u.apartment_id) and c.salto_id = u.salto_id;
comment on view public.unknown_salto_ids is
  'Facilities whose Access Control Facility ID is not a Zone ID in SALTO (kind zone), and '
  'apartments whose Access Control ID is not a User Access Level EXT ID in SALTO (kind '
  'access_level), as of the last check (when the ID was saved, and every night). Fix a zone in '
  'Settings > Facilities (Studio: public.facilities.access_control_facility_id), an access level in '
  'Building > Apartments (Studio: public.apartments.access_control_id). Managers see their buildings.';
comment on column public.unknown_salto_ids.building_id is 'The building.';
comment on column public.unknown_salto_ids.kind is
  'zone: a facility''s Access Control Facility ID; access_level: an apartment''s Access Control ID.';
comment on column public.unknown_salto_ids.salto_id is 'The ID, as saved in connecX, that SALTO does not list.';
comment on column public.unknown_salto_ids.facility_id is 'For kind zone: the facility with this ID.';
comment on column public.unknown_salto_ids.apartment_id is 'For kind access_level: the apartment with this ID.';
comment on column public.unknown_salto_ids.first_seen_at is 'When a check first found SALTO does not know it.';
comment on column public.unknown_salto_ids.last_checked_at is 'When a check last found SALTO does not know it.';
comment on column public.unknown_salto_ids.facility_name is 'For kind zone: the facility''s name.';
comment on column public.unknown_salto_ids.apartment_label is 'For kind access_level: the apartment''s label.';
comment on column public.unknown_salto_ids.suggestions is
  'The closest IDs SALTO lists (the same letters in another case first), from the check made when '
  'the ID was saved; empty when none is close or the ID was found by the nightly check.';
revoke all on table public.unknown_salto_ids from anon, authenticated, service_role;
grant all on table public.unknown_salto_ids to service_role;
grant select on table public.unknown_salto_ids to authenticated;

create view public.salto_id_checks
with (security_invoker = true)
as
  select c.building_id, c.kind, c.facility_id, f.name as facility_name, c.apartment_id, a.label as apartment_label,
    c.salto_id, c.status, c.message, c.suggestions, c.requested_at, c.checked_at
  from integration.salto_id_checks as c
  left join public.facilities as f on f.id = c.facility_id
  left join public.apartments as a on a.id = c.apartment_id;
comment on view public.salto_id_checks is
  'The last check against SALTO of every facility''s Zone ID and apartment''s Access Control ID, '
  'made within seconds of saving it: status known, unknown (message says what to do, suggestions '
  'the closest IDs SALTO has), pending, unreachable or not_checked. IDs must be spelled exactly as '
  'SALTO lists them, case included. Managers see their buildings.';
comment on column public.salto_id_checks.building_id is 'The building.';
comment on column public.salto_id_checks.kind is
  'zone: a facility''s Access Control Facility ID; access_level: an apartment''s Access Control ID.';
comment on column public.salto_id_checks.facility_id is 'For kind zone: the facility.';
comment on column public.salto_id_checks.facility_name is 'For kind zone: the facility''s name.';
comment on column public.salto_id_checks.apartment_id is 'For kind access_level: the apartment.';
comment on column public.salto_id_checks.apartment_label is 'For kind access_level: the apartment''s label.';
comment on column public.salto_id_checks.salto_id is 'The ID checked, as saved.';
comment on column public.salto_id_checks.status is
  'pending (being checked, within seconds) | known (SALTO lists it) | unknown (SALTO does not list it) '
  '| unreachable (SALTO did not answer; checked again within minutes) | not_checked (no SALTO server '
  'configured for the building).';
comment on column public.salto_id_checks.message is
  'What the check found, and for an unknown ID where to fix it (portal screen, Studio table and column).';
comment on column public.salto_id_checks.suggestions is
  'For an unknown ID: the closest IDs SALTO lists, the same letters in another case first.';
comment on column public.salto_id_checks.requested_at is 'When the ID was saved.';
comment on column public.salto_id_checks.checked_at is 'When SALTO was last asked.';
revoke all on table public.salto_id_checks from anon, authenticated, service_role;
grant all on table public.salto_id_checks to service_role;
grant select on table public.salto_id_checks to authenticated;

/*
 * Buildings and their managers.
 *
 * A building is the tenant of this product: every other row belongs to exactly one building, and
 * row-level security (20261129000400) scopes each manager to the buildings listed for them in
 * building_managers.
 *
 * Also creates the `private` schema: helpers that policies, triggers and check constraints call.
 * It is not in the API's exposed schemas (config.toml [api] schemas), so nothing in it is reachable
 * over PostgREST; callers get only the execute grants given explicitly.
 *
 * Tables are created with row-level security enabled and every API grant revoked, so no migration
 * boundary ever leaves them open; 20261129000400 grants back what each role needs, with the policies.
 */

create schema if not exists private;
comment on schema private is
  'Internals of the data model (validation, triggers, row-level security helpers). Not exposed through the API.';
revoke all on schema private from public;
-- Triggers and check constraints run as the writing role, which therefore needs to reach the helpers
-- they call. anon writes nothing and gets nothing here.
grant usage on schema private to authenticated, service_role;

/*
 * Shared triggers
 */

-- Keeps updated_at truthful whoever writes the row (API, Studio, functions).
create function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;
comment on function private.set_updated_at() is 'Trigger: sets updated_at to the transaction time on every update.';

/*
 * Validation helpers
 *
 * Each `*_problem` function returns null when the value is acceptable, otherwise a sentence saying what
 * is wrong. The same function backs a named check constraint (the guarantee, also visible in Studio)
 * and the table's check_row trigger, which runs first and raises that sentence with a hint, so the
 * connecX app and Studio users read a message written for people rather than a constraint name.
 */

-- A building's time zone drives every period and timetable written to SALTO and the "just after
-- local midnight" cleanup, so it must be a name the database (and TypeScript's Intl) can resolve.
-- Checked against pg_timezone_names, case-sensitively, so the stored spelling is the canonical one.
-- Excluded: the posix/ and right/ trees and 'localtime'/'posixrules'/'Factory', which exist only as
-- files in some tz installations (Debian's system tzdata has them, Postgres' bundled one does not) and
-- are not place names.
-- Declared immutable although it reads a catalog view, because a check constraint requires it. That is
-- sound in practice: IANA never removes a zone name (retired ones stay as links in "backward"), so a
-- value that passed once keeps passing, and a dump restores cleanly.
create function private.time_zone_problem(time_zone text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when time_zone is null then null
    when time_zone in ('localtime', 'posixrules', 'Factory')
      or time_zone like 'posix/%'
      or time_zone like 'right/%'
      then 'it is not the IANA name of a place'
    when not exists (select from pg_catalog.pg_timezone_names as tz where tz.name = time_zone)
      then 'it is not an IANA time zone name (names are case-sensitive)'
  end
$$;
comment on function private.time_zone_problem(text) is
  'Null when the text is an IANA time zone name known to the database, else what is wrong with it.';

-- Alert emails are sent to these addresses through Resend; a malformed one would fail every alert of
-- the building, so the shape is checked here (deliverability cannot be, and is not claimed).
create function private.alert_emails_problem(emails text[])
returns text
language sql
immutable
set search_path = ''
as $$
  with address as (
    select e.address, e.ord
    from pg_catalog.unnest(emails) with ordinality as e (address, ord)
  ),
  first_bad as (
    select a.address
    from address as a
    where a.address is null
      or pg_catalog.length(a.address) > 254
      or a.address !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:].]+$'
    order by a.ord
    limit 1
  )
  select case
    when emails is null then null
    when pg_catalog.array_ndims(emails) > 1 then 'it must be a simple list of addresses'
    when pg_catalog.cardinality(emails) > 20 then 'it lists more than 20 addresses'
    when exists (select from first_bad)
      then pg_catalog.format('%s is not an email address', coalesce(pg_catalog.quote_literal((select address from first_bad)), 'an empty entry'))
    when (select pg_catalog.count(distinct pg_catalog.lower(a.address)) from address as a) <> pg_catalog.cardinality(emails)
      then 'an address is listed twice'
  end
$$;
comment on function private.alert_emails_problem(text[]) is
  'Null when every entry looks like an email address (at most 20, no repeats), else what is wrong.';

/*
 * Buildings
 */

-- One residential building: the unit of tenancy, of SALTO installation and of local time.
create table public.buildings (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  timezone text not null,
  alert_emails text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint buildings_name_not_blank check (btrim(name) <> '' and length(name) <= 200),
  constraint buildings_timezone_is_iana check (private.time_zone_problem(timezone) is null),
  constraint buildings_alert_emails_valid check (private.alert_emails_problem(alert_emails) is null)
);
alter table public.buildings enable row level security;
revoke all on table public.buildings from anon, authenticated;

comment on table public.buildings is
  'A residential building running connecX with one SALTO ProAccess SPACE installation. Every apartment, facility and booking belongs to one building; managers see only the buildings they manage.';
comment on column public.buildings.name is 'Name shown to residents and managers, and in alert emails.';
comment on column public.buildings.timezone is
  'IANA time zone of the building, spelled exactly as in the tz database, e.g. Australia/Sydney. Booking times are written to SALTO in this zone and expired permissions are cleared just after local midnight, so it must be where the doors are.';
comment on column public.buildings.alert_emails is
  'Who receives alert emails for this building (double bookings, access not in place, unknown SALTO IDs, SALTO unreachable). Up to 20 addresses; with none, alerts cannot be emailed.';

create function private.buildings_check_row()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  problem text;
begin
  if new.name is not null and (pg_catalog.btrim(new.name) = '' or pg_catalog.length(new.name) > 200) then
    raise exception using
      errcode = 'check_violation',
      message = 'A building needs a name of 1 to 200 characters.',
      schema = 'public', table = 'buildings', column = 'name', constraint = 'buildings_name_not_blank';
  end if;

  problem := private.time_zone_problem(new.timezone);
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The building time zone %L is not valid: %s.', new.timezone, problem),
      hint = 'Use the IANA name of the building''s location exactly as the tz database spells it, for example Australia/Sydney.',
      schema = 'public', table = 'buildings', column = 'timezone', constraint = 'buildings_timezone_is_iana';
  end if;

  problem := private.alert_emails_problem(new.alert_emails);
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The alert email list is not valid: %s.', problem),
      hint = 'List plain addresses such as manager@example.com, without names or angle brackets.',
      schema = 'public', table = 'buildings', column = 'alert_emails', constraint = 'buildings_alert_emails_valid';
  end if;

  return new;
end;
$$;
comment on function private.buildings_check_row() is
  'Trigger: explains, for people, a building row that its check constraints would reject.';

create trigger check_row
  before insert or update on public.buildings
  for each row execute function private.buildings_check_row();

create trigger set_updated_at
  before update on public.buildings
  for each row execute function private.set_updated_at();

/*
 * Building managers
 */

-- Who manages which building. The source of truth for manager access: row-level security reads it on
-- every request, so removing a row revokes access at once (no token refresh needed).
-- Rows are written by the service role or in Studio; managers can only read those of their buildings.
create table public.building_managers (
  building_id uuid not null references public.buildings (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  constraint building_managers_pkey primary key (building_id, user_id)
);
alter table public.building_managers enable row level security;
revoke all on table public.building_managers from anon, authenticated;

-- Policies look rows up by user: the primary key only serves lookups by building.
create index building_managers_user_id_idx on public.building_managers (user_id);

comment on table public.building_managers is
  'Which users manage which building. A manager reads and edits the apartments, facilities and bookings of these buildings only; deleting the row revokes that immediately.';
comment on column public.building_managers.user_id is 'The manager''s Supabase Auth user (auth.users.id).';

-- Functions are executable by PUBLIC by default: here only what writers' checks call is granted.
revoke execute on all functions in schema private from public;
grant execute on function private.time_zone_problem(text), private.alert_emails_problem(text[])
  to authenticated, service_role;

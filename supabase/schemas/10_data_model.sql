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
revoke execute on function private.time_zone_problem(text) from public;
grant execute on function private.time_zone_problem(text) to authenticated, service_role;

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
revoke execute on function private.alert_emails_problem(text[]) from public;
grant execute on function private.alert_emails_problem(text[]) to authenticated, service_role;

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
comment on function private.set_updated_at() is
  'Trigger: sets updated_at to the transaction time on every update.';
revoke execute on function private.set_updated_at() from public;

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
revoke execute on function private.buildings_check_row() from public;

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
comment on table public.buildings is
  'A residential building running connecX with one SALTO ProAccess SPACE installation. Every '
  'apartment, facility and booking belongs to one building; managers see only the buildings they '
  'manage.';
comment on column public.buildings.name is 'Name shown to residents and managers, and in alert emails.';
comment on column public.buildings.timezone is
  'IANA time zone of the building, spelled exactly as in the tz database, e.g. Australia/Sydney. '
  'Booking times are written to SALTO in this zone and expired permissions are cleared just after '
  'local midnight, so it must be where the doors are.';
comment on column public.buildings.alert_emails is
  'Who receives alert emails for this building (double bookings, access not in place, unknown SALTO '
  'IDs, SALTO unreachable). Up to 20 addresses; with none, alerts cannot be emailed.';
revoke all on table public.buildings from anon, authenticated, service_role;
grant all on table public.buildings to service_role;
grant select on table public.buildings to authenticated;
grant update (name, timezone, alert_emails) on table public.buildings to authenticated;
alter table public.buildings enable row level security;
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
comment on table public.building_managers is
  'Which users manage which building. A manager reads and edits the apartments, facilities and '
  'bookings of these buildings only; deleting the row revokes that immediately.';
comment on column public.building_managers.user_id is 'The manager''s Supabase Auth user (auth.users.id).';
revoke all on table public.building_managers from anon, authenticated, service_role;
grant all on table public.building_managers to service_role;
grant select on table public.building_managers to authenticated;
alter table public.building_managers enable row level security;
-- Policies look rows up by user: the primary key only serves lookups by building.
create index building_managers_user_id_idx on public.building_managers (user_id);

/*
 * Apartments, their residents, and facilities: the two things a booking connects, each carrying the
 * ID that maps it to SALTO (apartment -> user access level, facility -> zone).
 *
 * Both IDs are validated so that a value saved here can be found in SALTO exactly as written, and are
 * unique within their building. Rows never move to another building: their bookings, and the SALTO
 * permissions written for them, belong to the building's installation.
 *
 * Row-level security is enabled; the policies are in 20_row_level_security.sql.
 */
/*
 * SALTO ID rules
 */
-- SALTO ExtIDs are strings of at most 32 characters, and SHIP values are trimmed when read. An ID that
-- is empty, starts or ends with whitespace, or holds control characters therefore cannot round-trip:
-- the permission would be written to, or compared with, a different ID than the one stored here.
-- Allowed: printable ASCII (letters, digits, space and punctuation such as - _ / . : # &), with no space
-- at either end; e.g. 'APT-501/56', 'GYM_1', 'Zone 3'. XML special characters are legal (the SHIP
-- client escapes them). Non-ASCII letters are refused: SALTO's handling of them is not documented and a
-- silently altered ID would grant access nowhere; widening the set later is one migration.
create function private.access_control_id_problem(id text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when id is null then null
    when id ~ '^[[:space:]]*$'
      then 'it is empty; leave the field empty (null) when the SALTO ID is not known yet'
    when id ~ '[[:cntrl:]]'
      then 'it contains a control character such as a tab or a line break'
    when id ~ '^[[:space:]]|[[:space:]]$'
      then 'it starts or ends with a space, which SALTO trims away'
    when id !~ '^[\x20-\x7e]+$'
      then 'it contains a character other than letters A-Z, digits, spaces and ASCII punctuation'
    when pg_catalog.length(id) > 32
      then pg_catalog.format('it is %s characters long; SALTO IDs hold at most 32', pg_catalog.length(id))
  end
$$;
comment on function private.access_control_id_problem(text) is
  'Null when the text can be stored as a SALTO ExtID and read back unchanged (1-32 printable ASCII '
  'characters, no space at either end), else what is wrong with it.';
revoke execute on function private.access_control_id_problem(text) from public;
grant execute on function private.access_control_id_problem(text) to authenticated, service_role;

/*
 * Facilities
 */
-- The buffers widen the booking window in SALTO: the door opens access_buffer_before the start and
-- stays open access_buffer_after the end. Kept as intervals so the unit travels with the value
-- (Studio shows 00:10:00, and SQL computes starts_at - access_buffer_before directly), restricted to
-- whole minutes without day or month parts (a "day" is not always 24 hours across a DST change), from
-- 0 to 4 hours: a longer buffer is almost certainly a unit mistake, and it would keep the door of a
-- shared facility open for hours nobody booked. The text form is therefore always 'HH:MM:00'.
create function private.access_buffer_problem(buffer interval)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when buffer is null then null
    when extract(year from buffer) <> 0 or extract(month from buffer) <> 0 or extract(day from buffer) <> 0
      then 'write it in hours and minutes, not days or months'
    when buffer < interval '0'
      then 'it is negative'
    when extract(second from buffer) <> 0
      then 'it is not a whole number of minutes (a bare number means seconds)'
    when buffer > interval '4 hours'
      then 'it is longer than 4 hours'
  end
$$;
comment on function private.access_buffer_problem(interval) is
  'Null when the interval is a whole number of minutes from 0 to 4 hours, else what is wrong with it.';
revoke execute on function private.access_buffer_problem(interval) from public;
grant execute on function private.access_buffer_problem(interval) to authenticated, service_role;

-- Used by check_row triggers: a row's building is fixed at creation.
create function private.raise_if_building_changed(old_building_id uuid, new_building_id uuid, what text, table_name text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if new_building_id is distinct from old_building_id then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('%s cannot be moved to another building.', what),
      detail = 'Its bookings and the SALTO permissions written for them belong to the building it was created in.',
      hint = 'Create it in the other building instead.',
      schema = 'public', table = table_name, column = 'building_id';
  end if;
end;
$$;
comment on function private.raise_if_building_changed(uuid, uuid, text, text) is
  'Raises a check_violation when an update changes building_id.';
revoke execute on function private.raise_if_building_changed(uuid, uuid, text, text) from public;
grant execute on function private.raise_if_building_changed(uuid, uuid, text, text) to authenticated, service_role;

-- Applies access_control_id_problem to one ID column with the column's own wording and hint.
create function private.raise_if_bad_access_control_id(
  id text,
  what text,
  salto_field text,
  table_name text,
  column_name text,
  constraint_name text
)
returns void
language plpgsql
immutable
set search_path = ''
as $$
declare
  problem text := private.access_control_id_problem(id);
begin
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The %s %L cannot be used: %s.', what, id, problem),
      hint = pg_catalog.format('Copy the %s from SALTO ProAccess SPACE exactly (1 to 32 characters, no spaces at either end), or leave it empty.', salto_field),
      schema = 'public', table = table_name, column = column_name, constraint = constraint_name;
  end if;
end;
$$;
comment on function private.raise_if_bad_access_control_id(text, text, text, text, text, text) is
  'Raises a check_violation worded for people when the ID is not a valid SALTO ExtID.';
revoke execute on function private.raise_if_bad_access_control_id(text, text, text, text, text, text) from public;
grant execute on function private.raise_if_bad_access_control_id(text, text, text, text, text, text) to authenticated, service_role;

/*
 * Apartments
 */
-- One apartment of a building; its key cards share one SALTO user access level.
create table public.apartments (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null references public.buildings (id) on delete restrict,
  label text not null,
  access_control_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint apartments_label_not_blank check (btrim(label) <> '' and length(label) <= 64),
  constraint apartments_access_control_id_valid check (private.access_control_id_problem(access_control_id) is null),
  -- Target of bookings' composite foreign key: a booking's apartment is in the booking's building.
  constraint apartments_id_building_id_key unique (id, building_id),
  -- Also the index for every lookup and policy by building_id (its leading column).
  constraint apartments_label_unique_in_building unique (building_id, label)
);
comment on table public.apartments is
  'An apartment of a building. Its Access Control ID links it to a user access level in SALTO, '
  'whose key cards get access to the facilities the apartment books.';
comment on column public.apartments.label is
  'How residents and managers name the apartment, e.g. 501/56. Unique within the building.';
comment on column public.apartments.access_control_id is
  'Access Control ID: must exactly equal the User Access Level EXT ID of this apartment''s access '
  'level in SALTO ProAccess SPACE (the ExtID of the visitor access level holding the apartment''s '
  'key cards). Bookings open doors by giving that access level zone permissions, so changing this '
  'value moves the apartment''s live booking permissions to the access level with the new ID and '
  'takes them off the old one. Leave empty (null) until the access level exists in SALTO; until '
  'then no door opens for the apartment''s bookings. 1 to 32 characters: letters, digits, spaces '
  'inside and ASCII punctuation, e.g. APT-501/56; no space at either end (SALTO trims it). Unique '
  'within the building, ignoring upper/lower case.';
revoke all on table public.apartments from anon, authenticated, service_role;
grant all on table public.apartments to service_role;
grant select, delete on table public.apartments to authenticated;
grant insert (id, building_id, label, access_control_id) on table public.apartments to authenticated;
grant update (building_id, label, access_control_id) on table public.apartments to authenticated;
alter table public.apartments enable row level security;
-- Compared without case: SALTO stores ExtIDs in SQL Server, whose default collation is
-- case-insensitive, so 'apt-1' and 'APT-1' may be the same access level there.
create unique index apartments_access_control_id_unique_in_building
  on public.apartments (building_id, lower(access_control_id));
create trigger set_updated_at
  before update on public.apartments
  for each row execute function private.set_updated_at();

create function private.apartments_check_row()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  other_label text;
begin
  if tg_op = 'UPDATE' then
    perform private.raise_if_building_changed(old.building_id, new.building_id, 'An apartment', 'apartments');
  end if;

  if new.label is not null and (pg_catalog.btrim(new.label) = '' or pg_catalog.length(new.label) > 64) then
    raise exception using
      errcode = 'check_violation',
      message = 'An apartment needs a label of 1 to 64 characters, e.g. 501/56.',
      schema = 'public', table = 'apartments', column = 'label', constraint = 'apartments_label_not_blank';
  end if;

  perform private.raise_if_bad_access_control_id(
    new.access_control_id, 'Access Control ID', 'User Access Level EXT ID',
    'apartments', 'access_control_id', 'apartments_access_control_id_valid'
  );

  -- The unique index is the guarantee; this names the apartment already holding the ID.
  select a.label into other_label
  from public.apartments as a
  where a.building_id = new.building_id
    and pg_catalog.lower(a.access_control_id) = pg_catalog.lower(new.access_control_id)
    and a.id <> new.id;
  if other_label is not null then
    raise exception using
      errcode = 'unique_violation',
      message = pg_catalog.format('The Access Control ID %L is already used by apartment %s of this building.', new.access_control_id, other_label),
      detail = 'IDs are compared ignoring upper/lower case, as SALTO may.',
      hint = 'Each apartment has its own user access level in SALTO: check which EXT ID belongs to this apartment.',
      schema = 'public', table = 'apartments', column = 'access_control_id',
      constraint = 'apartments_access_control_id_unique_in_building';
  end if;

  return new;
end;
$$;
comment on function private.apartments_check_row() is
  'Trigger: explains, for people, an apartment row that its constraints would reject, and keeps the '
  'apartment in its building.';
revoke execute on function private.apartments_check_row() from public;
create trigger check_row
  before insert or update on public.apartments
  for each row execute function private.apartments_check_row();

/*
 * Apartment residents
 */
-- Who lives in which apartment: residents read their apartment, its building's facilities and its
-- bookings, and book for it. Managers add and remove residents of their buildings' apartments.
create table public.apartment_residents (
  apartment_id uuid not null references public.apartments (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  constraint apartment_residents_pkey primary key (apartment_id, user_id)
);
comment on table public.apartment_residents is
  'Which users live in which apartment. A resident can see their apartment, its building''s '
  'facilities and its bookings, and book for it.';
comment on column public.apartment_residents.user_id is 'The resident''s Supabase Auth user (auth.users.id).';
revoke all on table public.apartment_residents from anon, authenticated, service_role;
grant all on table public.apartment_residents to service_role;
grant select, insert, delete on table public.apartment_residents to authenticated;
alter table public.apartment_residents enable row level security;
-- Policies look rows up by user: the primary key only serves lookups by apartment.
create index apartment_residents_user_id_idx on public.apartment_residents (user_id);

-- A bookable facility of a building (gym, pool room, BBQ area), mapped to one SALTO zone.
create table public.facilities (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null references public.buildings (id) on delete restrict,
  name text not null,
  access_control_facility_id text,
  access_buffer_before interval not null default interval '0',
  access_buffer_after interval not null default interval '0',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint facilities_name_not_blank check (btrim(name) <> '' and length(name) <= 100),
  constraint facilities_access_control_facility_id_valid
    check (private.access_control_id_problem(access_control_facility_id) is null),
  constraint facilities_access_buffer_before_valid check (private.access_buffer_problem(access_buffer_before) is null),
  constraint facilities_access_buffer_after_valid check (private.access_buffer_problem(access_buffer_after) is null),
  -- Target of bookings' composite foreign key: a booking's facility is in the booking's building.
  constraint facilities_id_building_id_key unique (id, building_id),
  -- Also the index for every lookup and policy by building_id (its leading column).
  constraint facilities_name_unique_in_building unique (building_id, name)
);
comment on table public.facilities is
  'A bookable facility of a building (gym, pool room, BBQ area). Its Access Control Facility ID '
  'links it to a SALTO zone; a booking gives the apartment''s key cards access to that zone for the '
  'booking''s time.';
comment on column public.facilities.name is 'Name shown to residents, e.g. Gym. Unique within the building.';
comment on column public.facilities.access_control_facility_id is
  'Access Control Facility ID: must exactly equal the Zone ID (ExtZoneID) of this facility''s zone '
  'in SALTO ProAccess SPACE; the zone must group all doors of the facility. Booking permissions are '
  'written for that zone, so changing this value moves the live permissions of all current and '
  'future bookings to the zone with the new ID and takes them off the old one. Leave empty (null) '
  'until the zone exists in SALTO; until then no door opens for bookings of this facility. 1 to 32 '
  'characters: letters, digits, spaces inside and ASCII punctuation, e.g. GYM or Zone 3; no space '
  'at either end (SALTO trims it). Unique within the building, ignoring upper/lower case.';
comment on column public.facilities.access_buffer_before is
  'How long before a booking starts the door already opens for the apartment''s key cards, e.g. '
  '00:10:00 for 10 minutes. Whole minutes, 0 to 4 hours; write e.g. ''10 minutes'' (a bare number '
  'means seconds).';
comment on column public.facilities.access_buffer_after is
  'How long after a booking ends the door still opens for the apartment''s key cards, e.g. 00:05:00 '
  'for 5 minutes. Whole minutes, 0 to 4 hours; write e.g. ''5 minutes'' (a bare number means '
  'seconds).';
revoke all on table public.facilities from anon, authenticated, service_role;
grant all on table public.facilities to service_role;
grant select, delete on table public.facilities to authenticated;
grant insert (
  id, building_id, name, access_control_facility_id, access_buffer_before, access_buffer_after
) on table public.facilities to authenticated;
grant update (
  building_id, name, access_control_facility_id, access_buffer_before, access_buffer_after
) on table public.facilities to authenticated;
alter table public.facilities enable row level security;
-- Case-insensitive for the same reason as apartments' Access Control ID.
create unique index facilities_access_control_facility_id_unique_in_building
  on public.facilities (building_id, lower(access_control_facility_id));
create trigger set_updated_at
  before update on public.facilities
  for each row execute function private.set_updated_at();

create function private.facilities_check_row()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  problem text;
  other_name text;
begin
  if tg_op = 'UPDATE' then
    perform private.raise_if_building_changed(old.building_id, new.building_id, 'A facility', 'facilities');
  end if;

  if new.name is not null and (pg_catalog.btrim(new.name) = '' or pg_catalog.length(new.name) > 100) then
    raise exception using
      errcode = 'check_violation',
      message = 'A facility needs a name of 1 to 100 characters, e.g. Gym.',
      schema = 'public', table = 'facilities', column = 'name', constraint = 'facilities_name_not_blank';
  end if;

  perform private.raise_if_bad_access_control_id(
    new.access_control_facility_id, 'Access Control Facility ID', 'Zone ID',
    'facilities', 'access_control_facility_id', 'facilities_access_control_facility_id_valid'
  );

  -- The unique index is the guarantee; this names the facility already holding the ID.
  select f.name into other_name
  from public.facilities as f
  where f.building_id = new.building_id
    and pg_catalog.lower(f.access_control_facility_id) = pg_catalog.lower(new.access_control_facility_id)
    and f.id <> new.id;
  if other_name is not null then
    raise exception using
      errcode = 'unique_violation',
      message = pg_catalog.format('The Access Control Facility ID %L is already used by the facility %L of this building.', new.access_control_facility_id, other_name),
      detail = 'IDs are compared ignoring upper/lower case, as SALTO may.',
      hint = 'Each facility has its own zone in SALTO: check which Zone ID belongs to this facility.',
      schema = 'public', table = 'facilities', column = 'access_control_facility_id',
      constraint = 'facilities_access_control_facility_id_unique_in_building';
  end if;

  problem := private.access_buffer_problem(new.access_buffer_before);
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The access buffer before a booking (%s) is not valid: %s.', new.access_buffer_before, problem),
      hint = 'Use whole minutes from 0 to 4 hours, e.g. ''10 minutes''.',
      schema = 'public', table = 'facilities', column = 'access_buffer_before', constraint = 'facilities_access_buffer_before_valid';
  end if;

  problem := private.access_buffer_problem(new.access_buffer_after);
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The access buffer after a booking (%s) is not valid: %s.', new.access_buffer_after, problem),
      hint = 'Use whole minutes from 0 to 4 hours, e.g. ''5 minutes''.',
      schema = 'public', table = 'facilities', column = 'access_buffer_after', constraint = 'facilities_access_buffer_after_valid';
  end if;

  return new;
end;
$$;
comment on function private.facilities_check_row() is
  'Trigger: explains, for people, a facility row that its constraints would reject, and keeps the '
  'facility in its building.';
revoke execute on function private.facilities_check_row() from public;
create trigger check_row
  before insert or update on public.facilities
  for each row execute function private.facilities_check_row();

/*
 * Bookings: an apartment's use of a facility for a time window. A confirmed booking is what the
 * integration turns into a SALTO zone permission on the apartment's access level.
 *
 * building_id is derived from the facility (never chosen by the writer) and is what row-level security
 * filters on. Composite foreign keys (facility_id, building_id) and (apartment_id, building_id) make
 * "facility and apartment in one building" a guarantee of the database; the check_row trigger explains
 * a violation in words before those keys would reject it.
 *
 * Row-level security is enabled; the policies are in 20_row_level_security.sql.
 */
create table public.bookings (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null,
  facility_id uuid not null,
  apartment_id uuid not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  status text not null default 'confirmed',
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint bookings_ends_after_start check (ends_at > starts_at),
  constraint bookings_status_valid check (status in ('confirmed', 'cancelled')),
  -- Restrict: a facility or apartment with bookings is not deleted by accident; delete (or keep) its
  -- bookings first, which also lets the integration withdraw their SALTO permissions.
  constraint bookings_facility_in_building_fkey foreign key (facility_id, building_id)
    references public.facilities (id, building_id) on delete restrict,
  constraint bookings_apartment_in_building_fkey foreign key (apartment_id, building_id)
    references public.apartments (id, building_id) on delete restrict
);
comment on table public.bookings is
  'A booking of a facility by an apartment. While confirmed, the apartment''s key cards get access '
  'to the facility''s SALTO zone for starts_at to ends_at, widened by the facility''s access '
  'buffers. Cancel by setting status to cancelled.';
comment on column public.bookings.building_id is
  'The building of the facility, filled in automatically; the apartment must be in the same '
  'building. Cannot change.';
comment on column public.bookings.starts_at is
  'When the booking starts (stored as an instant; shown in the building''s time zone).';
comment on column public.bookings.ends_at is 'When the booking ends; must be after starts_at.';
comment on column public.bookings.status is
  'confirmed: the apartment gets access for the booking''s time. cancelled: the booking no longer '
  'gives access (the permission is withdrawn from SALTO).';
comment on column public.bookings.created_by is
  'The user who made the booking (auth.users.id); null when made by the connecX backend with the '
  'service role.';
revoke all on table public.bookings from anon, authenticated, service_role;
grant all on table public.bookings to service_role;
grant select, delete on table public.bookings to authenticated;
grant insert (
  id, building_id, facility_id, apartment_id, starts_at, ends_at, status, created_by
) on table public.bookings to authenticated;
grant update (
  building_id, facility_id, apartment_id, starts_at, ends_at, status
) on table public.bookings to authenticated;
alter table public.bookings enable row level security;
-- Managers' policies and building-wide views filter by building; residents' by apartment; the
-- integration looks up a facility's bookings by time. Each index also covers its foreign key.
create index bookings_building_id_starts_at_idx on public.bookings (building_id, starts_at);
create index bookings_apartment_id_starts_at_idx on public.bookings (apartment_id, starts_at);
create index bookings_facility_id_starts_at_idx on public.bookings (facility_id, starts_at);
create index bookings_created_by_idx on public.bookings (created_by);
-- Built inside the migration's transaction (CREATE INDEX CONCURRENTLY cannot run in one): writes to
-- bookings wait while it builds, a moment at the table's size.
create index bookings_apartment_id_facility_id_ends_at_idx on public.bookings (apartment_id, facility_id, ends_at);
create trigger set_updated_at
  before update on public.bookings
  for each row execute function private.set_updated_at();

-- Runs as the table owner (security definer) so that deriving the building and comparing it with the
-- apartment's does not depend on what the writer can see: authorization is row-level security's job,
-- which still checks the finished row afterwards. It reveals nothing beyond what the foreign keys'
-- own errors would.
create function private.bookings_check_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  facility_building_id uuid;
  apartment_building_id uuid;
begin
  select f.building_id into facility_building_id from public.facilities as f where f.id = new.facility_id;
  if facility_building_id is null then
    raise exception using
      errcode = 'foreign_key_violation',
      message = pg_catalog.format('There is no facility with id %s.', new.facility_id),
      schema = 'public', table = 'bookings', column = 'facility_id', constraint = 'bookings_facility_in_building_fkey';
  end if;

  select a.building_id into apartment_building_id from public.apartments as a where a.id = new.apartment_id;
  if apartment_building_id is null then
    raise exception using
      errcode = 'foreign_key_violation',
      message = pg_catalog.format('There is no apartment with id %s.', new.apartment_id),
      schema = 'public', table = 'bookings', column = 'apartment_id', constraint = 'bookings_apartment_in_building_fkey';
  end if;

  if tg_op = 'UPDATE' and (facility_building_id <> old.building_id or new.building_id is distinct from old.building_id) then
    raise exception using
      errcode = 'check_violation',
      message = 'A booking cannot be moved to another building.',
      detail = pg_catalog.format('The booking is in building %s; the requested change would put it in building %s.',
        old.building_id, case when new.building_id is distinct from old.building_id then new.building_id else facility_building_id end),
      hint = 'Choose a facility and an apartment of the booking''s own building, or cancel it and book in the other building.',
      schema = 'public', table = 'bookings', column = 'building_id';
  end if;

  if tg_op = 'INSERT' and new.building_id is not null and new.building_id <> facility_building_id then
    raise exception using
      errcode = 'check_violation',
      message = 'The building of a booking must be the building of its facility.',
      detail = pg_catalog.format('Facility %s is in building %s, not %s.', new.facility_id, facility_building_id, new.building_id),
      hint = 'Leave building_id out: it is filled in from the facility.',
      schema = 'public', table = 'bookings', column = 'building_id';
  end if;

  if apartment_building_id <> facility_building_id then
    raise exception using
      errcode = 'check_violation',
      message = 'The facility and the apartment of a booking must be in the same building.',
      detail = pg_catalog.format('Facility %s is in building %s; apartment %s is in building %s.',
        new.facility_id, facility_building_id, new.apartment_id, apartment_building_id),
      hint = 'Book a facility of the apartment''s own building.',
      schema = 'public', table = 'bookings', column = 'apartment_id', constraint = 'bookings_apartment_in_building_fkey';
  end if;

  if new.ends_at <= new.starts_at then
    raise exception using
      errcode = 'check_violation',
      message = 'A booking must end after it starts.',
      detail = pg_catalog.format('starts_at is %s and ends_at is %s.', new.starts_at, new.ends_at),
      hint = 'Set ends_at to a later time than starts_at.',
      schema = 'public', table = 'bookings', column = 'ends_at', constraint = 'bookings_ends_after_start';
  end if;

  if new.status not in ('confirmed', 'cancelled') then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('%L is not a booking status.', new.status),
      hint = 'Use confirmed or cancelled.',
      schema = 'public', table = 'bookings', column = 'status', constraint = 'bookings_status_valid';
  end if;

  new.building_id := facility_building_id;
  return new;
end;
$$;
comment on function private.bookings_check_row() is
  'Trigger: fills bookings.building_id from the facility, keeps it fixed, and explains in words a '
  'booking that the constraints would reject (facility and apartment in different buildings, end '
  'not after start, unknown status).';
revoke execute on function private.bookings_check_row() from public;
create trigger check_row
  before insert or update on public.bookings
  for each row execute function private.bookings_check_row();

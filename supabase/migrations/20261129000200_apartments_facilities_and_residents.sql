/*
 * Apartments, their residents, and facilities: the two things a booking connects, each carrying the
 * ID that maps it to SALTO (apartment -> user access level, facility -> zone).
 *
 * Both IDs are validated so that a value saved here can be found in SALTO exactly as written, and are
 * unique within their building. Rows never move to another building: their bookings, and the SALTO
 * permissions written for them, belong to the building's installation.
 *
 * Row-level security is enabled with API grants revoked; policies and grants are in 20261129000400.
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
  'Null when the text can be stored as a SALTO ExtID and read back unchanged (1-32 printable ASCII characters, no space at either end), else what is wrong with it.';

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
alter table public.apartments enable row level security;
revoke all on table public.apartments from anon, authenticated;

-- Compared without case: SALTO stores ExtIDs in SQL Server, whose default collation is
-- case-insensitive, so 'apt-1' and 'APT-1' may be the same access level there.
create unique index apartments_access_control_id_unique_in_building
  on public.apartments (building_id, lower(access_control_id));

comment on table public.apartments is
  'An apartment of a building. Its Access Control ID links it to a user access level in SALTO, whose key cards get access to the facilities the apartment books.';
comment on column public.apartments.label is 'How residents and managers name the apartment, e.g. 501/56. Unique within the building.';
comment on column public.apartments.access_control_id is
  'Access Control ID: must exactly equal the User Access Level EXT ID of this apartment''s access level in SALTO ProAccess SPACE (the ExtID of the visitor access level holding the apartment''s key cards). Bookings open doors by giving that access level zone permissions, so changing this value moves the apartment''s live booking permissions to the access level with the new ID and takes them off the old one. Leave empty (null) until the access level exists in SALTO; until then no door opens for the apartment''s bookings. 1 to 32 characters: letters, digits, spaces inside and ASCII punctuation, e.g. APT-501/56; no space at either end (SALTO trims it). Unique within the building, ignoring upper/lower case.';

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
  'Trigger: explains, for people, an apartment row that its constraints would reject, and keeps the apartment in its building.';

create trigger check_row
  before insert or update on public.apartments
  for each row execute function private.apartments_check_row();

create trigger set_updated_at
  before update on public.apartments
  for each row execute function private.set_updated_at();

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
alter table public.apartment_residents enable row level security;
revoke all on table public.apartment_residents from anon, authenticated;

-- Policies look rows up by user: the primary key only serves lookups by apartment.
create index apartment_residents_user_id_idx on public.apartment_residents (user_id);

comment on table public.apartment_residents is
  'Which users live in which apartment. A resident can see their apartment, its building''s facilities and its bookings, and book for it.';
comment on column public.apartment_residents.user_id is 'The resident''s Supabase Auth user (auth.users.id).';

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
alter table public.facilities enable row level security;
revoke all on table public.facilities from anon, authenticated;

-- Case-insensitive for the same reason as apartments' Access Control ID.
create unique index facilities_access_control_facility_id_unique_in_building
  on public.facilities (building_id, lower(access_control_facility_id));

comment on table public.facilities is
  'A bookable facility of a building (gym, pool room, BBQ area). Its Access Control Facility ID links it to a SALTO zone; a booking gives the apartment''s key cards access to that zone for the booking''s time.';
comment on column public.facilities.name is 'Name shown to residents, e.g. Gym. Unique within the building.';
comment on column public.facilities.access_control_facility_id is
  'Access Control Facility ID: must exactly equal the Zone ID (ExtZoneID) of this facility''s zone in SALTO ProAccess SPACE; the zone must group all doors of the facility. Booking permissions are written for that zone, so changing this value moves the live permissions of all current and future bookings to the zone with the new ID and takes them off the old one. Leave empty (null) until the zone exists in SALTO; until then no door opens for bookings of this facility. 1 to 32 characters: letters, digits, spaces inside and ASCII punctuation, e.g. GYM or Zone 3; no space at either end (SALTO trims it). Unique within the building, ignoring upper/lower case.';
comment on column public.facilities.access_buffer_before is
  'How long before a booking starts the door already opens for the apartment''s key cards, e.g. 00:10:00 for 10 minutes. Whole minutes, 0 to 4 hours; write e.g. ''10 minutes'' (a bare number means seconds).';
comment on column public.facilities.access_buffer_after is
  'How long after a booking ends the door still opens for the apartment''s key cards, e.g. 00:05:00 for 5 minutes. Whole minutes, 0 to 4 hours; write e.g. ''5 minutes'' (a bare number means seconds).';

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
  'Trigger: explains, for people, a facility row that its constraints would reject, and keeps the facility in its building.';

create trigger check_row
  before insert or update on public.facilities
  for each row execute function private.facilities_check_row();

create trigger set_updated_at
  before update on public.facilities
  for each row execute function private.set_updated_at();

-- Functions are executable by PUBLIC by default: here only what writers' checks call is granted.
revoke execute on all functions in schema private from public;
grant execute on function
  private.access_control_id_problem(text),
  private.raise_if_bad_access_control_id(text, text, text, text, text, text),
  private.raise_if_building_changed(uuid, uuid, text, text),
  private.access_buffer_problem(interval)
  to authenticated, service_role;

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
-- the building, so the shape is checked here (deliverability cannot be, and is not claimed). Each entry
-- is one bare address, local@domain, in ASCII: the local part of letters, digits and . ! # $ % & ' * +
-- / = ? ^ _ ` { | } ~ - (no dot at either end, no two dots in a row), the domain of dot-separated
-- labels of letters, digits and inner hyphens (an internationalised domain in its xn-- form). So no
-- display name, quotes, angle brackets, commas, semicolons, spaces or control characters: an entry
-- such as "x"<a@b.c> or a,b@evil.example would otherwise reach a mail header as more, or other,
-- recipients than the list shows.
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
    select a.address, a.ord
    from address as a
    where a.address is null
      or pg_catalog.length(a.address) > 254
      or a.address !~ '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$'
      or pg_catalog.length(pg_catalog.split_part(a.address, '@', 1)) > 64
    order by a.ord
    limit 1
  )
  select case
    when emails is null then null
    when pg_catalog.array_ndims(emails) > 1 then 'it must be a simple list of addresses'
    when pg_catalog.cardinality(emails) > 20 then 'it lists more than 20 addresses'
    when exists (select from first_bad where first_bad.address is null or first_bad.address = '')
      then 'an empty entry is not an email address'
    -- Not echoed: the entry's control characters would end up in the error message itself.
    when exists (select from first_bad where first_bad.address ~ '[\u0001-\u001f\u007f-\u009f]')
      then pg_catalog.format('entry %s contains a control character such as a line break', (select ord from first_bad))
    when exists (select from first_bad)
      then pg_catalog.format('%s is not a bare email address', pg_catalog.quote_literal((select address from first_bad)))
    when (select pg_catalog.count(distinct pg_catalog.lower(a.address)) from address as a) <> pg_catalog.cardinality(emails)
      then 'an address is listed twice'
  end
$$;
comment on function private.alert_emails_problem(text[]) is
  'Null when every entry is one bare email address (local@domain, ASCII; at most 20, no repeats), '
  'else what is wrong.';
revoke execute on function private.alert_emails_problem(text[]) from public;
grant execute on function private.alert_emails_problem(text[]) to authenticated, service_role;

-- Names of buildings, apartments and facilities are shown on screens and in alert email subjects. A
-- control character (C0 and C1, DEL: tab, line feed, carriage return, escape, ...) breaks lines or
-- headers; a formatting character (bidirectional embeddings, overrides and isolates, zero-width
-- characters, line and paragraph separators, tags) is invisible and can make a name read as another
-- one. Both are refused, naming the first one found; so is a name of spaces only (any Unicode space
-- or blank filler, which btrim() alone would keep). Letters, digits, punctuation and symbols of any
-- script, emoji included, are fine (an emoji joined with U+200D ZERO WIDTH JOINER is not).
create function private.name_problem(name text)
returns text
language sql
immutable
set search_path = ''
as $$
  with found as (
    select pg_catalog.ascii(pg_catalog.substring(name,
      '[\u0001-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0001\U000e0020-\U000e007f]'
    )) as code
  )
  select case
    when name is null then null
    when found.code is not null then pg_catalog.format('it contains %s, %s',
      'U+' || pg_catalog.lpad(pg_catalog.upper(pg_catalog.to_hex(found.code)), greatest(4, pg_catalog.length(pg_catalog.to_hex(found.code))), '0')
        || coalesce(' ' || (
          select n.name from (values
            (0, 'NULL'), (1, 'START OF HEADING'), (2, 'START OF TEXT'), (3, 'END OF TEXT'),
            (4, 'END OF TRANSMISSION'), (5, 'ENQUIRY'), (6, 'ACKNOWLEDGE'), (7, 'ALERT'), (8, 'BACKSPACE'),
            (9, 'CHARACTER TABULATION'), (10, 'LINE FEED'), (11, 'LINE TABULATION'), (12, 'FORM FEED'),
            (13, 'CARRIAGE RETURN'), (14, 'SHIFT OUT'), (15, 'SHIFT IN'), (16, 'DATA LINK ESCAPE'),
            (17, 'DEVICE CONTROL ONE'), (18, 'DEVICE CONTROL TWO'), (19, 'DEVICE CONTROL THREE'),
            (20, 'DEVICE CONTROL FOUR'), (21, 'NEGATIVE ACKNOWLEDGE'), (22, 'SYNCHRONOUS IDLE'),
            (23, 'END OF TRANSMISSION BLOCK'), (24, 'CANCEL'), (25, 'END OF MEDIUM'), (26, 'SUBSTITUTE'),
            (27, 'ESCAPE'), (28, 'INFORMATION SEPARATOR FOUR'), (29, 'INFORMATION SEPARATOR THREE'),
            (30, 'INFORMATION SEPARATOR TWO'), (31, 'INFORMATION SEPARATOR ONE'), (127, 'DELETE'),
            (133, 'NEXT LINE'), (173, 'SOFT HYPHEN'), (1564, 'ARABIC LETTER MARK'),
            (6158, 'MONGOLIAN VOWEL SEPARATOR'), (8203, 'ZERO WIDTH SPACE'), (8204, 'ZERO WIDTH NON-JOINER'),
            (8205, 'ZERO WIDTH JOINER'), (8206, 'LEFT-TO-RIGHT MARK'), (8207, 'RIGHT-TO-LEFT MARK'),
            (8232, 'LINE SEPARATOR'), (8233, 'PARAGRAPH SEPARATOR'), (8234, 'LEFT-TO-RIGHT EMBEDDING'),
            (8235, 'RIGHT-TO-LEFT EMBEDDING'), (8236, 'POP DIRECTIONAL FORMATTING'),
            (8237, 'LEFT-TO-RIGHT OVERRIDE'), (8238, 'RIGHT-TO-LEFT OVERRIDE'), (8288, 'WORD JOINER'),
            (8289, 'FUNCTION APPLICATION'), (8290, 'INVISIBLE TIMES'), (8291, 'INVISIBLE SEPARATOR'),
            (8292, 'INVISIBLE PLUS'), (8294, 'LEFT-TO-RIGHT ISOLATE'), (8295, 'RIGHT-TO-LEFT ISOLATE'),
            (8296, 'FIRST STRONG ISOLATE'), (8297, 'POP DIRECTIONAL ISOLATE'), (65279, 'ZERO WIDTH NO-BREAK SPACE'),
            (65529, 'INTERLINEAR ANNOTATION ANCHOR'), (65530, 'INTERLINEAR ANNOTATION SEPARATOR'),
            (65531, 'INTERLINEAR ANNOTATION TERMINATOR'), (917505, 'LANGUAGE TAG')
          ) as n (code, name)
          where n.code = found.code), ''),
      case when found.code < 160 then 'a control character' else 'an invisible formatting character' end)
    when name !~ '[^\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800\u3164\u115f\u1160\uffa0]'
      then 'it has no visible character'
  end
  from found
$$;
comment on function private.name_problem(text) is
  'Null when a name holds no control or formatting character and at least one visible one, else '
  'what is wrong, naming the character (e.g. it contains U+202E RIGHT-TO-LEFT OVERRIDE, ...).';
revoke execute on function private.name_problem(text) from public;
grant execute on function private.name_problem(text) to authenticated, service_role;

-- Applies name_problem to a name column with the table's own words.
create function private.raise_if_bad_name(name text, what text, table_name text, column_name text, constraint_name text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
declare
  problem text := private.name_problem(name);
begin
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('%s cannot be used: %s.', what, problem),
      hint = 'Names are shown on screens and in email subjects, where control and formatting characters '
        'break lines or hide text: type the name again without them (pasted text can carry them along).',
      schema = 'public', table = table_name, column = column_name, constraint = constraint_name;
  end if;
end;
$$;
comment on function private.raise_if_bad_name(text, text, text, text, text) is
  'Raises a check_violation worded for people when a name holds a control or formatting character, '
  'or no visible character.';
revoke execute on function private.raise_if_bad_name(text, text, text, text, text) from public;
grant execute on function private.raise_if_bad_name(text, text, text, text, text) to authenticated, service_role;

-- SALTO is written dates as text, yyyy-MM-ddTHH:mm:ss in the building's time zone. A booking must
-- therefore be finite, and lie from 2000-01-01 to before 2100-01-01 (UTC): widened by the facility's
-- buffers (at most 4 hours each) and shifted to any time zone (at most 14 hours), every date written
-- for it stays within years 1999 to 2100, four digits, which SALTO's format can hold. Outside these
-- years a booking is a mistake (or an attack): 'infinity', year 9999 (10000-01-01 in Sydney).
create function private.booking_time_problem(starts_at timestamptz, ends_at timestamptz)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when starts_at is null or ends_at is null then null
    when not pg_catalog.isfinite(starts_at) or not pg_catalog.isfinite(ends_at)
      then 'must start and end at a real time, not at infinity'
    when starts_at < timestamptz '2000-01-01 00:00:00+00'
      then 'cannot start before 2000-01-01 00:00 UTC'
    when ends_at >= timestamptz '2100-01-01 00:00:00+00'
      then 'must end before 2100-01-01 00:00 UTC'
  end
$$;
comment on function private.booking_time_problem(timestamptz, timestamptz) is
  'Null when a booking''s start and end are finite and within 2000-01-01 to before 2100-01-01 UTC '
  '(dates SALTO can hold in any time zone), else what is wrong.';
revoke execute on function private.booking_time_problem(timestamptz, timestamptz) from public;
grant execute on function private.booking_time_problem(timestamptz, timestamptz) to authenticated, service_role;

-- A duration in words for refusals: "36 hours", "45 minutes", "1 hour 30 minutes", "3 days".
create function private.describe_duration(duration interval)
returns text
language sql
immutable
set search_path = ''
as $$
  with m as (select pg_catalog.ceil(extract(epoch from duration) / 60)::bigint as minutes)
  select case
    when m.minutes >= 2880 and m.minutes % 1440 = 0 then (m.minutes / 1440) || ' days'
    when m.minutes % 60 = 0 then (m.minutes / 60) || case when m.minutes = 60 then ' hour' else ' hours' end
    when m.minutes < 60 then m.minutes || case when m.minutes = 1 then ' minute' else ' minutes' end
    else (m.minutes / 60) || case when m.minutes < 120 then ' hour ' else ' hours ' end
      || (m.minutes % 60) || case when m.minutes % 60 = 1 then ' minute' else ' minutes' end
  end
  from m
$$;
comment on function private.describe_duration(interval) is
  'A duration in words, in whole minutes rounded up: 36 hours, 45 minutes, 1 hour 30 minutes, 3 days.';
revoke execute on function private.describe_duration(interval) from public;
grant execute on function private.describe_duration(interval) to authenticated, service_role;

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
  perform private.raise_if_bad_name(new.name, 'The building name', 'buildings', 'name', 'buildings_name_printable');

  problem := private.time_zone_problem(new.timezone);
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The building time zone %L is not valid: %s.', new.timezone, problem),
      hint = 'Use the IANA name of the building''s location exactly as the tz database spells it, for example Australia/Sydney.',
      schema = 'public', table = 'buildings', column = 'timezone', constraint = 'buildings_timezone_is_iana';
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
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint buildings_name_not_blank check (btrim(name) <> '' and length(name) <= 200),
  constraint buildings_timezone_is_iana check (private.time_zone_problem(timezone) is null),
  constraint buildings_name_printable check (private.name_problem(name) is null)
);
comment on table public.buildings is
  'A residential building running connecX with one SALTO ProAccess SPACE installation. Every '
  'apartment, facility and booking belongs to one building; managers see only the buildings they '
  'manage.';
comment on column public.buildings.id is 'The building''s id (its other rows refer to it as building_id).';
comment on column public.buildings.created_at is 'When the building was added.';
comment on column public.buildings.updated_at is 'When the building row last changed.';
comment on column public.buildings.name is
  'Name shown to residents and managers, and in alert emails: 1 to 200 characters, no control or '
  'formatting characters (line breaks, tabs, direction overrides, zero-width characters).';
comment on column public.buildings.timezone is
  'IANA time zone of the building, spelled exactly as in the tz database, e.g. Australia/Sydney. '
  'Booking times are written to SALTO in this zone and expired permissions are cleared just after '
  'local midnight, so it must be where the doors are. Changing it rewrites every live permission of '
  'the building in SALTO in the new zone.';
revoke all on table public.buildings from anon, authenticated, service_role;
grant all on table public.buildings to service_role;
grant select on table public.buildings to authenticated;
grant update (name, timezone) on table public.buildings to authenticated;
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
comment on column public.building_managers.building_id is 'The building the user manages.';
comment on column public.building_managers.created_at is 'When the user became a manager of the building.';
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
  constraint apartments_label_printable check (private.name_problem(label) is null),
  -- Target of bookings' composite foreign key: a booking's apartment is in the booking's building.
  constraint apartments_id_building_id_key unique (id, building_id),
  -- Also the index for every lookup and policy by building_id (its leading column).
  constraint apartments_label_unique_in_building unique (building_id, label)
);
comment on table public.apartments is
  'An apartment of a building. Its Access Control ID links it to a user access level in SALTO, '
  'whose key cards get access to the facilities the apartment books.';
comment on column public.apartments.id is 'The apartment''s id (bookings and residents refer to it as apartment_id).';
comment on column public.apartments.building_id is 'The apartment''s building. Cannot change.';
comment on column public.apartments.created_at is 'When the apartment was added.';
comment on column public.apartments.updated_at is 'When the apartment row last changed.';
comment on column public.apartments.label is
  'How residents and managers name the apartment, e.g. 501/56. Unique within the building; no '
  'control or formatting characters.';
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
  perform private.raise_if_bad_name(new.label, 'The apartment label', 'apartments', 'label', 'apartments_label_printable');

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
comment on column public.apartment_residents.apartment_id is 'The apartment the user lives in.';
comment on column public.apartment_residents.created_at is 'When the user was added as a resident.';
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
  constraint facilities_name_printable check (private.name_problem(name) is null),
  -- Target of bookings' composite foreign key: a booking's facility is in the booking's building.
  constraint facilities_id_building_id_key unique (id, building_id),
  -- Also the index for every lookup and policy by building_id (its leading column).
  constraint facilities_name_unique_in_building unique (building_id, name)
);
comment on table public.facilities is
  'A bookable facility of a building (gym, pool room, BBQ area). Its Access Control Facility ID '
  'links it to a SALTO zone; a booking gives the apartment''s key cards access to that zone for the '
  'booking''s time.';
comment on column public.facilities.id is 'The facility''s id (bookings refer to it as facility_id).';
comment on column public.facilities.building_id is 'The facility''s building. Cannot change.';
comment on column public.facilities.created_at is 'When the facility was added.';
comment on column public.facilities.updated_at is 'When the facility row last changed.';
comment on column public.facilities.name is
  'Name shown to residents, e.g. Gym. Unique within the building; no control or formatting characters.';
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
  perform private.raise_if_bad_name(new.name, 'The facility name', 'facilities', 'name', 'facilities_name_printable');

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
 * Booking policy: what residents may book, per building.
 *
 * The limits a building sets on its residents' bookings, enforced by the bookings' check_row trigger
 * when a resident (an authenticated user who does not manage the booking's building) makes or moves a
 * confirmed booking: how long a booking may be, how far ahead it may start, and how many unfinished
 * (confirmed and not yet ended) bookings an apartment may hold, of one facility and in all. The
 * building's managers, the service role (the connecX backend) and Studio may book beyond it. One row
 * per building, created with the building with the defaults below, so managers only ever update it.
 *
 * Row-level security is enabled; the policies are in 20_row_level_security.sql.
 */
-- Whole minutes without month or year parts (a month has no fixed length), from 5 minutes to 90 days.
create function private.booking_length_limit_problem(max_length interval)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when max_length is null then null
    when extract(year from max_length) <> 0 or extract(month from max_length) <> 0
      then 'write it in days, hours and minutes, not months or years'
    when extract(second from max_length) <> 0
      then 'it is not a whole number of minutes (a bare number means seconds)'
    when max_length < interval '5 minutes'
      then 'it is shorter than 5 minutes'
    when max_length > interval '90 days'
      then 'it is longer than 90 days'
  end
$$;
comment on function private.booking_length_limit_problem(interval) is
  'Null when the interval is a whole number of minutes from 5 minutes to 90 days, else what is wrong.';
revoke execute on function private.booking_length_limit_problem(interval) from public;
grant execute on function private.booking_length_limit_problem(interval) to authenticated, service_role;

create table public.booking_policies (
  building_id uuid primary key references public.buildings (id) on delete cascade,
  max_booking_length interval not null default interval '24 hours',
  max_days_ahead integer not null default 365,
  max_unfinished_per_facility integer not null default 5,
  max_unfinished_per_apartment integer not null default 20,
  updated_at timestamptz not null default now(),
  constraint booking_policies_max_booking_length_valid
    check (private.booking_length_limit_problem(max_booking_length) is null),
  constraint booking_policies_max_days_ahead_range check (max_days_ahead between 1 and 3650),
  constraint booking_policies_max_unfinished_per_facility_range check (max_unfinished_per_facility between 1 and 500),
  constraint booking_policies_max_unfinished_per_apartment_range check (max_unfinished_per_apartment between 1 and 1000)
);
comment on table public.booking_policies is
  'Booking policy of each building: the limits on what its residents may book (length, how far '
  'ahead, how many unfinished bookings per apartment). Managers, the connecX backend and Studio may '
  'book beyond them. One row per building, created with it; managers edit their buildings'' rows, '
  'residents read their building''s.';
comment on column public.booking_policies.building_id is 'The building the policy is for (one row per building).';
comment on column public.booking_policies.updated_at is 'When the policy last changed.';
comment on column public.booking_policies.max_booking_length is
  'The longest booking a resident may make, e.g. 24:00:00 for 24 hours or ''2 hours''. Whole minutes, '
  'from 5 minutes to 90 days.';
comment on column public.booking_policies.max_days_ahead is
  'How many days ahead of now a resident''s booking may start at the latest, 1 to 3650 (365: a year).';
comment on column public.booking_policies.max_unfinished_per_facility is
  'How many unfinished (confirmed, not yet ended) bookings of one facility an apartment may hold when '
  'a resident books, 1 to 500 (500 is the most any writer may hold: private.max_unfinished_per_pair).';
comment on column public.booking_policies.max_unfinished_per_apartment is
  'How many unfinished (confirmed, not yet ended) bookings of all facilities together an apartment may '
  'hold when a resident books, 1 to 1000.';
revoke all on table public.booking_policies from anon, authenticated, service_role;
grant all on table public.booking_policies to service_role;
grant select on table public.booking_policies to authenticated;
grant update (
  max_booking_length, max_days_ahead, max_unfinished_per_facility, max_unfinished_per_apartment
) on table public.booking_policies to authenticated;
alter table public.booking_policies enable row level security;
create trigger set_updated_at
  before update on public.booking_policies
  for each row execute function private.set_updated_at();

create function private.booking_policies_check_row()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  problem text;
begin
  if tg_op = 'UPDATE' then
    perform private.raise_if_building_changed(old.building_id, new.building_id, 'A booking policy', 'booking_policies');
  end if;

  problem := private.booking_length_limit_problem(new.max_booking_length);
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The longest booking (%s) is not valid: %s.', new.max_booking_length, problem),
      hint = 'Use whole minutes from 5 minutes to 90 days, e.g. ''24 hours'' or ''90 minutes''.',
      schema = 'public', table = 'booking_policies', column = 'max_booking_length',
      constraint = 'booking_policies_max_booking_length_valid';
  end if;

  if new.max_days_ahead not between 1 and 3650 then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('How far ahead a booking may start must be 1 to 3650 days, not %s.', new.max_days_ahead),
      hint = 'For example 365 for a year ahead.',
      schema = 'public', table = 'booking_policies', column = 'max_days_ahead',
      constraint = 'booking_policies_max_days_ahead_range';
  end if;

  if new.max_unfinished_per_facility not between 1 and 500 then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The unfinished bookings an apartment may hold of one facility must be 1 to 500 (the most anyone may book), not %s.', new.max_unfinished_per_facility),
      schema = 'public', table = 'booking_policies', column = 'max_unfinished_per_facility',
      constraint = 'booking_policies_max_unfinished_per_facility_range';
  end if;

  if new.max_unfinished_per_apartment not between 1 and 1000 then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The unfinished bookings an apartment may hold in all must be 1 to 1000, not %s.', new.max_unfinished_per_apartment),
      schema = 'public', table = 'booking_policies', column = 'max_unfinished_per_apartment',
      constraint = 'booking_policies_max_unfinished_per_apartment_range';
  end if;

  return new;
end;
$$;
comment on function private.booking_policies_check_row() is
  'Trigger: explains, for people, a booking policy that its check constraints would reject, and keeps '
  'it with its building.';
revoke execute on function private.booking_policies_check_row() from public;
create trigger check_row
  before insert or update on public.booking_policies
  for each row execute function private.booking_policies_check_row();

-- Every building has its booking policy from the start (the defaults), so policies are only updated.
create function private.create_booking_policy()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.booking_policies (building_id) values (new.id) on conflict do nothing;
  return null;
end;
$$;
comment on function private.create_booking_policy() is
  'Trigger: gives a new building its booking policy (the defaults).';
revoke execute on function private.create_booking_policy() from public;
create trigger create_booking_policy
  after insert on public.buildings
  for each row execute function private.create_booking_policy();

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
  constraint bookings_times_salto_can_hold check (private.booking_time_problem(starts_at, ends_at) is null),
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
comment on column public.bookings.id is 'The booking''s id (booking_access_states and access_alerts refer to it as booking_id).';
comment on column public.bookings.facility_id is 'The facility booked.';
comment on column public.bookings.apartment_id is 'The apartment booked for: its key cards get the access.';
comment on column public.bookings.created_at is 'When the booking was made.';
comment on column public.bookings.updated_at is 'When the booking last changed.';
comment on column public.bookings.building_id is
  'The building of the facility, filled in automatically; the apartment must be in the same '
  'building. Cannot change.';
comment on column public.bookings.starts_at is
  'When the booking starts (stored as an instant; shown in the building''s time zone). From '
  '2000-01-01 00:00 UTC: SALTO cannot hold earlier dates.';
comment on column public.bookings.ends_at is
  'When the booking ends; must be after starts_at, and before 2100-01-01 00:00 UTC.';
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
-- The booking policy counts an apartment's unfinished confirmed bookings (all, and per facility) at
-- every resident's booking: from this index alone, never the apartment's history or its cancellations.
create index bookings_unfinished_by_apartment_idx on public.bookings (apartment_id, ends_at)
  include (facility_id) where status = 'confirmed';
create trigger set_updated_at
  before update on public.bookings
  for each row execute function private.set_updated_at();

-- The most unfinished bookings one apartment may hold of one facility, whoever books them.
create function private.max_unfinished_per_pair()
returns integer
language sql
immutable
set search_path = ''
as $$
  select 500
$$;
comment on function private.max_unfinished_per_pair() is
  'The most unfinished (confirmed, not yet ended) bookings one apartment may hold of one facility, '
  'for every writer, managers and the service role included: the integration decides them together '
  '(one SALTO permission per apartment and zone), so this bounds what one fold costs (BENCHMARKS.md).';
revoke execute on function private.max_unfinished_per_pair() from public;

-- Runs as the table owner (security definer) so that deriving the building, comparing it with the
-- apartment's and counting the apartment's bookings do not depend on what the writer can see:
-- authorization is row-level security's job, which still checks the finished row afterwards.
--
-- What a signed-in user (role authenticated, as PostgREST sets it) learns from a refusal is only what
-- they can read: a facility or apartment they cannot see, whether of another building or no row at
-- all, is "no such facility (apartment) in your building", with the same code and no detail, so IDs
-- of other buildings are neither confirmed nor placed. The service role and Studio see every row and
-- get the precise sentence. Inside this function current_user is the owner; the caller's role is the
-- `role` setting PostgREST's SET ROLE leaves.
--
-- Then the booking policy (public.booking_policies) for a resident's confirmed booking. The counts
-- run under a transaction advisory lock per apartment, held until commit: two bookings of one
-- apartment made at once are counted one after the other (each statement of this function reads
-- what committed before it, at read committed, PostgREST's level), so both cannot take the last place.
-- Rows inserted earlier by the same statement count too, so a 10,000-row insert stops at the cap.
create function private.bookings_check_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  api_user boolean := pg_catalog.current_setting('role', true) = 'authenticated';
  facility_building_id uuid;
  apartment_building_id uuid;
  facility_name text;
  problem text;
  policy record;
  unfinished integer;
  unfinished_of_facility integer;
  policy_note constant text := ' The building''s managers set this in Booking policy.';
  policy_hint constant text :=
    'Managers change the limits in the building''s Booking policy (Studio: table public.booking_policies).';
begin
  select f.building_id, f.name into facility_building_id, facility_name
  from public.facilities as f
  where f.id = new.facility_id
    and (not api_user
      or private.is_building_manager(f.building_id)
      or f.building_id = any (array(select private.resident_building_ids())));
  if facility_building_id is null then
    if api_user then
      raise exception using
        errcode = 'foreign_key_violation',
        message = 'No such facility in your building.',
        hint = 'Choose one of your building''s facilities (public.facilities lists them).',
        schema = 'public', table = 'bookings', column = 'facility_id', constraint = 'bookings_facility_in_building_fkey';
    end if;
    raise exception using
      errcode = 'foreign_key_violation',
      message = pg_catalog.format('There is no facility with id %s.', new.facility_id),
      schema = 'public', table = 'bookings', column = 'facility_id', constraint = 'bookings_facility_in_building_fkey';
  end if;

  select a.building_id into apartment_building_id
  from public.apartments as a
  where a.id = new.apartment_id
    and (not api_user
      or private.is_building_manager(a.building_id)
      or a.id = any (array(select private.resident_apartment_ids())));
  if apartment_building_id is null then
    if api_user then
      raise exception using
        errcode = 'foreign_key_violation',
        message = 'No such apartment in your building.',
        hint = 'Book for your own apartment (public.apartments lists the apartments you may book for).',
        schema = 'public', table = 'bookings', column = 'apartment_id', constraint = 'bookings_apartment_in_building_fkey';
    end if;
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

  problem := private.booking_time_problem(new.starts_at, new.ends_at);
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('A booking %s.', problem),
      detail = pg_catalog.format('starts_at is %s and ends_at is %s.', new.starts_at, new.ends_at),
      hint = 'SALTO is written dates from 2000 to 2099 only: check the year of starts_at and ends_at.',
      schema = 'public', table = 'bookings', column = 'ends_at', constraint = 'bookings_times_salto_can_hold';
  end if;

  if new.status not in ('confirmed', 'cancelled') then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('%L is not a booking status.', new.status),
      hint = 'Use confirmed or cancelled.',
      schema = 'public', table = 'bookings', column = 'status', constraint = 'bookings_status_valid';
  end if;

  new.building_id := facility_building_id;

  -- The booking policy: a resident's confirmed booking, made or moved. On a move only the rules its
  -- change can break are checked (a resident may cancel a booking made beyond the limits by a manager).
  if api_user and new.status = 'confirmed' and not private.is_building_manager(facility_building_id) then
    select p.max_booking_length, p.max_days_ahead, p.max_unfinished_per_facility, p.max_unfinished_per_apartment
    into policy
    from public.booking_policies as p where p.building_id = facility_building_id;
    if not found then
      -- A building made before booking policies existed: it gets its row (the defaults) now.
      insert into public.booking_policies (building_id) values (facility_building_id) on conflict do nothing;
      select p.max_booking_length, p.max_days_ahead, p.max_unfinished_per_facility, p.max_unfinished_per_apartment
      into policy
      from public.booking_policies as p where p.building_id = facility_building_id;
    end if;

    if (tg_op = 'INSERT' or (new.starts_at, new.ends_at) is distinct from (old.starts_at, old.ends_at))
      and new.ends_at - new.starts_at > policy.max_booking_length then
      raise exception using
        errcode = 'check_violation',
        message = pg_catalog.format('A booking can be at most %s long (this one is %s).',
          private.describe_duration(policy.max_booking_length), private.describe_duration(new.ends_at - new.starts_at)) || policy_note,
        hint = policy_hint,
        schema = 'public', table = 'bookings', column = 'ends_at';
    end if;

    if (tg_op = 'INSERT' or new.starts_at is distinct from old.starts_at)
      and new.starts_at > pg_catalog.now() + pg_catalog.make_interval(days => policy.max_days_ahead) then
      raise exception using
        errcode = 'check_violation',
        message = pg_catalog.format('A booking can start at most %s days ahead (this one starts %s days ahead).',
          policy.max_days_ahead, pg_catalog.ceil(extract(epoch from new.starts_at - pg_catalog.now()) / 86400)) || policy_note,
        hint = policy_hint,
        schema = 'public', table = 'bookings', column = 'starts_at';
    end if;

    if new.ends_at > pg_catalog.now()
      and (tg_op = 'INSERT'
        or (new.apartment_id, new.facility_id) is distinct from (old.apartment_id, old.facility_id)
        or old.status <> 'confirmed'
        or old.ends_at <= pg_catalog.now()) then
      perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('public.bookings:policy:' || new.apartment_id::text, 0));

      -- One read of the apartment's unfinished bookings, from its partial index and at most as many as
      -- the apartment's cap (never the apartment's history, nor the facility's bookings of other
      -- apartments); below the cap they are all of them, so the facility's count is exact.
      select pg_catalog.count(*)::integer, (pg_catalog.count(*) filter (where u.facility_id = new.facility_id))::integer
      into unfinished, unfinished_of_facility
      from (
        select b.facility_id from public.bookings as b
        where b.apartment_id = new.apartment_id and b.status = 'confirmed' and b.ends_at > pg_catalog.now()
          and b.id <> new.id
        limit policy.max_unfinished_per_apartment
      ) as u;
      if unfinished >= policy.max_unfinished_per_apartment then
        raise exception using
          errcode = 'check_violation',
          message = pg_catalog.format('An apartment can hold at most %s unfinished bookings (this apartment already holds %s).',
            policy.max_unfinished_per_apartment, unfinished) || policy_note,
          hint = 'Cancel a booking you no longer need, or book again once one has finished. ' || policy_hint,
          schema = 'public', table = 'bookings', column = 'apartment_id';
      end if;
      if unfinished_of_facility >= policy.max_unfinished_per_facility then
        raise exception using
          errcode = 'check_violation',
          message = pg_catalog.format('An apartment can hold at most %s unfinished bookings of one facility (this apartment already holds %s of %s).',
            policy.max_unfinished_per_facility, unfinished_of_facility, facility_name) || policy_note,
          hint = 'Cancel a booking you no longer need, or book again once one has finished. ' || policy_hint,
          schema = 'public', table = 'bookings', column = 'facility_id';
      end if;
    end if;
  end if;

  -- Whoever books: the integration decides one apartment's unfinished bookings of one facility
  -- together (SALTO holds one permission per apartment and zone), so their number bounds what one
  -- fold costs. Not serialised: bookings of one pair committed at the same instant may pass it
  -- together, which costs a fold a little more and opens no door.
  if new.status = 'confirmed' and new.ends_at > pg_catalog.now()
    and (tg_op = 'INSERT'
      or (new.apartment_id, new.facility_id) is distinct from (old.apartment_id, old.facility_id)
      or old.status <> 'confirmed'
      or old.ends_at <= pg_catalog.now()) then
    select pg_catalog.count(*)::integer into unfinished_of_facility
    from (
      select from public.bookings as b
      where b.apartment_id = new.apartment_id and b.facility_id = new.facility_id
        and b.status = 'confirmed' and b.ends_at > pg_catalog.now() and b.id <> new.id
      limit private.max_unfinished_per_pair()
    ) as u;
    if unfinished_of_facility >= private.max_unfinished_per_pair() then
      raise exception using
        errcode = 'check_violation',
        message = pg_catalog.format('An apartment can hold at most %s unfinished bookings of one facility, whoever books them (this apartment holds %s of %s).',
          private.max_unfinished_per_pair(), unfinished_of_facility, facility_name),
        hint = 'SALTO holds one permission per apartment and zone, so these bookings are decided together: cancel bookings no longer needed, or book the later ones once earlier ones have finished.',
        schema = 'public', table = 'bookings', column = 'facility_id';
    end if;
  end if;

  return new;
end;
$$;
comment on function private.bookings_check_row() is
  'Trigger: fills bookings.building_id from the facility, keeps it fixed, explains in words a booking '
  'that the constraints would reject (facility or apartment unknown to the writer or in different '
  'buildings, end not after start, times SALTO cannot hold, unknown status), and holds residents'' '
  'bookings to the building''s booking policy.';
revoke execute on function private.bookings_check_row() from public;
create trigger check_row
  before insert or update on public.bookings
  for each row execute function private.bookings_check_row();

-- A building's time zone is an IANA name and its name is printable; mistakes are explained in words.
-- The check constraints hold even when triggers are bypassed.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(14);

select lives_ok(
  $$ insert into buildings (name, timezone)
     values ('Sydney', 'Australia/Sydney'), ('Zulu', 'UTC'), ('Café 体育馆 O''Brien ☕', 'Europe/Paris') $$,
  'a building accepts an IANA time zone and a name in any script'
);

select throws_ok(
  $$ insert into buildings (name, timezone) values ('x', 'australia/sydney') $$,
  '23514',
  'The building time zone ''australia/sydney'' is not valid: it is not an IANA time zone name (names are case-sensitive).',
  'a time zone spelled in the wrong case is refused with the reason'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values ('x', 'Mars/Olympus_Mons') $$,
  '23514',
  'The building time zone ''Mars/Olympus_Mons'' is not valid: it is not an IANA time zone name (names are case-sensitive).',
  'an unknown time zone is refused'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values ('x', 'AEST') $$,
  '23514',
  'The building time zone ''AEST'' is not valid: it is not an IANA time zone name (names are case-sensitive).',
  'a time zone abbreviation is refused'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values ('x', 'posix/Australia/Sydney') $$,
  '23514',
  'The building time zone ''posix/Australia/Sydney'' is not valid: it is not the IANA name of a place.',
  'a tz file-tree alias is refused'
);
select throws_ok(
  $$ update buildings set timezone = '+10:00' where id = tests.building_id('Sydney') $$,
  '23514',
  'The building time zone ''+10:00'' is not valid: it is not an IANA time zone name (names are case-sensitive).',
  'changing the time zone is validated too'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values ('   ', 'UTC') $$,
  '23514',
  'A building needs a name of 1 to 200 characters.',
  'a blank building name is refused'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values (E'Harbour View\r\nBcc: x@evil.example', 'UTC') $$,
  '23514',
  'The building name cannot be used: it contains U+000D CARRIAGE RETURN, a control character.',
  'a building name with a line break is refused, naming the character'
);
select throws_ok(
  $$ update buildings set name = E'Harbour \u202Eweiv' where id = tests.building_id('Sydney') $$,
  '23514',
  'The building name cannot be used: it contains U+202E RIGHT-TO-LEFT OVERRIDE, an invisible formatting character.',
  'renaming a building is checked too'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values (E'\u3000\u00a0', 'UTC') $$,
  '23514',
  'The building name cannot be used: it has no visible character.',
  'a building name of Unicode spaces only is refused'
);

-- With triggers off (replica mode, as in a restore), the constraints themselves still refuse bad data.
set local session_replication_role = replica;
select throws_ok(
  $$ insert into buildings (name, timezone) values ('x', 'Europe/Atlantis') $$,
  '23514',
  'new row for relation "buildings" violates check constraint "buildings_timezone_is_iana"',
  'the time zone check constraint holds without the trigger'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values (E'x\ty', 'UTC') $$,
  '23514',
  'new row for relation "buildings" violates check constraint "buildings_name_printable"',
  'the name check constraint holds without the trigger'
);
set local session_replication_role = origin;

select has_column('integration', 'email_settings', 'alert_emails', 'the alert email list is an email setting');
select hasnt_column('public', 'buildings', 'alert_emails', 'buildings no longer carry the alert email list, which residents can read');

select * from finish();
rollback;

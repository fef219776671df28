-- A building's time zone is an IANA name and its alert recipients are email addresses; mistakes are
-- explained in words. The check constraints hold even when triggers are bypassed.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(12);

select lives_ok(
  $$ insert into buildings (name, timezone, alert_emails)
     values ('Sydney', 'Australia/Sydney', '{manager@harbourview.example, "Night.Desk+alerts@harbourview.example"}'),
            ('Zulu', 'UTC', '{}') $$,
  'a building accepts an IANA time zone and a list of email addresses'
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
  $$ insert into buildings (name, timezone, alert_emails) values ('x', 'UTC', '{manager@harbourview.example, "Manager <m@x.example>"}') $$,
  '23514',
  'The alert email list is not valid: ''Manager <m@x.example>'' is not an email address.',
  'an alert recipient that is not a plain address is refused, naming it'
);
select throws_ok(
  $$ insert into buildings (name, timezone, alert_emails) values ('x', 'UTC', '{a@x.example, A@X.example}') $$,
  '23514',
  'The alert email list is not valid: an address is listed twice.',
  'an alert recipient listed twice is refused'
);
select throws_ok(
  $$ insert into buildings (name, timezone, alert_emails) values ('x', 'UTC', array['a@x.example', null]) $$,
  '23514',
  'The alert email list is not valid: an empty entry is not an email address.',
  'an empty alert recipient is refused'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values ('   ', 'UTC') $$,
  '23514',
  'A building needs a name of 1 to 200 characters.',
  'a blank building name is refused'
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
  $$ insert into buildings (name, timezone, alert_emails) values ('x', 'UTC', '{nobody}') $$,
  '23514',
  'new row for relation "buildings" violates check constraint "buildings_alert_emails_valid"',
  'the alert email check constraint holds without the trigger'
);
set local session_replication_role = origin;

select * from finish();
rollback;

-- Who receives a building's alert emails besides its managers (alert_emails, an email setting): bare
-- addresses only, at most 20, no repeats, explained in words; managers read and change their
-- buildings' list through public.alert_email_settings; residents and other managers see no row.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(17);

select tests.create_two_buildings();

select results_eq(
  $$ select alert_emails from integration.email_settings where building_id = tests.building_id('Alpha Towers') $$,
  $$ values ('{manager@alpha.example}'::text[]) $$,
  'a building''s alert addresses are in its email settings'
);
select lives_ok(
  $$ update integration.email_settings
     set alert_emails = '{manager@harbourview.example, Night.Desk+alerts@harbourview.example, o''brien@x-ray.example.com}'
     where building_id = tests.building_id('Alpha Towers') $$,
  'bare addresses are accepted, with + tags, dots and apostrophes'
);
select throws_ok(
  $$ update integration.email_settings set alert_emails = '{manager@harbourview.example, "Manager <m@x.example>"}'
     where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The alert email list is not valid: ''Manager <m@x.example>'' is not a bare email address.',
  'an alert recipient with a display name is refused, naming it'
);
select throws_ok(
  $$ update integration.email_settings set alert_emails = array['"x"<a@b.c>']
     where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The alert email list is not valid: ''"x"<a@b.c>'' is not a bare email address.',
  'a quoted name in angle brackets is refused'
);
select throws_ok(
  $$ update integration.email_settings set alert_emails = array['a,b@evil.example']
     where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The alert email list is not valid: ''a,b@evil.example'' is not a bare email address.',
  'two recipients in one entry (a comma) are refused'
);
select throws_ok(
  $$ update integration.email_settings set alert_emails = array[E'desk@x.example\r\nBcc: spy@evil.example']
     where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The alert email list is not valid: entry 1 contains a control character such as a line break.',
  'an entry with a line break is refused without echoing it'
);
select throws_ok(
  $$ update integration.email_settings set alert_emails = '{a@x.example, A@X.example}'
     where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The alert email list is not valid: an address is listed twice.',
  'an alert recipient listed twice is refused'
);
select throws_ok(
  $$ update integration.email_settings set alert_emails = array['a@x.example', null]
     where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The alert email list is not valid: an empty entry is not an email address.',
  'an empty alert recipient is refused'
);

-- Managers, through the view.
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select building_id from alert_email_settings $$,
  $$ values (tests.building_id('Alpha Towers')) $$,
  'a manager sees the email settings of their building only'
);
select results_eq(
  $$ update alert_email_settings set alert_emails = '{desk@alpha.example}'
     where building_id = tests.building_id('Alpha Towers') returning alert_emails $$,
  $$ values ('{desk@alpha.example}'::text[]) $$,
  'a manager can change who receives their building''s alert emails'
);
select throws_ok(
  $$ update alert_email_settings set alert_emails = '{"Desk <desk@alpha.example>"}'
     where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The alert email list is not valid: ''Desk <desk@alpha.example>'' is not a bare email address.',
  'a manager''s change is checked too'
);
select is_empty(
  $$ update alert_email_settings set alert_emails = '{spy@alpha.example}'
     where building_id = tests.building_id('Beta Court') returning building_id $$,
  'a manager cannot change another building''s alert addresses'
);

-- Residents and outsiders.
select tests.authenticate_as('resident_a101');
select is_empty($$ select alert_emails from alert_email_settings $$, 'a resident sees no alert addresses through the view');
select is_empty($$ select alert_emails from integration.email_settings $$, 'nor in the email settings table');
select is_empty(
  $$ update alert_email_settings set alert_emails = '{me@resident.example}' returning building_id $$,
  'a resident cannot change the alert addresses'
);
select tests.authenticate_as('outsider');
select is_empty($$ select alert_emails from alert_email_settings $$, 'a user of no building sees none');

reset role;
select tests.authenticate_as_service_role();
select results_eq(
  $$ select alert_emails from alert_email_settings where building_id = tests.building_id('Alpha Towers') $$,
  $$ values ('{desk@alpha.example}'::text[]) $$,
  'the service role reads every building''s alert addresses'
);

select * from finish();
rollback;

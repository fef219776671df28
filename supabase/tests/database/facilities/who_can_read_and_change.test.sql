-- Who can read and change facilities: a manager has full control of their buildings' facilities and
-- none over another building's; a resident reads their building's facilities only and changes none;
-- anon gets nothing; the service role all.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(20);

select tests.create_two_buildings();

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select name from facilities $$,
  $$ values ('Alpha gym') $$,
  'a manager sees the facilities of their building only'
);
select results_eq(
  $$ insert into facilities (building_id, name, access_control_facility_id, access_buffer_before, access_buffer_after)
     values (tests.building_id('Alpha Towers'), 'Alpha pool', 'POOL', '10 minutes', '5 minutes')
     returning name, access_buffer_before, access_buffer_after $$,
  $$ values ('Alpha pool', interval '10 minutes', interval '5 minutes') $$,
  'a manager can add a facility with access buffers to their building'
);
select throws_ok(
  $$ insert into facilities (building_id, name) values (tests.building_id('Beta Court'), 'Beta sauna') $$,
  '42501',
  'new row violates row-level security policy for table "facilities"',
  'a manager cannot add a facility to another building'
);
select results_eq(
  $$ update facilities set access_control_facility_id = 'GYM-2', access_buffer_after = '15 minutes'
     where id = tests.facility_id('Alpha gym') returning access_control_facility_id $$,
  $$ values ('GYM-2') $$,
  'a manager can change a facility''s Access Control Facility ID and buffers'
);
select is_empty(
  $$ update facilities set access_control_facility_id = 'HIJACKED' where id = tests.facility_id('Beta gym') returning id $$,
  'a manager cannot update another building''s facility'
);
select throws_ok(
  $$ update facilities set building_id = tests.building_id('Beta Court') where id = tests.facility_id('Alpha pool') $$,
  '23514',
  'A facility cannot be moved to another building.',
  'a manager cannot move a facility to another building'
);
select results_eq(
  $$ delete from facilities where id = tests.facility_id('Alpha pool') returning name $$,
  $$ values ('Alpha pool') $$,
  'a manager can delete a facility of their building'
);
select is_empty(
  $$ delete from facilities where id = tests.facility_id('Beta gym') returning id $$,
  'a manager cannot delete another building''s facility'
);

select tests.authenticate_as('manager_beta');
select results_eq(
  $$ select name, access_control_facility_id from facilities $$,
  $$ values ('Beta gym', 'GYM') $$,
  'the other manager sees their facility, untouched by the first manager'
);

select tests.authenticate_as('resident_a102');
select results_eq(
  $$ select name, access_buffer_before from facilities $$,
  $$ values ('Alpha gym', interval '10 minutes') $$,
  'a resident sees the facilities of their building only'
);
select throws_ok(
  $$ insert into facilities (building_id, name) values (tests.building_id('Alpha Towers'), 'Private gym') $$,
  '42501',
  'new row violates row-level security policy for table "facilities"',
  'a resident cannot add a facility'
);
select is_empty(
  $$ update facilities set access_buffer_after = '4 hours' where id = tests.facility_id('Alpha gym') returning id $$,
  'a resident cannot change a facility'
);
select is_empty(
  $$ delete from facilities where id = tests.facility_id('Alpha gym') returning id $$,
  'a resident cannot delete a facility'
);

select tests.authenticate_as('resident_b101');
select results_eq(
  $$ select name from facilities $$,
  $$ values ('Beta gym') $$,
  'a resident of the other building sees only their building''s facilities'
);

select tests.authenticate_as('outsider');
select is_empty($$ select id from facilities $$, 'a user with no building sees no facility');

select tests.clear_authentication();
select throws_ok(
  $$ select id from facilities $$,
  '42501',
  'permission denied for table facilities',
  'anon cannot read facilities'
);

-- anon may not use the test helpers: back to the session's own role before calling one.
reset role;
select tests.authenticate_as_service_role();
select results_eq(
  $$ select name from facilities where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court')) order by name $$,
  $$ values ('Alpha gym'), ('Beta gym') $$,
  'the service role sees every facility'
);
select lives_ok(
  $$ insert into facilities (building_id, name, access_control_facility_id) values (tests.building_id('Beta Court'), 'Beta BBQ', 'BBQ') $$,
  'the service role can add a facility anywhere'
);
select results_eq(
  $$ update facilities set access_buffer_before = '30 minutes' where id = tests.facility_id('Beta BBQ') returning access_buffer_before $$,
  $$ values (interval '30 minutes') $$,
  'the service role can update any facility'
);
select results_eq(
  $$ delete from facilities where id = tests.facility_id('Beta BBQ') returning name $$,
  $$ values ('Beta BBQ') $$,
  'the service role can delete any facility'
);

select * from finish();
rollback;

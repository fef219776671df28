-- Who can read and change apartments: a manager has full control of their buildings' apartments and
-- none over another building's; a resident reads only their own apartment; anon gets nothing; the
-- service role all.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(21);

select tests.create_two_buildings();

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select label from apartments order by label $$,
  $$ values ('A-101'), ('A-102') $$,
  'a manager sees the apartments of their building only'
);
select results_eq(
  $$ insert into apartments (building_id, label, access_control_id)
     values (tests.building_id('Alpha Towers'), 'A-103', 'APT-103') returning label $$,
  $$ values ('A-103') $$,
  'a manager can add an apartment to their building'
);
select throws_ok(
  $$ insert into apartments (building_id, label) values (tests.building_id('Beta Court'), 'B-999') $$,
  '42501',
  'new row violates row-level security policy for table "apartments"',
  'a manager cannot add an apartment to another building'
);
select results_eq(
  $$ update apartments set access_control_id = 'APT-101-NEW' where id = tests.apartment_id('A-101') returning access_control_id $$,
  $$ values ('APT-101-NEW') $$,
  'a manager can change an apartment''s Access Control ID'
);
select is_empty(
  $$ update apartments set access_control_id = 'HIJACKED' where id = tests.apartment_id('B-101') returning id $$,
  'a manager cannot update another building''s apartment'
);
select throws_ok(
  $$ update apartments set building_id = tests.building_id('Beta Court') where id = tests.apartment_id('A-102') $$,
  '23514',
  'An apartment cannot be moved to another building.',
  'a manager cannot move an apartment to another building'
);
select results_eq(
  $$ delete from apartments where id = tests.apartment_id('A-103') returning label $$,
  $$ values ('A-103') $$,
  'a manager can delete an apartment of their building'
);
select is_empty(
  $$ delete from apartments where id = tests.apartment_id('B-102') returning id $$,
  'a manager cannot delete another building''s apartment'
);

select tests.authenticate_as('manager_beta');
select results_eq(
  $$ select label, access_control_id from apartments order by label $$,
  $$ values ('B-101', 'APT-101'), ('B-102', 'APT-102') $$,
  'the other manager sees their apartments, untouched by the first manager'
);
select is_empty(
  $$ select id from apartments where building_id = tests.building_id('Alpha Towers') $$,
  'the other manager cannot read the first building''s apartments'
);

select tests.authenticate_as('resident_a101');
select results_eq(
  $$ select label from apartments $$,
  $$ values ('A-101') $$,
  'a resident sees only their own apartment'
);
select throws_ok(
  $$ insert into apartments (building_id, label) values (tests.building_id('Alpha Towers'), 'A-104') $$,
  '42501',
  'new row violates row-level security policy for table "apartments"',
  'a resident cannot add an apartment'
);
select is_empty(
  $$ update apartments set access_control_id = 'APT-102' where id = tests.apartment_id('A-101') returning id $$,
  'a resident cannot change their apartment''s Access Control ID'
);
select is_empty(
  $$ delete from apartments where id = tests.apartment_id('A-101') returning id $$,
  'a resident cannot delete their apartment'
);

select tests.authenticate_as('outsider');
select is_empty($$ select id from apartments $$, 'a user with no building sees no apartment');

select tests.clear_authentication();
select throws_ok(
  $$ select id from apartments $$,
  '42501',
  'permission denied for table apartments',
  'anon cannot read apartments'
);

-- anon may not use the test helpers: back to the session's own role before calling one.
reset role;
select tests.authenticate_as_service_role();
select results_eq(
  $$ select label from apartments where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court')) order by label $$,
  $$ values ('A-101'), ('A-102'), ('B-101'), ('B-102') $$,
  'the service role sees every apartment; the denied delete left B-102 in place'
);
select lives_ok(
  $$ insert into apartments (building_id, label) values (tests.building_id('Beta Court'), 'B-103') $$,
  'the service role can add an apartment anywhere'
);
select results_eq(
  $$ update apartments set access_control_id = 'APT-103' where id = tests.apartment_id('B-103') returning access_control_id $$,
  $$ values ('APT-103') $$,
  'the service role can update any apartment'
);
select results_eq(
  $$ delete from apartments where id = tests.apartment_id('B-103') returning label $$,
  $$ values ('B-103') $$,
  'the service role can delete any apartment'
);
select throws_ok(
  $$ update apartments set building_id = tests.building_id('Alpha Towers') where id = tests.apartment_id('B-101') $$,
  '23514',
  'An apartment cannot be moved to another building.',
  'not even the service role moves an apartment to another building'
);

select * from finish();
rollback;

-- Who can read and change buildings: a manager reads and edits their own buildings only and never
-- creates or deletes one; a resident reads their building; anon gets nothing; the service role all.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(20);

select tests.create_two_buildings();

-- Manager of Alpha Towers.
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select name from buildings $$,
  $$ values ('Alpha Towers') $$,
  'a manager sees only the building they manage'
);
select results_eq(
  $$ update buildings set name = 'Alpha Towers East', timezone = 'Australia/Melbourne'
     where id = tests.building_id('Alpha Towers') returning name, timezone $$,
  $$ values ('Alpha Towers East', 'Australia/Melbourne') $$,
  'a manager can rename their building and change its time zone'
);
select is_empty(
  $$ update buildings set name = 'Taken over' where id = tests.building_id('Beta Court') returning id $$,
  'a manager cannot update another building'
);
select is_empty(
  $$ select id from buildings where id = tests.building_id('Beta Court') $$,
  'a manager cannot read another building, even by id'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values ('Gamma House', 'UTC') $$,
  '42501',
  'permission denied for table buildings',
  'a manager cannot create a building'
);
select throws_ok(
  $$ delete from buildings where id = tests.building_id('Alpha Towers East') $$,
  '42501',
  'permission denied for table buildings',
  'a manager cannot delete their building'
);
select throws_ok(
  $$ update buildings set id = gen_random_uuid() where id = tests.building_id('Alpha Towers East') $$,
  '42501',
  'permission denied for table buildings',
  'a manager cannot change a building''s id'
);

-- Manager of Beta Court: the same, mirrored.
select tests.authenticate_as('manager_beta');
select results_eq(
  $$ select name from buildings $$,
  $$ values ('Beta Court') $$,
  'the other building''s manager sees only theirs'
);
select is_empty(
  $$ update buildings set timezone = 'UTC' where id = tests.building_id('Alpha Towers East') returning id $$,
  'the other building''s manager cannot update the first building'
);

-- Residents.
select tests.authenticate_as('resident_a101');
select results_eq(
  $$ select name, timezone from buildings $$,
  $$ values ('Alpha Towers East', 'Australia/Melbourne') $$,
  'a resident sees their own building and its time zone'
);
select is_empty(
  $$ update buildings set name = 'Mine now' where id = tests.building_id('Alpha Towers East') returning id $$,
  'a resident cannot update their building'
);
select throws_ok(
  $$ delete from buildings $$,
  '42501',
  'permission denied for table buildings',
  'a resident cannot delete a building'
);
select tests.authenticate_as('resident_b102');
select results_eq(
  $$ select name from buildings $$,
  $$ values ('Beta Court') $$,
  'a resident of the other building sees only theirs'
);

-- Signed in but neither manager nor resident.
select tests.authenticate_as('outsider');
select is_empty($$ select id from buildings $$, 'a user with no building sees no building');

-- anon.
select tests.clear_authentication();
select throws_ok(
  $$ select id from buildings $$,
  '42501',
  'permission denied for table buildings',
  'anon cannot read buildings'
);
select throws_ok(
  $$ insert into buildings (name, timezone) values ('Anon Place', 'UTC') $$,
  '42501',
  'permission denied for table buildings',
  'anon cannot create buildings'
);

-- Service role (functions, the connecX backend).
-- anon may not use the test helpers: back to the session's own role before calling one.
reset role;
select tests.authenticate_as_service_role();
select results_eq(
  $$ select count(*)::int from buildings where id in (tests.building_id('Alpha Towers East'), tests.building_id('Beta Court')) $$,
  $$ values (2) $$,
  'the service role sees every building'
);
select lives_ok(
  $$ insert into buildings (name, timezone) values ('Gamma House', 'Europe/London') $$,
  'the service role can create a building'
);
select results_eq(
  $$ delete from buildings where id = tests.building_id('Gamma House') returning name $$,
  $$ values ('Gamma House') $$,
  'the service role can delete a building'
);
select results_eq(
  $$ update buildings set name = 'Beta Court North' where id = tests.building_id('Beta Court') returning name $$,
  $$ values ('Beta Court North') $$,
  'the service role can update any building'
);

select * from finish();
rollback;

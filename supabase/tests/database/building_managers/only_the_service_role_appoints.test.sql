-- Who can see and appoint managers: a manager reads the managers of their own buildings only and
-- cannot appoint or remove anyone; residents and anon see nothing; the service role appoints. Removing
-- a manager's row takes their access away at once.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(15);

select tests.create_two_buildings();
-- A second manager of Alpha Towers, so "sees the managers of their building" means more than "sees themselves".
insert into building_managers (building_id, user_id)
values (tests.building_id('Alpha Towers'), tests.create_supabase_user('manager_alpha_2'));

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select user_id from building_managers order by user_id $$,
  $$ select unnest(array[tests.get_supabase_uid('manager_alpha'), tests.get_supabase_uid('manager_alpha_2')]) as user_id order by 1 $$,
  'a manager sees the managers of their building'
);
select is_empty(
  $$ select user_id from building_managers where building_id = tests.building_id('Beta Court') $$,
  'a manager cannot see who manages another building'
);
select throws_ok(
  $$ insert into building_managers (building_id, user_id) values (tests.building_id('Beta Court'), tests.get_supabase_uid('manager_alpha')) $$,
  '42501',
  'permission denied for table building_managers',
  'a manager cannot appoint themselves to another building'
);
select throws_ok(
  $$ insert into building_managers (building_id, user_id) values (tests.building_id('Alpha Towers'), tests.get_supabase_uid('outsider')) $$,
  '42501',
  'permission denied for table building_managers',
  'a manager cannot appoint a manager to their own building either'
);
select throws_ok(
  $$ update building_managers set building_id = tests.building_id('Beta Court') $$,
  '42501',
  'permission denied for table building_managers',
  'a manager cannot move a manager row to another building'
);
select throws_ok(
  $$ delete from building_managers where user_id = tests.get_supabase_uid('manager_alpha_2') $$,
  '42501',
  'permission denied for table building_managers',
  'a manager cannot remove another manager'
);

select tests.authenticate_as('manager_beta');
select results_eq(
  $$ select user_id from building_managers $$,
  $$ values (tests.get_supabase_uid('manager_beta')) $$,
  'the other building''s manager sees only their own building''s managers'
);

select tests.authenticate_as('resident_a101');
select is_empty($$ select user_id from building_managers $$, 'a resident sees no manager rows');
select throws_ok(
  $$ insert into building_managers (building_id, user_id) values (tests.building_id('Alpha Towers'), tests.get_supabase_uid('resident_a101')) $$,
  '42501',
  'permission denied for table building_managers',
  'a resident cannot make themselves a manager'
);

select tests.clear_authentication();
select throws_ok(
  $$ select user_id from building_managers $$,
  '42501',
  'permission denied for table building_managers',
  'anon cannot read building_managers'
);

-- anon may not use the test helpers: back to the session's own role before calling one.
reset role;
select tests.authenticate_as_service_role();
select results_eq(
  $$ select count(*)::int from building_managers
     where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court')) $$,
  $$ values (3) $$,
  'the service role sees every manager'
);
select lives_ok(
  $$ insert into building_managers (building_id, user_id) values (tests.building_id('Beta Court'), tests.get_supabase_uid('outsider')) $$,
  'the service role can appoint a manager'
);
select results_eq(
  $$ delete from building_managers where user_id = tests.get_supabase_uid('manager_alpha') returning user_id $$,
  $$ values (tests.get_supabase_uid('manager_alpha')) $$,
  'the service role can remove a manager'
);

-- The appointment and the removal take effect on the next statement, without a new token.
select tests.authenticate_as('outsider');
select results_eq(
  $$ select name from buildings $$,
  $$ values ('Beta Court') $$,
  'a newly appointed manager sees their building at once'
);
select tests.authenticate_as('manager_alpha');
select is_empty(
  $$ select id from apartments $$,
  'a removed manager loses access at once'
);

select * from finish();
rollback;

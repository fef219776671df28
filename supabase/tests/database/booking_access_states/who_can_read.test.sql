-- Who can read bookings' SALTO access states and the alerts: a manager those of their buildings, a
-- resident their apartment's access states (and no alerts), anon nothing; nobody writes through them.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(15);

select tests.create_two_buildings();
-- A second booking of A-101's gym a week later waits for the first: a double booking alert.
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney');

-- Before the sync folds the bookings' changes, their states are pending; a manager sees that too.
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select distinct state::text from booking_access_states where apartment_id = tests.apartment_id('A-101') $$,
  $$ values ('pending') $$,
  'a manager reads just-made bookings as pending until their access is worked out'
);
-- The sync (or the minute job) folds them, as the database owner: this test's two buildings only, so
-- that changes pending elsewhere (the demo's, another test's) are neither read nor decided here.
reset role;
select integration.apply_booking_changes(null, tests.building_id('Alpha Towers'));
select integration.apply_booking_changes(null, tests.building_id('Beta Court'));

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select count(*)::int from booking_access_states $$, $$ values (3) $$,
  'a manager reads the access states of their building''s bookings'
);
select is_empty(
  $$ select 1 from booking_access_states where building_id <> tests.building_id('Alpha Towers') $$,
  'a manager reads no access state of another building'
);
select results_eq(
  $$ select state::text from booking_access_states where apartment_id = tests.apartment_id('A-101') order by access_starts_at $$,
  $$ values ('scheduled'), ('waiting') $$,
  'the second booking of the same facility waits while the first holds the permission'
);
select results_eq(
  $$ select kind from access_alerts $$, $$ values ('double_booking') $$,
  'a manager reads the double booking alert of their building'
);
select throws_ok(
  $$ update booking_access_states set state = 'active' $$,
  '55000', null,
  'a manager cannot change an access state (the view is not updatable)'
);
select ok(
  not has_table_privilege('authenticated', 'public.booking_access_states', 'insert, update, delete'),
  'managers and residents hold no write privilege on access states'
);

select tests.authenticate_as('manager_beta');
select results_eq(
  $$ select count(*)::int from booking_access_states $$, $$ values (2) $$,
  'the other building''s manager reads only their own building''s access states'
);
select is_empty($$ select 1 from access_alerts $$, 'the other building''s manager sees none of Alpha''s alerts');

select tests.authenticate_as('resident_a101');
select results_eq(
  $$ select count(*)::int from booking_access_states $$, $$ values (2) $$,
  'a resident reads the access states of their apartment''s bookings'
);
select is_empty(
  $$ select 1 from booking_access_states where apartment_id <> tests.apartment_id('A-101') $$,
  'a resident reads no other apartment''s access states'
);
select is_empty($$ select 1 from access_alerts $$, 'residents see no manager alerts');

select tests.authenticate_as('outsider');
select is_empty($$ select 1 from booking_access_states $$, 'a user of no building reads nothing');

select tests.clear_authentication();
select throws_ok($$ select 1 from booking_access_states $$, '42501', null, 'anon cannot read access states');
select throws_ok($$ select 1 from access_alerts $$, '42501', null, 'anon cannot read alerts');

select * from finish();
rollback;

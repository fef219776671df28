-- Every building has a booking policy from the start, with the defaults a building would choose. Its
-- managers read and change it (within sane bounds, explained in words); its residents read it so the
-- app can show the limits; nobody else sees it; only the service role creates or deletes one.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(23);

select tests.create_two_buildings();

select results_eq(
  $$ select max_booking_length, max_days_ahead, max_unfinished_per_facility, max_unfinished_per_apartment
     from booking_policies where building_id = tests.building_id('Alpha Towers') $$,
  $$ values (interval '24 hours', 365, 5, 20) $$,
  'a new building gets the default policy: 24 hours long, 365 days ahead, 5 per facility, 20 per apartment'
);

-- Manager of Alpha Towers.
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select building_id from booking_policies $$,
  $$ values (tests.building_id('Alpha Towers')) $$,
  'a manager sees the policy of their building only'
);
select results_eq(
  $$ update booking_policies set max_booking_length = '3 hours', max_days_ahead = 30,
       max_unfinished_per_facility = 2, max_unfinished_per_apartment = 6
     where building_id = tests.building_id('Alpha Towers')
     returning max_booking_length, max_days_ahead, max_unfinished_per_facility, max_unfinished_per_apartment $$,
  $$ values (interval '3 hours', 30, 2, 6) $$,
  'a manager can change every limit of their building''s policy'
);
select is_empty(
  $$ update booking_policies set max_days_ahead = 3650 where building_id = tests.building_id('Beta Court') returning building_id $$,
  'a manager cannot change another building''s policy'
);
select throws_ok(
  $$ update booking_policies set building_id = tests.building_id('Beta Court') where building_id = tests.building_id('Alpha Towers') $$,
  '42501',
  'permission denied for table booking_policies',
  'a manager cannot move a policy to another building'
);
select throws_ok(
  $$ insert into booking_policies (building_id) values (tests.building_id('Alpha Towers')) $$,
  '42501',
  'permission denied for table booking_policies',
  'a manager cannot create a policy'
);
select throws_ok(
  $$ delete from booking_policies $$,
  '42501',
  'permission denied for table booking_policies',
  'a manager cannot delete a policy'
);
select throws_ok(
  $$ update booking_policies set max_booking_length = '0' where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The longest booking (00:00:00) is not valid: it is shorter than 5 minutes.',
  'a zero longest booking is refused in words'
);
select throws_ok(
  $$ update booking_policies set max_booking_length = '1 year' where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The longest booking (1 year) is not valid: write it in days, hours and minutes, not months or years.',
  'a longest booking in years is refused'
);
select throws_ok(
  $$ update booking_policies set max_booking_length = '100 days' where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The longest booking (100 days) is not valid: it is longer than 90 days.',
  'a longest booking beyond 90 days is refused'
);
select throws_ok(
  $$ update booking_policies set max_days_ahead = 0 where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'How far ahead a booking may start must be 1 to 3650 days, not 0.',
  'booking ahead must be allowed for at least a day'
);
select throws_ok(
  $$ update booking_policies set max_unfinished_per_facility = 0 where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The unfinished bookings an apartment may hold of one facility must be 1 to 500 (the most anyone may book), not 0.',
  'the cap per facility is at least 1'
);
select throws_ok(
  $$ update booking_policies set max_unfinished_per_facility = 501 where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The unfinished bookings an apartment may hold of one facility must be 1 to 500 (the most anyone may book), not 501.',
  'the cap per facility is at most what anyone may book'
);
select throws_ok(
  $$ update booking_policies set max_unfinished_per_apartment = 100000 where building_id = tests.building_id('Alpha Towers') $$,
  '23514',
  'The unfinished bookings an apartment may hold in all must be 1 to 1000, not 100000.',
  'the cap per apartment is at most 1000'
);

-- Residents read their building's policy, and change nothing.
select tests.authenticate_as('resident_a101');
select results_eq(
  $$ select building_id, max_booking_length from booking_policies $$,
  $$ values (tests.building_id('Alpha Towers'), interval '3 hours') $$,
  'a resident reads their building''s policy (and no other)'
);
select is_empty(
  $$ update booking_policies set max_booking_length = '90 days' returning building_id $$,
  'a resident cannot change the policy'
);
select tests.authenticate_as('resident_b102');
select results_eq(
  $$ select building_id from booking_policies $$,
  $$ values (tests.building_id('Beta Court')) $$,
  'a resident of the other building reads theirs'
);
select tests.authenticate_as('outsider');
select is_empty($$ select building_id from booking_policies $$, 'a user of no building sees no policy');

select tests.clear_authentication();
select throws_ok(
  $$ select building_id from booking_policies $$,
  '42501',
  'permission denied for table booking_policies',
  'anon cannot read policies'
);

reset role;
select tests.authenticate_as_service_role();
select results_eq(
  $$ select count(*)::int from booking_policies
     where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court')) $$,
  $$ values (2) $$,
  'the service role sees every policy'
);
select lives_ok(
  $$ update booking_policies set max_days_ahead = 730 where building_id = tests.building_id('Beta Court') $$,
  'the service role can change any policy'
);

reset role;
set local session_replication_role = replica;
select throws_ok(
  $$ update booking_policies set max_unfinished_per_facility = -1 where building_id = tests.building_id('Beta Court') $$,
  '23514',
  'new row for relation "booking_policies" violates check constraint "booking_policies_max_unfinished_per_facility_range"',
  'the bounds hold without the trigger'
);
set local session_replication_role = origin;
insert into buildings (name, timezone) values ('Gamma House', 'UTC');
select results_eq(
  $$ select max_days_ahead from booking_policies where building_id = tests.building_id('Gamma House') $$,
  $$ values (365) $$,
  'a building created later gets its policy with it'
);

select * from finish();
rollback;

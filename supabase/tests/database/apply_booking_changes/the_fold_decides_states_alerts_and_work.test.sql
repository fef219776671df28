-- integration.apply_booking_changes folds the recorded changes into access states, double-booking
-- alerts and access level work, and deletes the change rows it applied; folding again changes nothing,
-- and a change left by an apartment deleted since decides nothing.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(10);

select tests.create_two_buildings();
-- Start from a folded state: the fixture's bookings decided, nothing of A-101 pending.
select integration.apply_booking_changes(null);
delete from integration.access_level_work where building_id = tests.building_id('Alpha Towers');

-- A-101 books the gym again a week later, as the app does (service role): a double booking.
select tests.authenticate_as_service_role();
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney');
reset role;

-- The fold decides.
select is(integration.apply_booking_changes(null), 1, 'the fold applies the one pending change');
select is_empty(
  $$ select 1 from integration.booking_changes where building_id = tests.building_id('Alpha Towers') $$,
  'the fold deletes the change rows it applied'
);
select results_eq(
  $$ select state::text from booking_access_states where apartment_id = tests.apartment_id('A-101') order by access_starts_at $$,
  $$ values ('scheduled'), ('waiting') $$,
  'the fold decides the states: the second booking waits while the first holds the permission'
);
select results_eq(
  $$ select kind, booking_id from integration.alerts where building_id = tests.building_id('Alpha Towers') $$,
  $$ select 'double_booking', id from bookings where starts_at = '2030-06-08 09:00 Australia/Sydney' $$,
  'the fold raises the double-booking alert'
);
select results_eq(
  $$ select access_level_id, generation from integration.access_level_work where building_id = tests.building_id('Alpha Towers') $$,
  $$ values ('APT-101', 1::bigint) $$,
  'the fold queues a work row for the apartment''s access level'
);

-- Folding again, with nothing pending, changes nothing.
create temporary table after_fold on commit drop as
  select booking_id, state, reason, window_start, window_end, write_at, updated_at from integration.booking_access
  where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'));
select is(integration.apply_booking_changes(null), 0, 'a second fold finds nothing to apply');
select results_eq(
  $$ select booking_id, state, reason, window_start, window_end, write_at, updated_at from integration.booking_access
     where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court')) order by booking_id $$,
  $$ select * from after_fold order by booking_id $$,
  'a second fold leaves the states as they were'
);
select results_eq(
  $$ select count(*)::int from integration.alerts where kind = 'double_booking' and building_id = tests.building_id('Alpha Towers') $$,
  $$ values (1) $$,
  'a second fold raises no second alert'
);

-- A change left by an apartment deleted since (its bookings and states went with it) decides nothing.
create temporary table work_before on commit drop as
  select count(*) as n from integration.access_level_work where building_id = tests.building_id('Alpha Towers');
insert into integration.booking_changes (building_id, apartment_id, facility_id)
values (tests.building_id('Alpha Towers'), '00000000-0000-4000-8000-0000000000de', tests.facility_id('Alpha gym'));
select is(
  integration.apply_booking_changes(null, tests.building_id('Alpha Towers')), 1,
  'a change of an apartment deleted since is taken'
);
select is(
  (select count(*) from integration.access_level_work where building_id = tests.building_id('Alpha Towers')),
  (select n from work_before),
  'and queues nothing'
);

select * from finish();
rollback;

-- The booking triggers only append to integration.booking_changes (and wake the sync): the booking's
-- transaction itself decides no access state, raises no alert and queues no work.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(4);

select tests.create_two_buildings();
-- Start from a folded state: the fixture's bookings decided, nothing of A-101 pending.
select integration.apply_booking_changes(null);
delete from integration.access_level_work where building_id = tests.building_id('Alpha Towers');

create temporary table before_booking on commit drop as
  select
    (select count(*) from integration.booking_access where building_id = tests.building_id('Alpha Towers')) as states,
    (select count(*) from integration.alerts where building_id = tests.building_id('Alpha Towers')) as alerts,
    (select count(*) from integration.access_level_work where building_id = tests.building_id('Alpha Towers')) as work;

-- A-101 books the gym again a week later, as the app does (service role): a double booking.
select tests.authenticate_as_service_role();
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney');
reset role;

select results_eq(
  $$ select apartment_id, facility_id from integration.booking_changes where building_id = tests.building_id('Alpha Towers') $$,
  $$ values (tests.apartment_id('A-101'), tests.facility_id('Alpha gym')) $$,
  'the booking trigger records its apartment and facility as changed, once'
);
select results_eq(
  $$ select (select count(*) from integration.booking_access where building_id = tests.building_id('Alpha Towers')) = b.states,
       (select count(*) from integration.alerts where building_id = tests.building_id('Alpha Towers')) = b.alerts,
       (select count(*) from integration.access_level_work where building_id = tests.building_id('Alpha Towers')) = b.work
     from before_booking as b $$,
  $$ values (true, true, true) $$,
  'the booking trigger itself writes no access state, no alert and no work row'
);
select results_eq(
  $$ select state::text, reason from booking_access_states
     where booking_id = (select id from bookings where starts_at = '2030-06-08 09:00 Australia/Sydney') $$,
  $$ values ('pending', 'Just booked: its SALTO access is being worked out.') $$,
  'until the fold, the new booking is pending, with a reason saying so'
);
select is(
  (select pg_catalog.current_setting('integration.sync_woken', true)), 'yes',
  'the booking transaction wakes the sync'
);

select * from finish();
rollback;

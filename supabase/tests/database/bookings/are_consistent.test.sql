-- A booking's facility and apartment are in one building (the booking's, derived from the facility
-- and fixed), it ends after it starts, and its status is confirmed or cancelled. The foreign keys and
-- constraints hold even when triggers are bypassed.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(14);

select tests.create_two_buildings();

select results_eq(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-07-01 09:00+10', '2030-07-01 10:00+10')
     returning building_id, status $$,
  $$ values (tests.building_id('Alpha Towers'), 'confirmed') $$,
  'a booking takes its building from the facility and starts out confirmed'
);

select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Beta gym'), tests.apartment_id('A-101'), '2030-07-01 09:00+10', '2030-07-01 10:00+10') $$,
  '23514',
  'The facility and the apartment of a booking must be in the same building.',
  'a booking of another building''s facility is refused in words'
);
select throws_ok(
  $$ insert into bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
     values (tests.building_id('Beta Court'), tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-07-01 09:00+10', '2030-07-01 10:00+10') $$,
  '23514',
  'The building of a booking must be the building of its facility.',
  'a building_id that contradicts the facility is refused'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-07-01 10:00+10', '2030-07-01 10:00+10') $$,
  '23514',
  'A booking must end after it starts.',
  'a booking ending when it starts is refused'
);
select throws_ok(
  format(
    $$ update bookings set ends_at = starts_at - interval '1 minute' where id = %L $$,
    tests.booking_of('A-101')
  ),
  '23514',
  'A booking must end after it starts.',
  'moving a booking''s end before its start is refused'
);
select throws_ok(
  format($$ update bookings set status = 'pending' where id = %L $$, tests.booking_of('A-101')),
  '23514',
  '''pending'' is not a booking status.',
  'a status other than confirmed or cancelled is refused'
);
select throws_ok(
  format($$ update bookings set facility_id = tests.facility_id('Beta gym') where id = %L $$, tests.booking_of('A-101')),
  '23514',
  'A booking cannot be moved to another building.',
  'a booking cannot be moved to another building by changing its facility'
);
select throws_ok(
  format($$ update bookings set building_id = tests.building_id('Beta Court') where id = %L $$, tests.booking_of('A-101')),
  '23514',
  'A booking cannot be moved to another building.',
  'a booking''s building_id cannot be changed'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values ('00000000-0000-0000-0000-000000000000', tests.apartment_id('A-101'), '2030-07-01 09:00+10', '2030-07-01 10:00+10') $$,
  '23503',
  'There is no facility with id 00000000-0000-0000-0000-000000000000.',
  'a booking of an unknown facility is refused'
);
select throws_ok(
  format($$ delete from facilities where id = %L $$, tests.facility_id('Alpha gym')),
  '23503',
  'update or delete on table "facilities" violates foreign key constraint "bookings_facility_in_building_fkey" on table "bookings"',
  'a facility with bookings cannot be deleted by accident'
);

-- With this project's triggers off (foreign keys are system triggers and stay on), the keys and
-- constraints still refuse bad data. Rolled back with the rest of the test.
alter table public.bookings disable trigger user;
select throws_ok(
  $$ insert into bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
     values (tests.building_id('Alpha Towers'), tests.facility_id('Alpha gym'), tests.apartment_id('B-101'), '2030-07-01 09:00+10', '2030-07-01 10:00+10') $$,
  '23503',
  'insert or update on table "bookings" violates foreign key constraint "bookings_apartment_in_building_fkey"',
  'the composite foreign key keeps the apartment in the booking''s building'
);
select throws_ok(
  $$ insert into bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
     values (tests.building_id('Beta Court'), tests.facility_id('Alpha gym'), tests.apartment_id('B-101'), '2030-07-01 09:00+10', '2030-07-01 10:00+10') $$,
  '23503',
  'insert or update on table "bookings" violates foreign key constraint "bookings_facility_in_building_fkey"',
  'the composite foreign key keeps the facility in the booking''s building'
);
select throws_ok(
  $$ insert into bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
     values (tests.building_id('Alpha Towers'), tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-07-01 10:00+10', '2030-07-01 09:00+10') $$,
  '23514',
  'new row for relation "bookings" violates check constraint "bookings_ends_after_start"',
  'the bookings_ends_after_start constraint holds without the trigger'
);
select throws_ok(
  $$ insert into bookings (building_id, facility_id, apartment_id, starts_at, ends_at, status)
     values (tests.building_id('Alpha Towers'), tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-07-01 09:00+10', '2030-07-01 10:00+10', 'maybe') $$,
  '23514',
  'new row for relation "bookings" violates check constraint "bookings_status_valid"',
  'the bookings_status_valid constraint holds without the trigger'
);
alter table public.bookings enable trigger user;

select * from finish();
rollback;

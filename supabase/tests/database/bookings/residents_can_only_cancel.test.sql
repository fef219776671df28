-- A resident sees and books for their own apartment, in their own name, and may cancel its bookings
-- but change nothing else and delete nothing; a user of no apartment sees no booking.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(15);

select tests.create_two_buildings();

select tests.authenticate_as('resident_a101');
select results_eq(
  $$ select apartment_id from bookings $$,
  $$ values (tests.apartment_id('A-101')) $$,
  'a resident sees only their apartment''s bookings'
);
select results_eq(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), date_trunc('hour', now()) + interval '2 days', date_trunc('hour', now()) + interval '2 days 1 hour')
     returning created_by, status $$,
  $$ values (tests.get_supabase_uid('resident_a101'), 'confirmed') $$,
  'a resident can book a facility of their building for their apartment, in their own name'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-102'), date_trunc('hour', now()) + interval '2 days', date_trunc('hour', now()) + interval '2 days 1 hour') $$,
  '23503',
  'No such apartment in your building.',
  'a resident cannot book for a neighbour''s apartment'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Beta gym'), tests.apartment_id('A-101'), date_trunc('hour', now()) + interval '2 days', date_trunc('hour', now()) + interval '2 days 1 hour') $$,
  '23503',
  'No such facility in your building.',
  'a resident cannot book another building''s facility, and is not told whose it is'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Beta gym'), tests.apartment_id('B-101'), date_trunc('hour', now()) + interval '2 days', date_trunc('hour', now()) + interval '2 days 1 hour') $$,
  '23503',
  'No such facility in your building.',
  'a resident cannot book in another building'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at, created_by)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), date_trunc('hour', now()) + interval '3 days', date_trunc('hour', now()) + interval '3 days 1 hour', tests.get_supabase_uid('resident_a102')) $$,
  '42501',
  'new row violates row-level security policy for table "bookings"',
  'a resident cannot book in someone else''s name'
);
select throws_ok(
  format($$ update bookings set ends_at = ends_at + interval '2 hours' where id = %L $$, tests.booking_of('A-101')),
  '42501',
  'Residents can only cancel a booking.',
  'a resident cannot change the time of their booking'
);
select throws_ok(
  format($$ update bookings set facility_id = tests.facility_id('Alpha gym'), apartment_id = tests.apartment_id('A-101'), starts_at = starts_at - interval '1 day', status = 'cancelled' where id = %L $$, tests.booking_of('A-101')),
  '42501',
  'Residents can only cancel a booking.',
  'a resident cannot slip a time change into a cancellation'
);
select results_eq(
  format($$ update bookings set status = 'cancelled' where id = %L returning status $$, tests.booking_of('A-101')),
  $$ values ('cancelled') $$,
  'a resident can cancel their apartment''s booking'
);
select throws_ok(
  format($$ update bookings set status = 'confirmed' where id = %L $$, tests.booking_of('A-101')),
  '42501',
  'Residents can only cancel a booking.',
  'a resident cannot confirm a cancelled booking again'
);
select is_empty(
  $$ update bookings set status = 'cancelled' where apartment_id = tests.apartment_id('A-102') returning id $$,
  'a resident cannot cancel a neighbour''s booking'
);
select is_empty(
  format($$ delete from bookings where id = %L returning id $$, tests.booking_of('A-101')),
  'a resident cannot delete their apartment''s booking'
);
select ok(
  tests.row_exists('bookings', tests.booking_of('A-101')),
  'the resident''s denied delete left the booking in place'
);

select tests.authenticate_as('resident_b102');
select results_eq(
  $$ select apartment_id from bookings $$,
  $$ values (tests.apartment_id('B-102')) $$,
  'a resident of the other building sees only their apartment''s bookings'
);

select tests.authenticate_as('outsider');
select is_empty($$ select id from bookings $$, 'a user with no apartment sees no booking');

select * from finish();
rollback;

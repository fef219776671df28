-- A manager has full control of their buildings' bookings, booking in their own name, and none over
-- another building's.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(12);

select tests.create_two_buildings();

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select apartment_id from bookings order by starts_at $$,
  $$ values (tests.apartment_id('A-101')), (tests.apartment_id('A-102')) $$,
  'a manager sees the bookings of their building only'
);
select results_eq(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-102'), '2030-06-02 09:00+10', '2030-06-02 10:00+10')
     returning created_by $$,
  $$ values (tests.get_supabase_uid('manager_alpha')) $$,
  'a manager can book for any apartment of their building, in their own name'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Beta gym'), tests.apartment_id('B-101'), '2030-06-02 09:00+08', '2030-06-02 10:00+08') $$,
  '23503',
  'No such facility in your building.',
  'a manager cannot book in another building, and is not told whose facility it is'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at, created_by)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-102'), '2030-06-03 09:00+10', '2030-06-03 10:00+10', tests.get_supabase_uid('resident_a102')) $$,
  '42501',
  'new row violates row-level security policy for table "bookings"',
  'a manager cannot make a booking in someone else''s name'
);
select results_eq(
  format(
    $$ update bookings set starts_at = '2030-06-01 09:30+10', ends_at = '2030-06-01 10:30+10' where id = %L returning starts_at $$,
    tests.booking_of('A-101')
  ),
  $$ values ('2030-06-01 09:30+10'::timestamptz) $$,
  'a manager can change the time of a booking in their building'
);
select results_eq(
  format($$ update bookings set apartment_id = tests.apartment_id('A-102') where id = %L returning apartment_id $$, tests.booking_of('A-101')),
  $$ values (tests.apartment_id('A-102')) $$,
  'a manager can move a booking to another apartment of their building'
);
select is_empty(
  format($$ update bookings set status = 'cancelled' where id = %L returning id $$, tests.booking_of('B-101')),
  'a manager cannot cancel a booking of another building'
);
select throws_ok(
  format($$ update bookings set facility_id = tests.facility_id('Beta gym'), apartment_id = tests.apartment_id('B-101') where id = %L $$, tests.booking_of('A-102')),
  '23503',
  'No such facility in your building.',
  'a manager cannot move a booking to another building'
);
select results_eq(
  format($$ delete from bookings where id = %L returning status $$, tests.booking_of('A-102')),
  $$ values ('confirmed') $$,
  'a manager can delete a booking of their building'
);
select is_empty(
  format($$ delete from bookings where id = %L returning id $$, tests.booking_of('B-102')),
  'a manager cannot delete a booking of another building'
);

select tests.authenticate_as('manager_beta');
select results_eq(
  $$ select apartment_id, status from bookings order by starts_at $$,
  $$ values (tests.apartment_id('B-101'), 'confirmed'), (tests.apartment_id('B-102'), 'confirmed') $$,
  'the other manager sees their bookings, untouched by the first manager'
);
select is_empty(
  $$ select id from bookings where building_id = tests.building_id('Alpha Towers') $$,
  'the other manager cannot read the first building''s bookings'
);

select * from finish();
rollback;

-- anon can neither read nor make a booking; the service role (the connecX backend) reads, makes,
-- changes and deletes bookings of every building, and the bookings it makes have no author.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(6);

select tests.create_two_buildings();
-- The rows anon names, looked up while the helpers may still be called.
select tests.facility_id('Alpha gym') as alpha_gym, tests.apartment_id('A-101') as a101 \gset

select tests.clear_authentication();
select throws_ok(
  $$ select id from bookings $$,
  '42501',
  'permission denied for table bookings',
  'anon cannot read bookings'
);
select throws_ok(
  format($$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (%L, %L, '2030-06-08 07:00+10', '2030-06-08 08:00+10') $$, :'alpha_gym', :'a101'),
  '42501',
  'permission denied for table bookings',
  'anon cannot book'
);

-- anon may not use the test helpers: back to the session's own role before calling one.
reset role;
select tests.authenticate_as_service_role();
select results_eq(
  $$ select count(*)::int from bookings where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court')) $$,
  $$ values (4) $$,
  'the service role sees every booking'
);
select results_eq(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Beta gym'), tests.apartment_id('B-101'), '2030-06-09 07:00+08', '2030-06-09 08:00+08')
     returning created_by, building_id $$,
  $$ values (null::uuid, tests.building_id('Beta Court')) $$,
  'the service role can book anywhere; such bookings have no author'
);
select results_eq(
  $$ update bookings set status = 'cancelled'
     where id in (tests.booking_of('A-102'), tests.booking_of('B-102'))
     returning status $$,
  $$ values ('cancelled'), ('cancelled') $$,
  'the service role can update bookings of any building'
);
select results_eq(
  $$ delete from bookings where apartment_id = tests.apartment_id('B-101') returning apartment_id $$,
  $$ values (tests.apartment_id('B-101')), (tests.apartment_id('B-101')) $$,
  'the service role can delete any booking'
);

select * from finish();
rollback;

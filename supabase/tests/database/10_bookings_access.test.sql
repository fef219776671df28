-- Who can read and change bookings: a manager has full control of their buildings' bookings and none
-- over another building's; a resident sees and books for their own apartment, in their own name, and
-- may cancel its bookings but change nothing else and delete nothing; anon gets nothing; the service
-- role all.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(33);

select tests.create_two_buildings();

/*
 * Manager of Alpha Towers
 */
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
  '42501',
  'new row violates row-level security policy for table "bookings"',
  'a manager cannot book in another building'
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
  '23514',
  'A booking cannot be moved to another building.',
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

/*
 * Resident of A-101 (a booking of A-101 was moved to A-102 above, so give them one again)
 */
reset role;
insert into bookings (facility_id, apartment_id, starts_at, ends_at, created_by)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-05 07:00+10', '2030-06-05 08:00+10', tests.get_supabase_uid('resident_a101'));

select tests.authenticate_as('resident_a101');
select results_eq(
  $$ select apartment_id from bookings $$,
  $$ values (tests.apartment_id('A-101')) $$,
  'a resident sees only their apartment''s bookings'
);
select results_eq(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-06 07:00+10', '2030-06-06 08:00+10')
     returning created_by, status $$,
  $$ values (tests.get_supabase_uid('resident_a101'), 'confirmed') $$,
  'a resident can book a facility of their building for their apartment, in their own name'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-102'), '2030-06-06 07:00+10', '2030-06-06 08:00+10') $$,
  '42501',
  'new row violates row-level security policy for table "bookings"',
  'a resident cannot book for a neighbour''s apartment'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Beta gym'), tests.apartment_id('A-101'), '2030-06-06 07:00+10', '2030-06-06 08:00+10') $$,
  '23514',
  'The facility and the apartment of a booking must be in the same building.',
  'a resident cannot book another building''s facility'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Beta gym'), tests.apartment_id('B-101'), '2030-06-06 07:00+08', '2030-06-06 08:00+08') $$,
  '42501',
  'new row violates row-level security policy for table "bookings"',
  'a resident cannot book in another building'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at, created_by)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-07 07:00+10', '2030-06-07 08:00+10', tests.get_supabase_uid('resident_a102')) $$,
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

/*
 * anon and the service role
 */
select tests.clear_authentication();
select throws_ok(
  $$ select id from bookings $$,
  '42501',
  'permission denied for table bookings',
  'anon cannot read bookings'
);
select throws_ok(
  $$ insert into bookings (facility_id, apartment_id, starts_at, ends_at)
     values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 07:00+10', '2030-06-08 08:00+10') $$,
  '42501',
  'permission denied for table bookings',
  'anon cannot book'
);

select tests.authenticate_as_service_role();
select results_eq(
  $$ select count(*)::int from bookings where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court')) $$,
  $$ values (6) $$,
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

-- integration.apply_booking_changes decides each (apartment, facility) pair once, however often it was
-- recorded; a booking moved to another apartment is decided with its new apartment's bookings; and one
-- fold of many pairs decides each pair as it would alone.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(6);

select tests.create_two_buildings();
-- Start from a folded state: the fixture's bookings decided, nothing of A-101 pending.
select integration.apply_booking_changes(null);
delete from integration.access_level_work where building_id = tests.building_id('Alpha Towers');

-- A-101 books the gym again a week later, as the app does (service role): a double booking.
select tests.authenticate_as_service_role();
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney');
reset role;
-- The fold decides: the second booking waits while the first holds the permission.
select integration.apply_booking_changes(null);

-- The same pair recorded twice (two bookings, or a change and the minute job) is decided once.
update bookings set status = 'cancelled' where starts_at = '2030-06-01 09:00 Australia/Sydney' and apartment_id = tests.apartment_id('A-101');
update bookings set ends_at = '2030-06-08 10:30 Australia/Sydney' where starts_at = '2030-06-08 09:00 Australia/Sydney';
select is(integration.apply_booking_changes(null), 2, 'both change rows of the pair are applied');
select results_eq(
  $$ select state::text from booking_access_states where apartment_id = tests.apartment_id('A-101') order by access_starts_at $$,
  $$ values ('scheduled'), ('released') $$,
  'once the holder is cancelled, the waiting booking is scheduled'
);

-- A booking moved to another apartment records both pairs.
update bookings set apartment_id = tests.apartment_id('A-102') where starts_at = '2030-06-08 09:00 Australia/Sydney';
select results_eq(
  $$ select apartment_id from integration.booking_changes where building_id = tests.building_id('Alpha Towers') order by id $$,
  $$ values (tests.apartment_id('A-101')), (tests.apartment_id('A-102')) $$,
  'a booking moved to another apartment records the old pair and the new one'
);
-- Folding it moves its state to the new apartment; the old pair keeps only its own bookings.
select integration.apply_booking_changes(null);
select results_eq(
  $$ select ba.apartment_id, ba.state from integration.booking_access as ba
     join bookings as b on b.id = ba.booking_id where b.starts_at = '2030-06-08 09:00 Australia/Sydney' $$,
  $$ values (tests.apartment_id('A-102'), 'waiting') $$,
  'a moved booking''s state belongs to its new apartment, decided with that apartment''s bookings'
);

-- One fold of many pairs decides each pair as it would alone: overlapping and later bookings in
-- both buildings, folded together.
insert into bookings (facility_id, apartment_id, starts_at, ends_at) values
  (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-02 09:00 Australia/Sydney', '2030-06-02 10:00 Australia/Sydney'),
  (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-02 09:30 Australia/Sydney', '2030-06-02 11:00 Australia/Sydney'),
  (tests.facility_id('Alpha gym'), tests.apartment_id('A-102'), '2030-06-01 11:30 Australia/Sydney', '2030-06-01 13:00 Australia/Sydney'),
  (tests.facility_id('Beta gym'), tests.apartment_id('B-101'), '2030-06-03 09:00 Australia/Perth', '2030-06-03 10:00 Australia/Perth'),
  (tests.facility_id('Beta gym'), tests.apartment_id('B-102'), '2030-06-01 11:00 Australia/Perth', '2030-06-01 11:30 Australia/Perth');
select results_eq(
  $$ select p.apartment_id, p.facility_id, p.booking_id, p.group_number, p.write_at, p.holder_booking_ids
     from integration.permission_groups(
       (select array_agg(apartment_id order by id) from integration.booking_changes where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'))),
       (select array_agg(facility_id order by id) from integration.booking_changes where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'))),
       integration.now()) as p
     order by p.booking_id $$,
  $$ select pair.apartment_id, pair.facility_id, p.booking_id, p.group_number, p.write_at, p.holder_booking_ids
     from (select distinct apartment_id, facility_id from integration.booking_changes where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'))) as pair
     cross join lateral integration.permission_groups(array[pair.apartment_id], array[pair.facility_id], integration.now()) as p
     order by p.booking_id $$,
  'the rule over many pairs at once gives each pair what it gives that pair alone'
);
select integration.apply_booking_changes(null);
select results_eq(
  $$ select a.label, ba.state from integration.booking_access as ba
     join bookings as b on b.id = ba.booking_id join apartments as a on a.id = b.apartment_id
     where b.status = 'confirmed' and b.building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'))
     order by a.label, b.starts_at $$,
  $$ values ('A-101', 'scheduled'), ('A-101', 'scheduled'),
            ('A-102', 'scheduled'), ('A-102', 'scheduled'), ('A-102', 'waiting'),
            ('B-101', 'scheduled'), ('B-101', 'waiting'),
            ('B-102', 'scheduled'), ('B-102', 'scheduled') $$,
  'one fold of several pairs: overlapping bookings share the permission, later ones wait, pair by pair'
);

select * from finish();
rollback;

-- The booking triggers only append to integration.booking_changes; integration.apply_booking_changes
-- folds those rows into access states, double-booking alerts and outbox rows, in one transaction.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(21);

-- Changes pending from outside this test are not its business (and folding a large backlog in one
-- transaction would take a lock per pair): set them aside, inside this rolled-back transaction.
delete from integration.booking_changes;
select tests.create_two_buildings();
-- Start from a folded state: the fixture's bookings decided, nothing of A-101 pending.
select integration.apply_booking_changes(null);
delete from integration.access_level_work where building_id = tests.building_id('Alpha Towers');

create temporary table before_booking on commit drop as
  select
    (select count(*) from integration.booking_access) as states,
    (select count(*) from integration.alerts) as alerts,
    (select count(*) from integration.access_level_work) as outbox;

-- A-101 books the gym again a week later, as the app does (service role): a double booking.
select tests.authenticate_as_service_role();
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney');
reset role;

select results_eq(
  $$ select apartment_id, facility_id from integration.booking_changes $$,
  $$ values (tests.apartment_id('A-101'), tests.facility_id('Alpha gym')) $$,
  'the booking trigger records its apartment and facility as changed, once'
);
select results_eq(
  $$ select (select count(*) from integration.booking_access) = b.states,
       (select count(*) from integration.alerts) = b.alerts,
       (select count(*) from integration.access_level_work) = b.outbox
     from before_booking as b $$,
  $$ values (true, true, true) $$,
  'the booking trigger itself writes no access state, no alert and no outbox row'
);
select results_eq(
  $$ select state, reason from booking_access_states
     where booking_id = (select id from bookings where starts_at = '2030-06-08 09:00 Australia/Sydney') $$,
  $$ values ('pending', 'Just booked: its SALTO access is being worked out.') $$,
  'until the fold, the new booking is pending, with a reason saying so'
);
select is(
  (select pg_catalog.current_setting('integration.sync_woken', true)), 'yes',
  'the booking transaction wakes the sync'
);

-- A fold that fails rolls back entirely and leaves the change rows for the next one.
create function tests.fail_access_state_write() returns trigger language plpgsql as $$
begin
  raise exception 'simulated failure while writing an access state';
end;
$$;
create trigger fail_access_state_write before insert or update on integration.booking_access
  for each row execute function tests.fail_access_state_write();
select throws_ok(
  $$ select integration.apply_booking_changes(null) $$,
  'P0001', 'simulated failure while writing an access state',
  'a fold that fails raises'
);
select results_eq(
  $$ select count(*)::int from integration.booking_changes $$, $$ values (1) $$,
  'a failed fold leaves the change rows'
);
select results_eq(
  $$ select state from booking_access_states where apartment_id = tests.apartment_id('A-101') order by updated_at, access_starts_at $$,
  $$ values ('scheduled'), ('pending') $$,
  'a failed fold decides nothing'
);
drop trigger fail_access_state_write on integration.booking_access;

-- The fold decides.
select is(integration.apply_booking_changes(null), 1, 'the fold applies the one pending change');
select is_empty($$ select 1 from integration.booking_changes $$, 'the fold deletes the change rows it applied');
select results_eq(
  $$ select state from booking_access_states where apartment_id = tests.apartment_id('A-101') order by access_starts_at $$,
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
  'the fold queues the apartment''s access level in the outbox'
);

-- Folding again, with nothing pending, changes nothing.
create temporary table after_fold on commit drop as
  select booking_id, state, reason, window_start, window_end, write_at, updated_at from integration.booking_access;
select is(integration.apply_booking_changes(null), 0, 'a second fold finds nothing to apply');
select results_eq(
  $$ select booking_id, state, reason, window_start, window_end, write_at, updated_at from integration.booking_access order by booking_id $$,
  $$ select * from after_fold order by booking_id $$,
  'a second fold leaves the states as they were'
);
select results_eq(
  $$ select count(*)::int from integration.alerts where kind = 'double_booking' and building_id = tests.building_id('Alpha Towers') $$,
  $$ values (1) $$,
  'a second fold raises no second alert'
);

-- The same pair recorded twice (two bookings, or a change and the minute job) is decided once.
update bookings set status = 'cancelled' where starts_at = '2030-06-01 09:00 Australia/Sydney' and apartment_id = tests.apartment_id('A-101');
update bookings set ends_at = '2030-06-08 10:30 Australia/Sydney' where starts_at = '2030-06-08 09:00 Australia/Sydney';
select is(integration.apply_booking_changes(null), 2, 'both change rows of the pair are applied');
select results_eq(
  $$ select state from booking_access_states where apartment_id = tests.apartment_id('A-101') order by access_starts_at $$,
  $$ values ('scheduled'), ('released') $$,
  'once the holder is cancelled, the waiting booking is scheduled'
);

-- A booking moved to another apartment records both pairs.
update bookings set apartment_id = tests.apartment_id('A-102') where starts_at = '2030-06-08 09:00 Australia/Sydney';
select results_eq(
  $$ select apartment_id from integration.booking_changes order by id $$,
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
     from integration.pairs_plan(
       (select array_agg(apartment_id order by id) from integration.booking_changes),
       (select array_agg(facility_id order by id) from integration.booking_changes),
       integration.now()) as p
     order by p.booking_id $$,
  $$ select pair.apartment_id, pair.facility_id, p.booking_id, p.group_number, p.write_at, p.holder_booking_ids
     from (select distinct apartment_id, facility_id from integration.booking_changes) as pair
     cross join lateral integration.pair_plan(pair.apartment_id, pair.facility_id, integration.now()) as p
     order by p.booking_id $$,
  'the rule over many pairs at once gives each pair what it gives that pair alone'
);
select integration.apply_booking_changes(null);
select results_eq(
  $$ select a.label, ba.state from integration.booking_access as ba
     join bookings as b on b.id = ba.booking_id join apartments as a on a.id = b.apartment_id
     where b.status = 'confirmed' order by a.label, b.starts_at $$,
  $$ values ('A-101', 'scheduled'), ('A-101', 'scheduled'),
            ('A-102', 'scheduled'), ('A-102', 'scheduled'), ('A-102', 'waiting'),
            ('B-101', 'scheduled'), ('B-101', 'waiting'),
            ('B-102', 'scheduled'), ('B-102', 'scheduled') $$,
  'one fold of several pairs: overlapping bookings share the permission, later ones wait, pair by pair'
);
select * from finish();
rollback;

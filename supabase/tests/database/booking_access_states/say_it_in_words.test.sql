-- What a person reads in booking_access_states: names beside IDs, the building's time zone, local
-- start and end, one sentence for the resident and one line for managers, and a state the generated
-- types turn into a union (an enum).
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(12);

select tests.create_two_buildings();

select col_type_is('public', 'booking_access_states', 'state', 'booking_access_state',
  'state is the enum booking_access_state');
select is(
  enum_range(null::public.booking_access_state)::text[],
  array['pending', 'waiting', 'scheduled', 'active', 'released', 'failed'],
  'the enum names every state'
);

-- Alpha Towers is in Sydney; A-101 booked the Alpha gym (10 minutes' buffer before) on
-- 2030-06-01 09:00-10:00 local time.
select tests.authenticate_as('resident_a101');
select is(
  (select row(facility_name, apartment_label, time_zone, local_starts_at, local_ends_at, resident_summary)::text
   from booking_access_states),
  row('Alpha gym', 'A-101', 'Australia/Sydney', timestamp '2030-06-01 09:00', timestamp '2030-06-01 10:00',
    'Your booking of the Alpha gym on Sat 1 Jun, 09:00-10:00 is being set up on your key card.')::text,
  'a resident reads their pending booking with names, local times and a sentence'
);

reset role;
select integration.apply_booking_changes(null);
update integration.booking_access set state = 'active' where booking_id = tests.booking_of('A-101');

select tests.authenticate_as('resident_a101');
select is(
  (select resident_summary from booking_access_states),
  'Your key card opens the Alpha gym on Sat 1 Jun, 08:50-10:00.',
  'an active booking says when the key card opens the facility, buffer included, building-local'
);
select is(
  (select local_access_starts_at from booking_access_states),
  timestamp '2030-06-01 08:50',
  'the access start is given building-local too'
);

select tests.authenticate_as('manager_alpha');
select is(
  (select manager_summary from booking_access_states where apartment_id = tests.apartment_id('A-101')),
  'Alpha gym for apartment A-101, Sat 1 Jun, 09:00-10:00 (Australia/Sydney): in SALTO; key cards open Sat 1 Jun, 08:50-10:00.',
  'a manager reads one line with the facility, apartment, local time and its zone, and the state'
);

reset role;
update integration.booking_access set state = 'failed', reason = 'SALTO has no zone with the Zone ID "GYM".'
where booking_id = tests.booking_of('A-102');
select tests.authenticate_as('manager_alpha');
select is(
  (select manager_summary from booking_access_states where apartment_id = tests.apartment_id('A-102')),
  'Alpha gym for apartment A-102, Sat 1 Jun, 11:00-12:00 (Australia/Sydney): FAILED: SALTO has no zone with the Zone ID "GYM".',
  'a failed booking''s line carries the reason'
);
select tests.authenticate_as('resident_a102');
select is(
  (select resident_summary from booking_access_states),
  'Your key card could not be set up to open the Alpha gym on Sat 1 Jun, 11:00-12:00. The building''s managers have been told.',
  'the resident reads what it means for them, not the manager''s reason'
);

-- Beta Court is in Perth: the same columns speak its time.
select tests.authenticate_as('resident_b101');
select is(
  (select row(time_zone, local_starts_at)::text from booking_access_states),
  row('Australia/Perth', timestamp '2030-06-01 09:00')::text,
  'another building''s bookings are in its own time zone'
);

reset role;
select is(private.describe_local_span('2030-06-01 23:00', '2030-06-02 01:00'),
  'Sat 1 Jun 23:00 - Sun 2 Jun 01:00', 'a span across midnight names both days');
select is(private.describe_local_span('2030-06-01 23:00', '2030-06-02 00:00'),
  'Sat 1 Jun, 23:00-24:00', 'a span ending at midnight ends at 24:00');
select is(
  (select count(*)::int from booking_access_states where resident_summary is null or manager_summary is null),
  0, 'every booking has both summaries'
);

select * from finish();
rollback;

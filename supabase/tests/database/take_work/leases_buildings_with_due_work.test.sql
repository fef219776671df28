-- A sync round, integration.take_work: it folds the booking changes (integration.fold_batch() at a
-- time), leases the buildings whose work is due (one invocation at a time) and brings each with its
-- context and its first due access levels.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(10);


select results_eq(
  $$ select leased_buildings, changes_left, seconds_until_due
     from integration.take_work('00000000-0000-4000-8000-00000000a001', interval '1 minute', 10, 50) $$,
  $$ values ('[]'::jsonb, false, null::double precision) $$,
  'with nothing pending, a round leases nothing and says no work will fall due'
);

select tests.create_two_buildings();
create temporary table round on commit drop as
  select * from integration.take_work('00000000-0000-4000-8000-00000000a001', interval '1 minute', 10, 1);
select results_eq(
  $$ select (select array_agg((c -> 'building' ->> 'building_id')::uuid order by c -> 'building' ->> 'building_id')
             from jsonb_array_elements(leased_buildings) as c),
       changes_left, seconds_until_due
     from round $$,
  $$ values ((select array_agg(id order by id) from unnest(array[tests.building_id('Alpha Towers'), tests.building_id('Beta Court')]) as id),
             false, 0::double precision) $$,
  'a round folds the new bookings'' changes and leases both buildings, whose work is due now'
);
select is(
  (select state from integration.booking_access where booking_id = tests.booking_of('A-101')), 'scheduled',
  'the round decided the bookings'' access states'
);
create temporary table alpha on commit drop as
  select c from round, jsonb_array_elements(round.leased_buildings) as c
  where c -> 'building' ->> 'building_id' = tests.building_id('Alpha Towers')::text;
select results_eq(
  $$ select c -> 'building' ->> 'timezone', c -> 'building' -> 'salto_server', c ? 'timetables'
     from alpha $$,
  $$ values ('Australia/Sydney', 'null'::jsonb, false) $$,
  'a leased building comes with its time zone and its SALTO server (none configured here)'
);
select results_eq(
  $$ select d ->> 'access_level_id', (d ->> 'generation')::bigint, (d ->> 'attempts')::int, d ? 'desired'
     from alpha, jsonb_array_elements(alpha.c -> 'due') as d $$,
  $$ select access_level_id, generation, attempts, false
     from integration.due_access_level_work(tests.building_id('Alpha Towers'), 1) $$,
  'and with its first due access levels (up to the batch asked for), oldest first, without their desired permissions (read while SALTO is)'
);
select results_eq(
  $$ select leased_buildings, seconds_until_due
     from integration.take_work('00000000-0000-4000-8000-00000000a002', interval '1 minute', 10, 50) $$,
  $$ values ('[]'::jsonb, 0::double precision) $$,
  'another invocation leases nothing while the first holds the buildings, and hears that work is due'
);

-- One change more than a round folds of one building (integration.fold_batch_per_building()),
-- alternating between two apartments.
insert into integration.booking_changes (building_id, apartment_id, facility_id)
select tests.building_id('Alpha Towers'),
       case when i % 2 = 0 then tests.apartment_id('A-101') else tests.apartment_id('A-102') end,
       tests.facility_id('Alpha gym')
from generate_series(1, integration.fold_batch_per_building() + 1) as i;
delete from integration.building_leases where leased_by = '00000000-0000-4000-8000-00000000a001';
-- Beta Court has due work and nothing left to fold.
insert into integration.access_level_work (building_id, access_level_id) values (tests.building_id('Beta Court'), 'B-TEST');
create temporary table full_round on commit drop as
  select leased_buildings, changes_left
  from integration.take_work('00000000-0000-4000-8000-00000000a003', interval '1 minute', 10, 50);
select results_eq(
  $$ select changes_left, leased_buildings @> jsonb_build_array(jsonb_build_object('building',
       jsonb_build_object('building_id', tests.building_id('Alpha Towers')))) from full_round $$,
  $$ values (true, false) $$,
  'a round that folds a building''s share says more changes may be left, and does not lease a building whose changes are not all folded'
);
select is(
  (select leased_buildings @> jsonb_build_array(jsonb_build_object('building',
     jsonb_build_object('building_id', tests.building_id('Beta Court')))) from full_round),
  true,
  'while another building, its changes folded, is leased in the same round: one building''s backlog holds no other back'
);
select is(
  (select count(*)::int from integration.booking_changes
   where apartment_id in (tests.apartment_id('A-101'), tests.apartment_id('A-102'))),
  1, 'and leaves the rest for the next round');
select is(
  (select leased_buildings @> jsonb_build_array(jsonb_build_object('building', jsonb_build_object('building_id', tests.building_id('Alpha Towers'))))
   from integration.take_work('00000000-0000-4000-8000-00000000a003', interval '1 minute', 10, 50)),
  true,
  'the next round folds the rest and leases the building'
);

select * from finish();
rollback;

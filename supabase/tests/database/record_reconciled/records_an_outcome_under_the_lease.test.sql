-- integration.record_reconciled records the outcome of writing an access level in one call: the
-- bookings it served, what SALTO now holds, and the completed work of the generation read; only while
-- the caller holds the building's lease, which it renews.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(6);

select tests.create_two_buildings();
-- A round of invocation a003 folds the fixture's bookings and leases both buildings.
create temporary table round on commit drop as
  select * from integration.take_work('00000000-0000-4000-8000-00000000a003', interval '1 minute', 10, 50);

-- The outcome of writing APT-102's permission, recorded with the generation the sync read.
create temporary table read_generation on commit drop as
  select generation from integration.access_level_work
  where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102';
select is(integration.record_reconciled(
  tests.building_id('Alpha Towers'), 'APT-102', (select generation from read_generation),
  jsonb_build_array(jsonb_build_object(
    'zone_id', 'GYM', 'timetable_id', 200, 'period_start', '2030-06-01', 'period_end', '2030-06-01',
    'booking_ids', jsonb_build_array(tests.booking_of('A-102')),
    'window_start', '2030-06-01 10:50 Australia/Sydney'::timestamptz,
    'window_end', '2030-06-01 12:00 Australia/Sydney'::timestamptz,
    'exact', true, 'reason', null)),
  '[]'::jsonb, '[]'::jsonb, '00000000-0000-4000-8000-00000000a003', interval '1 minute'),
  true, 'record_reconciled renews the lease its caller holds, and says so');
select is(
  (select integration.record_reconciled(tests.building_id('Beta Court'), 'APT-101', 0, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb,
     '00000000-0000-4000-8000-00000000a002', interval '1 minute')),
  false,
  'record_reconciled says when the caller no longer holds the building''s lease'
);
select results_eq(
  $$ select state, timetable_id, period_start from integration.booking_access where booking_id = tests.booking_of('A-102') $$,
  $$ values ('active', 200, '2030-06-01'::date) $$,
  'record_reconciled makes the booking it served active, with what was written'
);
select results_eq(
  $$ select zone_id, timetable_id, booking_ids from integration.written_permissions
     where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102' $$,
  $$ values ('GYM', 200, array[tests.booking_of('A-102')]) $$,
  'and records what SALTO now holds'
);
select is(
  (select count(*)::int from integration.access_level_work
   where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102'), 0,
  'and completes the work row of the generation it read'
);

-- Asked again while the sync worked (a newer generation): the row stays for another pass.
select integration.apply_booking_changes(null, tests.building_id('Alpha Towers'));
select integration.record_reconciled(
  tests.building_id('Alpha Towers'), 'APT-101',
  (select generation - 1 from integration.access_level_work
   where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-101'),
  '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, '00000000-0000-4000-8000-00000000a002', interval '1 minute');
select is(
  (select count(*)::int from integration.access_level_work
   where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-101'), 1,
  'an outcome recorded with an older generation leaves the newer request queued'
);

select * from finish();
rollback;

-- integration.apply_booking_changes takes each building's oldest changes in turn, and at most
-- fold_batch_per_building() of one building's in a batch of all buildings': a building that committed
-- more changes than a batch holds delays another building's change by one small batch at most. A fold
-- of one building (the nightly cleanup's) takes a whole batch of it.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(4);

select tests.create_two_buildings();
select integration.apply_booking_changes(null);

-- Alpha Towers commits a batch and a half of changes, then Beta Court one.
insert into integration.booking_changes (building_id, apartment_id, facility_id)
select tests.building_id('Alpha Towers'), tests.apartment_id('A-101'), tests.facility_id('Alpha gym')
from generate_series(1, integration.fold_batch() * 3 / 2);
insert into integration.booking_changes (building_id, apartment_id, facility_id)
values (tests.building_id('Beta Court'), tests.apartment_id('B-101'), tests.facility_id('Beta gym'));

select is(integration.apply_booking_changes(), integration.fold_batch_per_building() + 1,
  'a fold of all buildings takes at most a building''s share of Alpha Towers'' changes');
select is(
  (select count(*)::int from integration.booking_changes where building_id = tests.building_id('Beta Court')),
  0,
  'and Beta Court''s change, committed after all of Alpha Towers'' changes, is in it'
);
select is(
  (select count(*)::int from integration.booking_changes where building_id = tests.building_id('Alpha Towers')),
  integration.fold_batch() * 3 / 2 - integration.fold_batch_per_building(),
  'while Alpha Towers'' remaining changes wait for the next fold'
);
select is(integration.apply_booking_changes(p_building_id => tests.building_id('Alpha Towers')),
  integration.fold_batch(), 'a fold of one building takes a whole batch of its changes');

select * from finish();
rollback;

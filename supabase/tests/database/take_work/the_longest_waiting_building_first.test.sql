-- integration.lease_buildings leases the buildings whose due work has waited longest first: with more
-- buildings due than a pass writes at once, no building is passed over again and again.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(2);

select tests.create_two_buildings();
-- Only the work below: not the fixture's own changes and work.
delete from integration.booking_changes
where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'));
delete from integration.access_level_work
where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'));

insert into integration.access_level_work (building_id, access_level_id, requested_at) values
  (tests.building_id('Alpha Towers'), 'A-NEW', now() - interval '1 minute'),
  (tests.building_id('Beta Court'), 'B-OLD', now() - interval '1 hour');
select is(
  array(select integration.lease_buildings('00000000-0000-4000-8000-00000000a011', interval '1 minute', 1)),
  array[tests.building_id('Beta Court')],
  'the building whose work waited longest is leased first');
select is(
  array(select integration.lease_buildings('00000000-0000-4000-8000-00000000a012', interval '1 minute', 1)),
  array[tests.building_id('Alpha Towers')],
  'then the next');

select * from finish();
rollback;

-- A cleanup slice releases the finished bookings of the access levels it cleans, and of apartments
-- without an Access Control ID (nothing of theirs is in SALTO), never a later slice's: the fold would
-- queue their access level work, which the sync would take between two slices. Without access
-- levels, every finished pair of the building.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(5);

select tests.create_two_buildings();
insert into public.apartments (building_id, label) values (tests.building_id('Alpha Towers'), 'A-103');
insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-103'),
  '2030-06-01 13:00 Australia/Sydney', '2030-06-01 14:00 Australia/Sydney');
select integration.apply_booking_changes(null);
delete from integration.access_level_work where building_id = tests.building_id('Alpha Towers');
-- The night after every booking of Alpha Towers.
insert into integration.clock_offset (id, shift)
values (true, '2030-06-02 00:05 Australia/Sydney'::timestamptz - now())
on conflict (id) do update set shift = excluded.shift;

select is(integration.refresh_finished_pairs(tests.building_id('Alpha Towers'), array['APT-101']), 2,
  'the slice of APT-101 records two finished pairs');
select results_eq(
  $$ select a.label from integration.booking_changes as c join public.apartments as a on a.id = c.apartment_id
     where c.building_id = tests.building_id('Alpha Towers') order by a.label $$,
  $$ values ('A-101'), ('A-103') $$,
  'its own apartment''s and the one without an Access Control ID, not APT-102''s'
);
select integration.apply_booking_changes(p_building_id => tests.building_id('Alpha Towers'));
select results_eq(
  $$ select access_level_id from integration.access_level_work
     where building_id = tests.building_id('Alpha Towers') $$,
  $$ values ('APT-101') $$,
  'folded, they queue work for the slice''s access level only'
);
select results_eq(
  $$ select a.label, ba.state from integration.booking_access as ba join public.apartments as a on a.id = ba.apartment_id
     where ba.building_id = tests.building_id('Alpha Towers') and a.label = 'A-102' $$,
  $$ values ('A-102', 'scheduled') $$,
  'APT-102''s finished booking waits for its own slice'
);
select is(integration.refresh_finished_pairs(tests.building_id('Alpha Towers')), 1,
  'without access levels, every finished pair of the building left: APT-102''s');

select * from finish();
rollback;

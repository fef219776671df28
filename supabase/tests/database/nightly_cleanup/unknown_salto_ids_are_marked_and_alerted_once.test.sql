-- The nightly check of SALTO's IDs: the Access Control IDs and Zone IDs SALTO does not list are marked,
-- alerted once, and unmarked when SALTO knows them again.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(4);

select tests.create_two_buildings();

-- Unknown IDs: SALTO lists APT-101 but neither APT-102 nor GYM.
select results_eq(
  $$ select kind, salto_id from integration.record_salto_ids_check(tests.building_id('Alpha Towers'), array['MAIN'], array['APT-101']) order by 1, 2 $$,
  $$ values ('access_level', 'APT-102'), ('zone', 'GYM') $$,
  'the IDs SALTO does not list are reported'
);
select results_eq(
  $$ select kind, salto_id, apartment_id, facility_id from integration.unknown_salto_ids where building_id = tests.building_id('Alpha Towers') order by 1 $$,
  $$ values ('access_level', 'APT-102', tests.apartment_id('A-102'), null::uuid), ('zone', 'GYM', null::uuid, tests.facility_id('Alpha gym')) $$,
  'and marked, with the apartment and facility they belong to'
);
select integration.record_salto_ids_check(tests.building_id('Alpha Towers'), array['MAIN'], array['APT-101']);
select results_eq(
  $$ select count(*)::int from integration.alerts where building_id = tests.building_id('Alpha Towers') and kind = 'unknown_salto_id' $$,
  $$ values (2) $$,
  'checking again the next night does not alert again: one alert per unknown ID'
);
select integration.record_salto_ids_check(tests.building_id('Alpha Towers'), array['MAIN', 'GYM'], array['APT-101', 'APT-102']);
select is_empty(
  $$ select 1 from integration.unknown_salto_ids where building_id = tests.building_id('Alpha Towers') $$,
  'once SALTO knows the IDs, the marks are gone'
);

select * from finish();
rollback;

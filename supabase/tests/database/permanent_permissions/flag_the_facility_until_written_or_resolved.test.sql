-- Permanent permissions on facilities' zones (integration.permanent_permissions): the sync records the
-- ones it meets on facilities' zones only, with how many access levels hold each; the facility is
-- flagged to its building's managers (public.shared_facility_zones) and to nobody else; a permission
-- this project writes on the zone, the nightly check, or a new Zone ID clears the flag.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(8);

select tests.create_two_buildings();
-- A manager names the main entrance as a facility's zone.
insert into public.facilities (building_id, name, access_control_facility_id)
values (tests.building_id('Alpha Towers'), 'Lobby', 'MAIN');

-- The sync met APT-101 holding MAIN and LIFTS with permissions it did not write.
select results_eq(
  $$ select zone_id, access_levels
     from integration.record_permanent_permissions(tests.building_id('Alpha Towers'), 'APT-101', array['MAIN', 'LIFTS']) $$,
  $$ values ('MAIN', 1) $$,
  'only a zone a facility names is recorded, with the number of access levels holding it'
);
select results_eq(
  $$ select zone_id, access_levels
     from integration.record_permanent_permissions(tests.building_id('Alpha Towers'), 'APT-102', array['MAIN']) $$,
  $$ values ('MAIN', 2) $$,
  'a second access level holding it counts'
);

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select facility_name, zone_id, access_levels, access_level_ids, reason like 'Zone "MAIN" is held permanently by 2 access levels; a bookable facility needs a zone of its own.%'
     from public.shared_facility_zones $$,
  $$ values ('Lobby', 'MAIN', 2, array['APT-101', 'APT-102'], true) $$,
  'the building''s manager sees the facility flagged, with the access levels and what to do'
);
select tests.authenticate_as('manager_beta');
select is_empty($$ select 1 from public.shared_facility_zones $$, 'another building''s manager sees nothing');
select tests.authenticate_as('resident_a101');
select is_empty($$ select 1 from public.shared_facility_zones $$, 'a resident sees nothing');
select tests.authenticate_as_service_role();

-- Someone removed APT-102's permanent permission in SALTO, and a booking of the lobby was written there.
insert into integration.written_permissions (building_id, access_level_id, zone_id, timetable_id, period_start, period_end)
values (tests.building_id('Alpha Towers'), 'APT-102', 'MAIN', 200, '2030-06-01', '2030-06-01');
select results_eq(
  $$ select access_level_ids from public.shared_facility_zones $$,
  $$ values (array['APT-101']) $$,
  'a permission this project writes on the zone ends that access level''s permanent hold'
);

-- The nightly check read APT-101 (which no longer holds MAIN) and APT-102.
select is_empty(
  $$ select * from integration.record_permanent_permissions_check(tests.building_id('Alpha Towers'), '{}', array['APT-101', 'APT-102']) $$,
  'the nightly check finds no shared zone'
);
select is_empty($$ select 1 from integration.permanent_permissions where building_id = tests.building_id('Alpha Towers') $$,
  'and clears the rows of the access levels it read');

select * from finish();
rollback;

-- integration.due_access_level_work: a building's due access levels with their desired windows and managed
-- zones (those whose permission this project wrote: a zone a facility names is not managed by that
-- alone), as the sync reads them while SALTO is read.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(2);

select tests.create_two_buildings();
-- The fixture's bookings folded: each apartment's access level is due.
select integration.apply_booking_changes(null, tests.building_id('Alpha Towers'));
-- This project wrote APT-101's gym permission, nothing of APT-102.
insert into integration.written_permissions (building_id, access_level_id, zone_id, timetable_id, period_start, period_end)
values (tests.building_id('Alpha Towers'), 'APT-101', 'GYM', 200, '2030-06-01', '2030-06-01');

select results_eq(
  $$ select access_level_id, jsonb_array_length(desired), desired -> 0 ->> 'zone_id',
       (desired -> 0 ->> 'window_start')::timestamptz, managed_zones
     from integration.due_access_level_work(tests.building_id('Alpha Towers'), 10) order by access_level_id $$,
  $$ values ('APT-101', 1, 'GYM', '2030-06-01 08:50 Australia/Sydney'::timestamptz, '{GYM}'::text[]),
            ('APT-102', 1, 'GYM', '2030-06-01 10:50 Australia/Sydney'::timestamptz, '{}'::text[]) $$,
  'due_access_level_work lists the due access levels with their desired windows (before-buffer included) and the zones this project wrote'
);
select is(
  (select count(*)::int from integration.due_access_level_work(tests.building_id('Alpha Towers'), 1)), 1,
  'due_access_level_work takes at most the limit'
);

select * from finish();
rollback;

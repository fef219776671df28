-- A night's run is leased once, however many calls overlap; a completed run is never redone; a run
-- that failed (SALTO unreachable) is retried and keeps one report with every attempt's counts and
-- errors.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(9);

select tests.create_two_buildings();
-- Alpha existed before the night in question and has a SALTO server; integration.now() is moved to
-- just after its midnight.
update public.buildings set created_at = '2020-01-01' where id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'));
insert into integration.salto_servers (building_id, host, port, auth_mode)
select id, 'salto.invalid', 8100, 'none' from public.buildings where id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'));
insert into integration.clock_offset (id, shift)
values (true, '2030-03-10 00:02 Australia/Sydney'::timestamptz - now())
on conflict (id) do update set shift = excluded.shift;

create temporary table leases as
select * from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000a1', '10 minutes', array[tests.building_id('Alpha Towers')]);
select results_eq(
  $$ select building_id, local_date, attempts from leases $$,
  $$ values (tests.building_id('Alpha Towers'), '2030-03-10'::date, 1) $$,
  'the first call leases the building''s run for its new local date'
);
select is_empty(
  $$ select * from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000a2', '10 minutes', array[tests.building_id('Alpha Towers')]) $$,
  'a second, overlapping call finds the run leased'
);
select ok(
  not integration.finish_cleanup_run((select run_id from leases), '00000000-0000-4000-8000-0000000000a2', 'completed', '{}', '{}'),
  'a call that does not hold the lease cannot finish the run'
);

select ok(
  integration.finish_cleanup_run((select run_id from leases), '00000000-0000-4000-8000-0000000000a1', 'unreachable',
    '{"cleared": 2, "salto_calls": 3, "access_levels_checked": 4}',
    '{"cleared": [{"access_level_id": "APT-101", "zone_id": "GYM"}]}',
    'SaltoDBGroupList.Read: connection refused'),
  'the lease holder records an unreachable SALTO'
);
select results_eq(
  $$ select local_date from integration.due_cleanups() where building_id = tests.building_id('Alpha Towers') $$,
  $$ values ('2030-03-10'::date) $$,
  'a run that could not reach SALTO is due again the same night'
);
select results_eq(
  $$ select attempts from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000a3', '10 minutes', array[tests.building_id('Alpha Towers')]) $$,
  $$ values (2) $$,
  'the next call leases it again, as a second attempt'
);
select ok(
  integration.finish_cleanup_run((select run_id from leases), '00000000-0000-4000-8000-0000000000a3', 'completed',
    '{"cleared": 1, "repaired": 1, "salto_calls": 2, "access_levels_checked": 4}',
    '{"repaired": [{"access_level_id": "APT-102", "zone_id": "GYM"}], "cleared": [{"access_level_id": "APT-102", "zone_id": "POOL"}]}'),
  'the second attempt completes the run'
);
select results_eq(
  $$ select status, attempts, cleared, repaired, salto_calls, access_levels_checked,
       jsonb_array_length(details -> 'cleared'), jsonb_array_length(details -> 'repaired'),
       jsonb_array_length(errors), errors -> 0 ->> 'status'
     from integration.cleanup_runs where building_id = tests.building_id('Alpha Towers') $$,
  $$ values ('completed', 2, 3, 1, 5, 4, 2, 1, 1, 'unreachable') $$,
  'one report for the night: counts and details of both attempts, the failed attempt''s error'
);
select is_empty(
  $$ select * from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000a4', '10 minutes', array[tests.building_id('Alpha Towers')]) $$,
  'a completed night is never leased again'
);

select * from finish();
rollback;

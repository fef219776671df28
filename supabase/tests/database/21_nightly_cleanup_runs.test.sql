-- A night's run is claimed once, however many calls overlap; a completed run is never redone; a run
-- that failed (SALTO unreachable) is retried and keeps one report with every attempt's counts and
-- errors. Unknown SALTO IDs are marked, alerted once, and unmarked when SALTO knows them again.
-- Managers read their own buildings' reports.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(17);

select tests.create_two_buildings();
-- Alpha existed before the night in question and has a SALTO server; integration.now() is moved to
-- just after its midnight.
update public.buildings set created_at = '2020-01-01' where name in ('Alpha Towers', 'Beta Court');
insert into integration.salto_servers (building_id, host, port, auth_mode)
select id, 'salto.invalid', 8100, 'none' from public.buildings where name in ('Alpha Towers', 'Beta Court');
insert into integration.clock_offset (id, shift)
values (true, '2030-03-10 00:02 Australia/Sydney'::timestamptz - now());

create temporary table claims as
select * from integration.claim_cleanup_runs('00000000-0000-4000-8000-0000000000a1', '10 minutes', array[tests.building_id('Alpha Towers')]);
select results_eq(
  $$ select building_id, local_date, attempts from claims $$,
  $$ values (tests.building_id('Alpha Towers'), '2030-03-10'::date, 1) $$,
  'the first call claims the building''s run for its new local date'
);
select is_empty(
  $$ select * from integration.claim_cleanup_runs('00000000-0000-4000-8000-0000000000a2', '10 minutes', array[tests.building_id('Alpha Towers')]) $$,
  'a second, overlapping call finds the run claimed'
);
select ok(
  not integration.finish_cleanup_run((select run_id from claims), '00000000-0000-4000-8000-0000000000a2', 'completed', '{}', '{}'),
  'a call that does not hold the claim cannot finish the run'
);

select ok(
  integration.finish_cleanup_run((select run_id from claims), '00000000-0000-4000-8000-0000000000a1', 'unreachable',
    '{"cleared": 2, "salto_calls": 3, "access_levels_checked": 4}',
    '{"cleared": [{"access_level_id": "APT-101", "zone_id": "GYM"}]}',
    'SaltoDBGroupList.Read: connection refused'),
  'the claim holder records an unreachable SALTO'
);
select results_eq(
  $$ select local_date from integration.due_cleanups() where building_id = tests.building_id('Alpha Towers') $$,
  $$ values ('2030-03-10'::date) $$,
  'a run that could not reach SALTO is due again the same night'
);
select results_eq(
  $$ select attempts from integration.claim_cleanup_runs('00000000-0000-4000-8000-0000000000a3', '10 minutes', array[tests.building_id('Alpha Towers')]) $$,
  $$ values (2) $$,
  'the next call claims it again, as a second attempt'
);
select ok(
  integration.finish_cleanup_run((select run_id from claims), '00000000-0000-4000-8000-0000000000a3', 'completed',
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
  $$ select * from integration.claim_cleanup_runs('00000000-0000-4000-8000-0000000000a4', '10 minutes', array[tests.building_id('Alpha Towers')]) $$,
  'a completed night is never claimed again'
);

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
select integration.record_salto_ids_check(tests.building_id('Alpha Towers'), array['MAIN'], array['APT-101']);

-- Who reads the reports.
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select local_date, status from cleanup_reports $$,
  $$ values ('2030-03-10'::date, 'completed') $$,
  'a manager reads their building''s cleanup report'
);
select results_eq(
  $$ select count(*)::int from public.unknown_salto_ids $$, $$ values (2) $$,
  'and the IDs SALTO does not know in their building'
);
select tests.authenticate_as('manager_beta');
select is_empty($$ select 1 from cleanup_reports union all select 1 from public.unknown_salto_ids $$,
  'another building''s manager reads none of them');
select tests.clear_authentication();
select throws_ok($$ select 1 from cleanup_reports $$, '42501', null, 'anon cannot read cleanup reports');

select * from finish();
rollback;

-- Managers read their own buildings' cleanup reports and unknown SALTO IDs; other managers and anon
-- read none.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(4);

select tests.create_two_buildings();
-- Alpha existed before the night in question and has a SALTO server; integration.now() is moved to
-- just after its midnight.
update public.buildings set created_at = '2020-01-01' where id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'));
insert into integration.salto_servers (building_id, host, port, auth_mode)
select id, 'salto.invalid', 8100, 'none' from public.buildings where id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'));
insert into integration.clock_offset (id, shift)
values (true, '2030-03-10 00:02 Australia/Sydney'::timestamptz - now())
on conflict (id) do update set shift = excluded.shift;

-- The night's run, completed, and an unknown Access Control ID and Zone ID.
create temporary table leases as
select * from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000a1', '10 minutes', array[tests.building_id('Alpha Towers')]);
select integration.finish_cleanup_run((select run_id from leases), '00000000-0000-4000-8000-0000000000a1', 'completed', '{}', '{}');
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
-- (Finishing Alpha's run dispatched Beta's, which is due too: Beta's manager reads that one.)
select tests.authenticate_as('manager_beta');
select is_empty(
  format($$ select 1 from cleanup_reports where building_id = %1$L
    union all select 1 from public.unknown_salto_ids where building_id = %1$L $$, tests.building_id('Alpha Towers')),
  'another building''s manager reads none of them');
select tests.clear_authentication();
select throws_ok($$ select 1 from cleanup_reports $$, '42501', null, 'anon cannot read cleanup reports');

select * from finish();
rollback;

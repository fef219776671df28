-- A building larger than one call's budget is cleaned in slices: a call ends its slice 'paused' with
-- the last access level it cleaned; the run stays running without a lease, is dispatched again at once
-- as the same attempt, and goes on from there; counts add up over the
-- slices. A failed or killed slice is retried from the last slice done.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(14);

insert into public.buildings (id, name, timezone, created_at)
select ('00000000-0000-4000-8000-00000000000' || i)::uuid, 'Slices ' || i, 'Australia/Sydney', '2020-01-01'
from generate_series(1, 2) as i;
insert into integration.salto_servers (building_id, host, port, auth_mode)
select id, 'salto.invalid', 8100, 'none' from public.buildings where name like 'Slices %';
insert into integration.clock_offset (id, shift)
values (true, '2030-03-10 00:02 Australia/Sydney'::timestamptz - now())
on conflict (id) do update set shift = excluded.shift;

create temporary table queued_before as select coalesce(max(id), 0) as id from net.http_request_queue;
create temporary table run as
select * from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000a1', '10 minutes',
  array['00000000-0000-4000-8000-000000000002'::uuid]);

select throws_ok(
  $$ select integration.finish_cleanup_run((select run_id from run), '00000000-0000-4000-8000-0000000000a1', 'paused', '{}', '{}') $$,
  'P0001', null,
  'a paused slice must say how far it got'
);
select ok(
  integration.finish_cleanup_run((select run_id from run), '00000000-0000-4000-8000-0000000000a1', 'paused',
    '{"cleared": 40, "access_levels_checked": 50, "unknown_ids": 1, "salto_calls": 53}',
    '{"cleared": [{"access_level_id": "APT-001", "zone_id": "GYM"}]}', null, 'APT-050'),
  'the lease holder ends its slice, paused after APT-050'
);
select results_eq(
  $$ select status, finished_at is null, resume_after, access_levels_checked, cleared, unknown_ids, attempts
     from integration.cleanup_runs where id = (select run_id from run) $$,
  $$ values ('running', true, 'APT-050', 50, 40, 1, 1) $$,
  'the run is still running, knows how far it got, and has the slice''s counts'
);
select results_eq(
  $$ select r.leased_by = (convert_from(q.body, 'utf8')::jsonb ->> 'dispatch')::uuid
     from net.http_request_queue as q join integration.cleanup_runs as r on r.id = (convert_from(q.body, 'utf8')::jsonb ->> 'run_id')::uuid
     where q.id > (select id from queued_before) and r.id = (select run_id from run) $$,
  $$ values (true) $$,
  'the next slice is dispatched at once, to a call that holds the run'
);

-- The dispatched call takes it over and goes on after APT-050, as the same attempt.
create temporary table taken as
select t.* from integration.cleanup_runs as r
cross join lateral integration.take_cleanup_run(r.id, r.leased_by, '00000000-0000-4000-8000-0000000000a2', '10 minutes') as t
where r.id = (select run_id from run);
select results_eq(
  $$ select attempts, (select resume_after from integration.cleanup_runs where id = taken.run_id) from taken $$,
  $$ values (1, 'APT-050') $$,
  'the next call takes the run over where it stopped, in the same attempt'
);
select ok(
  integration.finish_cleanup_run((select run_id from run), '00000000-0000-4000-8000-0000000000a2', 'completed',
    '{"cleared": 30, "access_levels_checked": 40, "salto_calls": 42}',
    '{"cleared": [{"access_level_id": "APT-051", "zone_id": "GYM"}]}'),
  'the last slice completes the run'
);
select results_eq(
  $$ select status, attempts, access_levels_checked, cleared, salto_calls, unknown_ids, jsonb_array_length(details -> 'cleared')
     from integration.cleanup_runs where id = (select run_id from run) $$,
  $$ values ('completed', 1, 90, 70, 95, 1, 2) $$,
  'one report summed over the slices (the IDs figure of the slice that checked them)'
);

-- The other building's run, dispatched along: its call takes it over. From here no dispatch calls
-- (no Vault secret): the test leases as the calls would.
create temporary table second as
select t.* from integration.cleanup_runs as r
cross join lateral integration.take_cleanup_run(r.id, r.leased_by, '00000000-0000-4000-8000-0000000000b1', '10 minutes') as t
where r.building_id = '00000000-0000-4000-8000-000000000001';
delete from vault.secrets where name = 'functions_secret';
select ok(
  integration.finish_cleanup_run((select run_id from second), '00000000-0000-4000-8000-0000000000b1', 'paused',
    '{"access_levels_checked": 50}', '{}', null, 'B-050'),
  'a second building pauses after B-050'
);
select ok(
  integration.finish_cleanup_run((select run_id from second), '00000000-0000-4000-8000-0000000000b1', 'completed', '{}', '{}') = false,
  'a paused run holds no lease: the call that paused it cannot finish it'
);
select results_eq(
  $$ select building_id, attempts from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000b2', '10 minutes') $$,
  $$ values ('00000000-0000-4000-8000-000000000001'::uuid, 1) $$,
  'the paused run is due, and leased again as the attempt it was'
);
select ok(
  integration.finish_cleanup_run((select run_id from second), '00000000-0000-4000-8000-0000000000b2', 'unreachable',
    '{"access_levels_checked": 30, "salto_calls": 31}', '{}', 'SaltoDBGroup.Update: connection refused'),
  'a slice that cannot reach SALTO fails the attempt'
);
select results_eq(
  $$ select status, resume_after, access_levels_checked, salto_calls from integration.cleanup_runs where id = (select run_id from second) $$,
  $$ values ('unreachable', 'B-050', 50, 31) $$,
  'its access levels are not counted as done: the retry checks them again from B-050'
);
select results_eq(
  $$ select attempts from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000b3', '10 minutes',
       array['00000000-0000-4000-8000-000000000001'::uuid]) $$,
  $$ values (2) $$,
  'the retry is a new attempt'
);
-- The call holding it is killed: its lease runs out, and the next call goes on from the same place.
update integration.cleanup_runs set leased_until = clock_timestamp() - interval '1 second' where id = (select run_id from second);
select results_eq(
  $$ select l.attempts, r.resume_after
     from integration.lease_cleanup_runs('00000000-0000-4000-8000-0000000000b4', '10 minutes',
       array['00000000-0000-4000-8000-000000000001'::uuid]) as l
     join integration.cleanup_runs as r on r.id = l.run_id $$,
  $$ values (3, 'B-050') $$,
  'a killed call''s run is retried from the last slice done'
);

select * from finish();
rollback;

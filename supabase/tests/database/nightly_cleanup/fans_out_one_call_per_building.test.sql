-- The night's cleanups are fanned out by the database: one salto-cleanup call per due building, each
-- for that building's run only, a bounded number under way at once; each finished run calls the next;
-- a failed run does not hold up the others and is retried by the five-minute job.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(12);

-- Five buildings whose midnight is the same instant, with IDs in the order their runs are leased
-- (building order).
insert into public.buildings (id, name, timezone, created_at)
select ('00000000-0000-4000-8000-00000000000' || i)::uuid, 'Fan-out ' || i, 'Australia/Sydney', '2020-01-01'
from generate_series(1, 5) as i;
insert into integration.salto_servers (building_id, host, port, auth_mode)
select id, 'salto.invalid', 8100, 'none' from public.buildings where name like 'Fan-out %';
insert into integration.clock_offset (id, shift)
values (true, '2030-03-10 00:02 Australia/Sydney'::timestamptz - now())
on conflict (id) do update set shift = excluded.shift;

create temporary table queued_before as select coalesce(max(id), 0) as id from net.http_request_queue;
create function pg_temp.fan_out_calls()
returns table (building_id uuid, run_id uuid, dispatch uuid, url text)
language sql as $$
  select r.building_id, r.id, (convert_from(q.body, 'utf8')::jsonb ->> 'dispatch')::uuid, q.url
  from net.http_request_queue as q
  join integration.cleanup_runs as r on r.id = (convert_from(q.body, 'utf8')::jsonb ->> 'run_id')::uuid
  where q.id > (select id from queued_before) and r.building_id in (select id from public.buildings where name like 'Fan-out %')
$$;

-- Three may be under way: three calls, one building each.
select is(integration.dispatch_cleanups(3), 3, 'three calls are queued when three may be under way');
select results_eq(
  $$ select count(*)::int, count(distinct building_id)::int, bool_and(url like '%/functions/v1/salto-cleanup') from pg_temp.fan_out_calls() $$,
  $$ values (3, 3, true) $$,
  'each call is for one building''s run, to salto-cleanup');
select results_eq(
  $$ select building_id from pg_temp.fan_out_calls() order by 1 $$,
  $$ values ('00000000-0000-4000-8000-000000000001'::uuid), ('00000000-0000-4000-8000-000000000002'), ('00000000-0000-4000-8000-000000000003') $$,
  'the first three buildings are called');
select is(integration.dispatch_cleanups(3), 0, 'none more while three are under way');

-- The invocations take their runs over; a dispatch that does not hold a run hands over nothing.
select is_empty(
  $$ select * from integration.take_cleanup_run((select run_id from pg_temp.fan_out_calls() limit 1), gen_random_uuid(), gen_random_uuid(), '10 minutes') $$,
  'a run is handed only to the call its dispatch made');
create temporary table taken as
select c.building_id, t.run_id, ('00000000-0000-4000-8000-0000000000a' || row_number() over (order by c.building_id))::uuid as invocation
from pg_temp.fan_out_calls() as c
cross join lateral integration.take_cleanup_run(c.run_id, c.dispatch, ('00000000-0000-4000-8000-0000000000a'
  || (select count(*) + 1 from pg_temp.fan_out_calls() as e where e.building_id < c.building_id))::uuid, '10 minutes') as t;
select is((select count(*)::int from taken), 3, 'each call takes its run over');

-- Building 1 fails: the run's place goes to the buildings still due (up to the default twelve under
-- way), not back to building 1.
select ok(integration.finish_cleanup_run((select run_id from taken where building_id = '00000000-0000-4000-8000-000000000001'),
  (select invocation from taken where building_id = '00000000-0000-4000-8000-000000000001'), 'unreachable', '{}', '{}', 'SALTO down'),
  'building 1''s run fails');
select results_eq(
  $$ select building_id from pg_temp.fan_out_calls() where building_id not in (select building_id from taken) order by 1 $$,
  $$ values ('00000000-0000-4000-8000-000000000004'::uuid), ('00000000-0000-4000-8000-000000000005') $$,
  'a finished run calls the buildings still due');
-- Buildings 2 and 3 complete: nothing is called again, building 1 still waits.
select integration.finish_cleanup_run(run_id, invocation, 'completed', '{}', '{}')
from taken where building_id in ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select building_id, count(*)::int from pg_temp.fan_out_calls() group by 1 order by 1 $$,
  $$ values ('00000000-0000-4000-8000-000000000001'::uuid, 1), ('00000000-0000-4000-8000-000000000002', 1),
    ('00000000-0000-4000-8000-000000000003', 1), ('00000000-0000-4000-8000-000000000004', 1), ('00000000-0000-4000-8000-000000000005', 1) $$,
  'each building is called once; finished runs do not call a failed one again');
select is(
  (select status from integration.cleanup_runs where building_id = '00000000-0000-4000-8000-000000000001'), 'unreachable',
  'the failed building waits for the five-minute job');

-- The five-minute job retries it.
select integration.wake_cleanup();
select results_eq(
  $$ select count(*)::int from pg_temp.fan_out_calls() where building_id = '00000000-0000-4000-8000-000000000001' $$,
  $$ values (2) $$,
  'the five-minute job calls the failed building again');
select results_eq(
  $$ select attempts, status from integration.cleanup_runs where building_id = '00000000-0000-4000-8000-000000000001' $$,
  $$ values (2, 'running') $$,
  'as its second attempt');

select * from finish();
rollback;

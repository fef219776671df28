-- Every building is cleaned once per local date, within a quarter hour after its own local midnight,
-- whatever its offset (+10/+11, +9:30/+10:30, +5:45, -8/-7) and on the nights the clocks change, a
-- zone where midnight itself is skipped included. The five-minute pg_cron job is simulated: at every
-- UTC instant it would run, each building integration.due_cleanups() names gets a completed run.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(21);

select is(
  (select schedule from cron.job where jobname = 'salto-nightly-cleanup'), '*/5 * * * *',
  'the cleanup job runs every five minutes (pg_cron schedules in UTC; every zone''s midnight falls on a five-minute mark)'
);
select is(
  (select command from cron.job where jobname = 'salto-nightly-cleanup'), 'select integration.wake_cleanup()',
  'the job wakes the cleanup function through integration.wake_cleanup()'
);

-- Buildings long in existence (so each night is theirs to clean), each with a SALTO server.
create temporary table zone_buildings (time_zone text primary key, building_id uuid not null default gen_random_uuid());
insert into zone_buildings (time_zone)
values ('Australia/Sydney'), ('Australia/Adelaide'), ('Asia/Kathmandu'), ('America/Los_Angeles'), ('America/Santiago');
insert into public.buildings (id, name, timezone, created_at)
select building_id, 'Cleanup ' || time_zone, time_zone, '2020-01-01 00:00+00' from zone_buildings;
insert into integration.salto_servers (building_id, host, port, auth_mode)
select building_id, 'salto.invalid', 8100, 'none' from zone_buildings;

-- The nights to watch: the local date that begins at the midnight in question.
create temporary table nights (time_zone text, local_date date, what text);
insert into nights values
  ('Australia/Sydney', '2027-01-15', 'an ordinary summer night'),
  ('Australia/Sydney', '2027-04-04', 'the night daylight saving ends (03:00 -> 02:00)'),
  ('Australia/Sydney', '2027-10-03', 'the night daylight saving starts (02:00 -> 03:00)'),
  ('Australia/Adelaide', '2027-06-15', 'an ordinary winter night (+9:30)'),
  ('Australia/Adelaide', '2027-04-04', 'the night daylight saving ends (+10:30 -> +9:30)'),
  ('Australia/Adelaide', '2027-10-03', 'the night daylight saving starts (+9:30 -> +10:30)'),
  ('Asia/Kathmandu', '2027-01-15', 'an ordinary night (+5:45)'),
  ('Asia/Kathmandu', '2027-04-04', 'another ordinary night (+5:45, no daylight saving)'),
  ('America/Los_Angeles', '2027-01-15', 'an ordinary winter night'),
  ('America/Los_Angeles', '2027-03-14', 'the night daylight saving starts (02:00 -> 03:00)'),
  ('America/Los_Angeles', '2027-11-07', 'the night daylight saving ends (02:00 -> 01:00)'),
  ('America/Santiago', '2027-09-05', 'the night midnight is skipped (00:00 -> 01:00)'),
  ('America/Santiago', '2027-04-04', 'the night 23:00-24:00 happens twice');

-- The job, run at every five-minute UTC mark from 22:00 the evening before to 02:00 local.
do $$
declare
  night record;
  tick timestamptz;
  due record;
begin
  for night in select n.*, z.building_id from nights as n join zone_buildings as z using (time_zone) order by 1, 2 loop
    tick := pg_catalog.date_bin('5 minutes', ((night.local_date - 1) + time '22:00') at time zone night.time_zone, '2000-01-01');
    while tick <= (night.local_date + time '02:00') at time zone night.time_zone loop
      for due in select * from integration.due_cleanups(tick) as d where d.building_id = night.building_id loop
        insert into integration.cleanup_runs (building_id, local_date, status, started_at, last_attempt_at, finished_at)
        values (due.building_id, due.local_date, 'completed', tick, tick, tick);
      end loop;
      tick := tick + interval '5 minutes';
    end loop;
  end loop;
end;
$$;

-- For each night: exactly one run for the new local date, started in [local midnight, +15 minutes).
create temporary table outcomes as
select n.time_zone, n.local_date, n.what,
  (select count(*) from integration.cleanup_runs as r where r.building_id = z.building_id and r.local_date = n.local_date) as runs,
  (select r.started_at - (n.local_date::timestamp at time zone n.time_zone)
   from integration.cleanup_runs as r where r.building_id = z.building_id and r.local_date = n.local_date) as after_midnight
from nights as n join zone_buildings as z using (time_zone);

select ok(
  o.runs = 1 and o.after_midnight >= interval '0' and o.after_midnight < interval '15 minutes',
  format('%s, %s (%s): cleaned once, %s after local midnight', o.time_zone, o.local_date, o.what, o.after_midnight)
)
from outcomes as o order by o.time_zone, o.local_date;

-- Midnight skipped in Santiago: the date begins at 01:00 local, which is when the run happens.
select is(
  (select r.started_at from integration.cleanup_runs as r join zone_buildings as z using (building_id)
   where z.time_zone = 'America/Santiago' and r.local_date = '2027-09-05'),
  '2027-09-05 04:00+00'::timestamptz,
  'where midnight is skipped, the run follows the jump to 01:00'
);

-- A building is not due before its local midnight, and not again the same date.
select is_empty(
  $$ select 1 from integration.due_cleanups('2027-01-14 23:59:59 Australia/Sydney') as d
     join zone_buildings as z using (building_id) where z.time_zone = 'Australia/Sydney' $$,
  'one second before midnight the building is not due (its date has its run)'
);
select is_empty(
  $$ select 1 from integration.due_cleanups('2027-01-15 12:00 Australia/Sydney') as d
     join zone_buildings as z using (building_id) where z.time_zone = 'Australia/Sydney' $$,
  'later the same date it is not due again'
);
select results_eq(
  $$ select d.local_date from integration.due_cleanups('2027-01-16 00:00 Australia/Sydney') as d
     join zone_buildings as z using (building_id) where z.time_zone = 'Australia/Sydney' $$,
  $$ values ('2027-01-16'::date) $$,
  'at the next midnight it is due for the new date'
);

-- A building created today is first cleaned after its first local midnight.
insert into public.buildings (id, name, timezone, created_at)
values ('00000000-0000-4000-8000-00000000c1ea', 'Cleanup new building', 'Australia/Sydney', '2027-01-15 09:00 Australia/Sydney');
insert into integration.salto_servers (building_id, host, port, auth_mode)
values ('00000000-0000-4000-8000-00000000c1ea', 'salto.invalid', 8100, 'none');
select is_empty(
  $$ select 1 from integration.due_cleanups('2027-01-15 23:55 Australia/Sydney') where building_id = '00000000-0000-4000-8000-00000000c1ea' $$,
  'a building created today is not due before its first midnight'
);
select isnt_empty(
  $$ select 1 from integration.due_cleanups('2027-01-16 00:00 Australia/Sydney') where building_id = '00000000-0000-4000-8000-00000000c1ea' $$,
  'it is due at its first midnight'
);

select * from finish();
rollback;

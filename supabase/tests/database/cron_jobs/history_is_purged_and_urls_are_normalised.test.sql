-- What grows without bound is purged (pg_cron's run history), and the project URL may end with a slash.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(4);

insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
values
  (1, -1001, 0, 'postgres', 'postgres', 'select 1', 'succeeded', '1 row', now() - interval '8 days', now() - interval '8 days'),
  (1, -1002, 0, 'postgres', 'postgres', 'select 1', 'succeeded', '1 row', now() - interval '1 day', now() - interval '1 day');
select ok(integration.purge_cron_history() >= 1, 'the daily purge forgets job runs older than a week');
select is(
  (select array_agg(runid order by runid) from cron.job_run_details where runid in (-1001, -1002)),
  array[-1002::bigint],
  'and keeps the last week'
);
select is(
  (select schedule from cron.job where jobname = 'purge-cron-history-daily'),
  '17 3 * * *',
  'it runs daily'
);

-- A project URL set with a trailing slash: the wake-up's URL has one slash before functions/v1.
-- The stack sets both Vault secrets; this transaction changes the URL and rolls it back.
select vault.update_secret(id, 'https://project.example/') from vault.secrets where name = 'project_url';
select integration.call_function('health', '{}');
select is(
  (select url from net.http_request_queue order by id desc limit 1),
  'https://project.example/functions/v1/health',
  'a project URL ending with a slash gives https://project.example/functions/v1/<name>'
);

select * from finish();
rollback;

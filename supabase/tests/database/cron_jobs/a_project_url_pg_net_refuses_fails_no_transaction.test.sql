-- pg_net refuses, when a request is queued, a URL its parser (libcurl's) refuses. A project URL set
-- without its https:// must not make every booking's transaction fail on its wake-up: the call is
-- not queued, with a warning, and the minute jobs stay the wake-ups.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(5);

select throws_ok(
  $$ select net.http_post('project.example/functions/v1/health', '{}'::jsonb) $$,
  'URL using bad/illegal format or missing URL',
  'pg_net refuses a URL without a scheme when the request is queued'
);
select throws_ok(
  $$ select net.http_get('localhost:8080') $$,
  'Couldn''t resolve proxy name',
  'and one whose scheme is not http or https, with libcurl''s text as pg_net prints it'
);

-- The stack sets both Vault secrets; this transaction changes the URL and rolls it back.
select vault.update_secret(id, 'project.example') from vault.secrets where name = 'project_url';
select is(integration.call_function('health', '{}'), null, 'a project URL without https:// queues no call');
select lives_ok($$ select integration.wake_sync() $$, 'so a booking''s wake-up does not fail its transaction');
select is(
  (select count(*)::int from net.http_request_queue where url like 'project.example%'),
  0,
  'and nothing is queued for pg_net'
);

select * from finish();
rollback;

-- The SALTO traffic log keeps the latest exchanges of each building with the SHIP key redacted;
-- managers read their own buildings' log only. A newly connected server starts in shadow mode, and
-- only the building's managers (or the service role) switch it live.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(10);

select tests.create_two_buildings();
insert into integration.salto_servers (building_id, host, port, auth_mode, credential_secret_name)
values (tests.building_id('Alpha Towers'), 'salto.example', 8443, 'key', 'salto_key_traffic');
select vault.create_secret('very-secret-ship-key', 'salto_key_traffic');

select is(
  (select writes from integration.salto_servers where building_id = tests.building_id('Alpha Towers')),
  'shadow',
  'a newly connected SALTO server starts in shadow mode'
);

-- 600 exchanges: the latest 500 are kept; the credential is redacted wherever it appears.
select integration.record_salto_traffic(
  tests.building_id('Alpha Towers'),
  (select jsonb_agg(jsonb_build_object('request_name', 'GetInfo', 'request', '<n>' || i || '</n>',
     'reply', 'echo very-secret-ship-key', 'sent', true, 'duration_ms', 3) order by i)
   from generate_series(1, 600) as i));
select is(
  (select count(*)::int from integration.salto_traffic where building_id = tests.building_id('Alpha Towers')),
  500, 'the log keeps the latest 500 exchanges of a building');
select ok(
  exists (select from integration.salto_traffic where request = '<n>101</n>')
  and not exists (select from integration.salto_traffic where request = '<n>100</n>'),
  'the oldest kept is the 101st');
select is(
  (select count(*)::int from integration.salto_traffic where reply like '%very-secret-ship-key%'), 0,
  'the SHIP key is redacted');
select is(
  (select count(*)::int from integration.salto_traffic where reply = 'echo [redacted]'), 500,
  'and replaced by [redacted]');

-- Managers read their own buildings' traffic only.
select tests.authenticate_as('manager_alpha');
select is((select count(*)::int from integration.salto_traffic), 500, 'a manager reads the traffic of their building');
select tests.authenticate_as('manager_beta');
select is((select count(*)::int from integration.salto_traffic), 0, 'another building''s manager reads none of it');
select throws_ok(
  format('select public.switch_salto_live(%L)', tests.building_id('Alpha Towers')),
  '42501', 'not a manager of this building', 'and cannot switch that building live');
select tests.authenticate_as('manager_alpha');
select is(public.switch_salto_live(tests.building_id('Alpha Towers')), 'live', 'its manager switches it live');
select tests.authenticate_as_service_role();
select is(
  (select writes from integration.salto_servers where building_id = tests.building_id('Alpha Towers')),
  'live', 'and the server is written from then on');

select * from finish();
rollback;

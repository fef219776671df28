-- An access level failing for a reason of its own (integration.record_access_level_error) is not a
-- SALTO outage: integration.check_salto_reachable starts an outage (and, after unreachable_after, a
-- "SALTO unreachable" alert) only for work that failed because SALTO could not be reached.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(3);

select tests.create_two_buildings();
create temporary table round on commit drop as
  select * from integration.take_work('00000000-0000-4000-8000-00000000a006', interval '1 minute', 10, 50);

select integration.record_access_level_error(
  tests.building_id('Alpha Towers'), 'APT-101', 'TypeError: the reply cannot be read',
  now() + interval '30 seconds', '00000000-0000-4000-8000-00000000a006', interval '1 minute');
select integration.check_salto_reachable();
-- Had it started an outage, that outage is now older than any building's unreachable_after.
update integration.salto_outages set failing_since = now() - interval '1 day'
where building_id = tests.building_id('Alpha Towers');
select integration.check_salto_reachable();
select is(
  (select count(*)::int from integration.salto_outages where building_id = tests.building_id('Alpha Towers')),
  0, 'an access level''s own failure starts no outage');
select is(
  (select count(*)::int from integration.alerts
   where building_id = tests.building_id('Alpha Towers') and kind = 'salto_unreachable'),
  0, 'and raises no "SALTO unreachable" alert');

-- The sync's transient failure (SALTO unreachable), as its store records it.
update integration.access_level_work set attempts = attempts + 1, salto_unreachable = true
where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102';
select integration.check_salto_reachable();
update integration.salto_outages set failing_since = now() - interval '1 day'
where building_id = tests.building_id('Alpha Towers');
select integration.check_salto_reachable();
select is(
  (select count(*)::int from integration.alerts
   where building_id = tests.building_id('Alpha Towers') and kind = 'salto_unreachable'),
  1, 'work that could not reach SALTO is an outage');

select * from finish();
rollback;

-- An alert says when its problem ended and what ended it: "SALTO unreachable" once the building's
-- writes succeed again; the nightly check's unknown IDs once SALTO lists them. Managers read it in
-- access_alerts with a one-line summary.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(7);

select tests.create_two_buildings();

-- Alpha's SALTO could not be reached for an hour (the outage is older than unreachable_after).
insert into integration.access_level_work (building_id, access_level_id, attempts, not_before, last_error, salto_unreachable)
values (tests.building_id('Alpha Towers'), 'APT-101', 3, now() + interval '1 minute', 'connect ECONNREFUSED', true);
insert into integration.salto_outages (building_id, failing_since)
values (tests.building_id('Alpha Towers'), now() - interval '1 hour');
select integration.check_salto_reachable();

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select kind, resolved_at is null from access_alerts where kind = 'salto_unreachable' $$,
  $$ values ('salto_unreachable', true) $$,
  'the outage is alerted and open'
);
select matches(
  (select summary from access_alerts where kind = 'salto_unreachable'),
  '^SALTO unreachable: writes to not configured have failed since \w{3} \d+ \w{3}, \d\d:\d\d \(Australia/Sydney\); 1 access levels wait to be written\.$',
  'its summary gives the building-local time with the zone'
);

-- The write succeeds: no work in backoff is left.
reset role;
delete from integration.access_level_work where building_id = tests.building_id('Alpha Towers');
select integration.check_salto_reachable();
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select resolved_at is not null, resolution from access_alerts where kind = 'salto_unreachable' $$,
  $$ values (true, 'SALTO accepted the building''s writes again.') $$,
  'the outage''s alert is resolved once writes succeed'
);

-- The nightly check: SALTO does not list the Alpha gym's zone, then it does.
reset role;
select integration.record_salto_ids_check(tests.building_id('Alpha Towers'), '{MAIN}', '{APT-101,APT-102}');
select tests.authenticate_as('manager_alpha');
select matches(
  (select summary from access_alerts where kind = 'unknown_salto_id' and resolved_at is null),
  '^SALTO has no zone with the Zone ID "GYM" \(facility Alpha gym\)\. Set .*Studio: table public\.facilities, column access_control_facility_id',
  'the nightly check''s alert names the Studio table and column'
);
reset role;
select integration.record_salto_ids_check(tests.building_id('Alpha Towers'), '{MAIN,GYM}', '{APT-101,APT-102}');
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select resolved_at is not null, resolution from access_alerts where kind = 'unknown_salto_id' $$,
  $$ values (true, 'The nightly check found no unknown ID here any more.') $$,
  'the nightly check resolves the alert once SALTO lists the ID'
);
reset role;
select integration.record_salto_ids_check(tests.building_id('Alpha Towers'), '{MAIN}', '{APT-101,APT-102}');
select is(
  (select count(*)::int from integration.alerts where kind = 'unknown_salto_id' and building_id = tests.building_id('Alpha Towers')),
  2, 'the same problem coming back is a new alert'
);
select tests.authenticate_as('manager_beta');
select is_empty($$ select 1 from access_alerts $$, 'another building''s manager reads none of these alerts');

select * from finish();
rollback;

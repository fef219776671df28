-- Saving a Zone ID or an Access Control ID queues its check against SALTO; an unknown ID is marked,
-- alerted (and so emailed) with the closest IDs SALTO has and where to fix it; fixing it resolves the
-- alert. Managers read the checks of their buildings, residents none.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(20);

select tests.create_two_buildings();

select results_eq(
  $$ select kind, salto_id, status from integration.salto_id_checks
     where building_id = tests.building_id('Alpha Towers') order by kind, salto_id $$,
  $$ values ('access_level', 'APT-101', 'pending'), ('access_level', 'APT-102', 'pending'), ('zone', 'GYM', 'pending') $$,
  'every saved ID is queued for a check, bookings or not'
);

-- The sync reports what SALTO said about the Alpha gym's ID, once a manager typed it in lower case.
update facilities set access_control_facility_id = 'gym' where id = tests.facility_id('Alpha gym');
select is(
  (select status from integration.salto_id_checks where facility_id = tests.facility_id('Alpha gym')),
  'pending', 'changing the Zone ID queues it again'
);
select is(
  integration.record_salto_id_checks(tests.building_id('Alpha Towers'), gen_random_uuid(),
    pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'id', (select id from integration.salto_id_checks where facility_id = tests.facility_id('Alpha gym')),
      'salto_id', 'gym', 'status', 'unknown', 'suggestions', pg_catalog.jsonb_build_array('GYM')))),
  1, 'the answer is recorded'
);

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select facility_name, salto_id, status, suggestions from salto_id_checks where kind = 'zone' $$,
  $$ values ('Alpha gym', 'gym', 'unknown', '{GYM}'::text[]) $$,
  'the manager reads the check beside the facility''s name, with the closest ID SALTO has'
);
select matches(
  (select message from salto_id_checks where kind = 'zone'),
  '^SALTO has no zone with the Zone ID "gym"\. Set .*Settings > Facilities \(Studio: table public\.facilities, column access_control_facility_id\).*Did you mean "GYM"\?$',
  'the message names the portal screen, the Studio table and column, and asks "did you mean GYM?"'
);
select results_eq(
  $$ select kind, salto_id, facility_name, suggestions from unknown_salto_ids $$,
  $$ values ('zone', 'gym', 'Alpha gym', '{GYM}'::text[]) $$,
  'unknown_salto_ids lists it at once, not after the night'
);
select results_eq(
  $$ select kind, resolved_at is null from access_alerts where kind = 'unknown_salto_id' $$,
  $$ values ('unknown_salto_id', true) $$,
  'the manager has an open unknown_salto_id alert'
);
select matches(
  (select summary from access_alerts where kind = 'unknown_salto_id'),
  '^SALTO has no zone with the Zone ID "gym" \(facility Alpha gym\)\. .*Did you mean "GYM"\?$',
  'the alert says it in one line'
);
reset role;
select ok(
  exists (
    select from integration.email_outbox_alerts as oa
    join integration.alerts as a on a.id = oa.alert_id
    where a.kind = 'unknown_salto_id' and a.building_id = tests.building_id('Alpha Towers') and not oa.skipped),
  'the alert is on its way as an email'
);

-- Fixed: the alert is resolved, saying how, and the mark is gone.
update facilities set access_control_facility_id = 'GYM' where id = tests.facility_id('Alpha gym');
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select resolved_at is not null, resolution from access_alerts where kind = 'unknown_salto_id' $$,
  $$ values (true, 'The Zone ID was changed to "GYM".') $$,
  'fixing the ID resolves the alert and says what resolved it'
);
select is_empty($$ select 1 from unknown_salto_ids $$, 'the unknown ID is no longer listed');
reset role;
select is(
  integration.record_salto_id_checks(tests.building_id('Alpha Towers'), gen_random_uuid(),
    pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'id', (select id from integration.salto_id_checks where facility_id = tests.facility_id('Alpha gym')),
      'salto_id', 'GYM', 'status', 'known', 'suggestions', pg_catalog.jsonb_build_array()))),
  1, 'the fixed ID is checked'
);
select is(
  (select message from integration.salto_id_checks where facility_id = tests.facility_id('Alpha gym')),
  'SALTO knows the Zone ID "GYM".', 'and found known'
);

-- An ID SALTO did not know, then learnt (the zone was created in SALTO): saving it again checks it
-- again, and the answer resolves the alert.
update apartments set access_control_id = 'APT-999' where id = tests.apartment_id('A-102');
select integration.record_salto_id_checks(tests.building_id('Alpha Towers'), gen_random_uuid(),
  pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
    'id', (select id from integration.salto_id_checks where apartment_id = tests.apartment_id('A-102')),
    'salto_id', 'APT-999', 'status', 'unknown', 'suggestions', pg_catalog.jsonb_build_array())));
update apartments set access_control_id = 'APT-999' where id = tests.apartment_id('A-102');
select is(
  (select status from integration.salto_id_checks where apartment_id = tests.apartment_id('A-102')),
  'pending', 'saving an unknown ID again checks it again'
);
select integration.record_salto_id_checks(tests.building_id('Alpha Towers'), gen_random_uuid(),
  pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
    'id', (select id from integration.salto_id_checks where apartment_id = tests.apartment_id('A-102')),
    'salto_id', 'APT-999', 'status', 'known', 'suggestions', pg_catalog.jsonb_build_array())));
select is(
  (select resolution from integration.alerts where kind = 'unknown_salto_id' and details ->> 'access_level_id' = 'APT-999'),
  'SALTO knows the Access Control ID "APT-999" now.', 'SALTO knowing the ID resolves its alert'
);

-- An answer about an ID saved again meanwhile is not recorded: the new ID is still to be checked.
update apartments set access_control_id = 'APT-102' where id = tests.apartment_id('A-102');
select is(
  integration.record_salto_id_checks(tests.building_id('Alpha Towers'), gen_random_uuid(),
    pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'id', (select id from integration.salto_id_checks where apartment_id = tests.apartment_id('A-102')),
      'salto_id', 'APT-999', 'status', 'unknown', 'suggestions', pg_catalog.jsonb_build_array()))),
  0, 'a stale answer is ignored'
);

-- Without a SALTO server, the checks say so instead of waiting forever.
select is_empty(
  $$ select integration.take_salto_id_checks(gen_random_uuid(), interval '1 minute') $$,
  'no building without a SALTO server is leased for checks'
);
select is(
  (select status from integration.salto_id_checks where apartment_id = tests.apartment_id('A-102')),
  'not_checked', 'its checks are marked not_checked'
);

select tests.authenticate_as('manager_beta');
select is_empty(
  $$ select 1 from salto_id_checks where building_id = tests.building_id('Alpha Towers') $$,
  'another building''s manager reads none of these checks'
);
select tests.authenticate_as('resident_a101');
select is_empty($$ select 1 from salto_id_checks $$, 'residents read no ID checks');

select * from finish();
rollback;

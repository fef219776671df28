-- integration.record_access_level_error: an access level that failed for a reason of its own records
-- why and waits for its backoff; its bookings still to be written say why; the building's other work
-- does not wait; the caller's lease is renewed (and it is told when it no longer holds it).
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(5);

select tests.create_two_buildings();
create temporary table round on commit drop as
  select * from integration.take_work('00000000-0000-4000-8000-00000000a005', interval '1 minute', 10, 50);

select is(
  integration.record_access_level_error(
    tests.building_id('Alpha Towers'), 'APT-101', 'TypeError: the reply cannot be read',
    now() + interval '30 seconds', '00000000-0000-4000-8000-00000000a005', interval '1 minute'),
  true, 'it renews the lease its caller holds, and says so');
select results_eq(
  $$ select attempts, last_error, not_before from integration.access_level_work
     where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-101' $$,
  $$ values (1, 'TypeError: the reply cannot be read', now() + interval '30 seconds') $$,
  'the access level records why, and waits for its backoff'
);
select results_eq(
  $$ select not_before from integration.access_level_work
     where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102' $$,
  $$ values ('-infinity'::timestamptz) $$,
  'the building''s other work does not wait'
);
select results_eq(
  $$ select state, reason from integration.booking_access where booking_id = tests.booking_of('A-101') $$,
  $$ values ('scheduled', 'Writing this apartment''s access level failed (TypeError: the reply cannot be read); retrying.') $$,
  'its booking still to be written says why'
);
select is(
  integration.record_access_level_error(
    tests.building_id('Alpha Towers'), 'APT-102', 'x', now(), '00000000-0000-4000-8000-00000000a099', interval '1 minute'),
  false, 'it says when the caller no longer holds the building''s lease');

select * from finish();
rollback;

-- The sync's round trips: integration.take_work (fold, lease, bring each leased building with its
-- context, timetables and due access levels), due_work_plans (the due access levels with their plans)
-- and record_reconciled (an outcome in one call).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(25);

-- Work pending from outside this test is not its business: set it aside (rolled back at the end).
delete from integration.booking_changes;
delete from integration.access_level_work;

select results_eq(
  $$ select claimed, changes_left, seconds_until_due
     from integration.take_work('00000000-0000-4000-8000-00000000a001', interval '1 minute', 10, 500, 50) $$,
  $$ values ('[]'::jsonb, false, null::double precision) $$,
  'with nothing pending, a round leases nothing and says no work will fall due'
);

select tests.create_two_buildings();
create temporary table round on commit drop as
  select * from integration.take_work('00000000-0000-4000-8000-00000000a001', interval '1 minute', 10, 500, 1);
select results_eq(
  $$ select (select array_agg((c -> 'building' ->> 'building_id')::uuid order by c -> 'building' ->> 'building_id')
             from jsonb_array_elements(claimed) as c),
       changes_left, seconds_until_due
     from round $$,
  $$ values ((select array_agg(id order by id) from buildings where name in ('Alpha Towers', 'Beta Court')), false, 0::double precision) $$,
  'a round folds the new bookings'' changes and leases both buildings, whose work is due now'
);
select is(
  (select state from integration.booking_access where booking_id = tests.booking_of('A-101')), 'scheduled',
  'the round decided the bookings'' access states'
);
create temporary table alpha on commit drop as
  select c from round, jsonb_array_elements(round.claimed) as c
  where c -> 'building' ->> 'building_id' = tests.building_id('Alpha Towers')::text;
select results_eq(
  $$ select c -> 'building' ->> 'timezone', c -> 'building' -> 'salto_server', c ? 'timetables'
     from alpha $$,
  $$ values ('Australia/Sydney', 'null'::jsonb, false) $$,
  'a leased building comes with its time zone and its SALTO server (none configured here)'
);
select results_eq(
  $$ select d ->> 'access_level_id', (d ->> 'generation')::bigint, (d ->> 'attempts')::int, d ? 'desired'
     from alpha, jsonb_array_elements(alpha.c -> 'due') as d $$,
  $$ select access_level_id, generation, attempts, false
     from integration.due_work_plans(tests.building_id('Alpha Towers'), 1) $$,
  'and with its first due access levels (up to the batch asked for), oldest first, without their plans (read while SALTO is)'
);
select results_eq(
  $$ select claimed, seconds_until_due
     from integration.take_work('00000000-0000-4000-8000-00000000a002', interval '1 minute', 10, 500, 50) $$,
  $$ values ('[]'::jsonb, 0::double precision) $$,
  'another invocation leases nothing while the first holds the buildings, and hears that work is due'
);

insert into integration.booking_changes (building_id, apartment_id, facility_id)
values (tests.building_id('Alpha Towers'), tests.apartment_id('A-101'), tests.facility_id('Alpha gym')),
       (tests.building_id('Alpha Towers'), tests.apartment_id('A-102'), tests.facility_id('Alpha gym'));
delete from integration.building_leases where leased_by = '00000000-0000-4000-8000-00000000a001';
select results_eq(
  $$ select claimed, changes_left from integration.take_work('00000000-0000-4000-8000-00000000a003', interval '1 minute', 10, 1, 50) $$,
  $$ values ('[]'::jsonb, true) $$,
  'a round that folds a full batch says more changes may be left, and leases nothing until they are folded'
);
select is(
  (select count(*)::int from integration.booking_changes
   where apartment_id in (tests.apartment_id('A-101'), tests.apartment_id('A-102'))),
  1, 'and leaves the rest for the next round');
select is(
  (select claimed @> jsonb_build_array(jsonb_build_object('building', jsonb_build_object('building_id', tests.building_id('Alpha Towers'))))
   from integration.take_work('00000000-0000-4000-8000-00000000a003', interval '1 minute', 10, 500, 50)),
  true,
  'the next round folds the rest and leases the building'
);

select results_eq(
  $$ select access_level_id, jsonb_array_length(desired), desired -> 0 ->> 'zone_id',
       (desired -> 0 ->> 'window_start')::timestamptz, managed_zones
     from integration.due_work_plans(tests.building_id('Alpha Towers'), 10) order by access_level_id $$,
  $$ values ('APT-101', 1, 'GYM', '2030-06-01 08:50 Australia/Sydney'::timestamptz, '{GYM}'::text[]),
            ('APT-102', 1, 'GYM', '2030-06-01 10:50 Australia/Sydney'::timestamptz, '{GYM}'::text[]) $$,
  'due_work_plans lists the due access levels with their desired windows (before-buffer included) and managed zones'
);
select is(
  (select count(*)::int from integration.due_work_plans(tests.building_id('Alpha Towers'), 1)), 1,
  'due_work_plans takes at most the limit'
);

-- The outcome of writing APT-102's permission, recorded with the generation the sync read.
create temporary table read_generation on commit drop as
  select generation from integration.access_level_work
  where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102';
select is(integration.record_reconciled(
  tests.building_id('Alpha Towers'), 'APT-102', (select generation from read_generation),
  jsonb_build_array(jsonb_build_object(
    'zone_id', 'GYM', 'timetable_id', 200, 'period_start', '2030-06-01', 'period_end', '2030-06-01',
    'booking_ids', jsonb_build_array(tests.booking_of('A-102')),
    'window_start', '2030-06-01 10:50 Australia/Sydney'::timestamptz,
    'window_end', '2030-06-01 12:00 Australia/Sydney'::timestamptz,
    'exact', true, 'reason', null)),
  '[]'::jsonb, '[]'::jsonb, '00000000-0000-4000-8000-00000000a003', interval '1 minute'),
  true, 'record_reconciled renews the lease its caller holds, and says so');
select is(
  (select integration.record_reconciled(tests.building_id('Beta Court'), 'APT-101', 0, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb,
     '00000000-0000-4000-8000-00000000a002', interval '1 minute')),
  false,
  'record_reconciled says when the caller no longer holds the building''s lease'
);
select results_eq(
  $$ select state, timetable_id, period_start from integration.booking_access where booking_id = tests.booking_of('A-102') $$,
  $$ values ('active', 200, '2030-06-01'::date) $$,
  'record_reconciled makes the booking it served active, with what was written'
);
select results_eq(
  $$ select zone_id, timetable_id, booking_ids from integration.written_permissions
     where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102' $$,
  $$ values ('GYM', 200, array[tests.booking_of('A-102')]) $$,
  'and records what SALTO now holds'
);
select is(
  (select count(*)::int from integration.access_level_work
   where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102'), 0,
  'and completes the outbox row of the generation it read'
);

-- Asked again while the sync worked (a newer generation): the row stays for another pass.
select integration.apply_booking_changes(null, tests.building_id('Alpha Towers'));
select integration.record_reconciled(
  tests.building_id('Alpha Towers'), 'APT-101',
  (select generation - 1 from integration.access_level_work
   where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-101'),
  '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, '00000000-0000-4000-8000-00000000a002', interval '1 minute');
select is(
  (select count(*)::int from integration.access_level_work
   where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-101'), 1,
  'an outcome recorded with an older generation leaves the newer request queued'
);

-- A change left by an apartment deleted since (its bookings and states went with it) decides nothing.
create temporary table outbox_before on commit drop as
  select count(*) as n from integration.access_level_work where building_id = tests.building_id('Alpha Towers');
insert into integration.booking_changes (building_id, apartment_id, facility_id)
values (tests.building_id('Alpha Towers'), '00000000-0000-4000-8000-0000000000de', tests.facility_id('Alpha gym'));
select is(
  integration.apply_booking_changes(null, tests.building_id('Alpha Towers')), 1,
  'a change of an apartment deleted since is taken'
);
select is(
  (select count(*) from integration.access_level_work where building_id = tests.building_id('Alpha Towers')),
  (select n from outbox_before),
  'and queues nothing'
);

-- The two reads a leased building comes with, as the cleanup and the operator CLI also ask for them.
insert into integration.salto_servers (building_id, transport, host, port, auth_mode, credential_secret_name, timetable_first, timetable_last)
values (tests.building_id('Beta Court'), 'https', 'salto.beta.example', 8443, 'key', 'salto_key_beta_court', 210, 220);
select vault.create_secret('the-ship-key', 'salto_key_beta_court');
select is(
  integration.building_context(tests.building_id('Beta Court')) - 'building_id' - 'timezone',
  jsonb_build_object('timetable_first', 210, 'timetable_last', 220, 'salto_server', jsonb_build_object(
    'transport', 'https', 'host', 'salto.beta.example', 'port', 8443, 'auth_mode', 'key', 'basic_user', null,
    'credential', 'the-ship-key', 'connect_timeout_ms', 5000, 'reply_timeout_ms', 15000)),
  'building_context brings the SALTO server with its credential from Vault'
);
select is(integration.building_context('00000000-0000-4000-8000-0000000000de'), null, 'and nothing for a building that does not exist');
insert into integration.timetable_slots (building_id, timetable_id, content_key, intervals, written_at)
values (tests.building_id('Alpha Towers'), 202, 'k202', '[]', now()),
       (tests.building_id('Alpha Towers'), 201, 'k201', '[]', null);
select is(
  integration.building_timetables(tests.building_id('Alpha Towers')),
  jsonb_build_object(
    'slots', jsonb_build_array(
      jsonb_build_object('slot', 201, 'key', 'k201', 'written', false),
      jsonb_build_object('slot', 202, 'key', 'k202', 'written', true)),
    'used', jsonb_build_array(jsonb_build_object('slot', 200, 'access_level_ids', jsonb_build_array('APT-102')))),
  'building_timetables brings each slot''s content and whether SALTO holds it, and the access levels using each slot'
);
select is(
  integration.building_timetable_slots(tests.building_id('Alpha Towers')),
  integration.building_timetables(tests.building_id('Alpha Towers')) -> 'slots',
  'building_timetable_slots brings the slots alone (what a sync pass starts a building with)'
);
select is(
  integration.building_timetable_users(tests.building_id('Alpha Towers')),
  integration.building_timetables(tests.building_id('Alpha Towers')) -> 'used',
  'building_timetable_users brings the access levels using each slot alone (read when a timetable must take a slot)'
);
select is(
  (select bool_or(has_function_privilege(r, f, 'execute'))
   from unnest(array['authenticated', 'anon']) as r,
        unnest(array['integration.building_context(uuid)', 'integration.building_timetables(uuid)',
                     'integration.building_timetable_slots(uuid)', 'integration.building_timetable_users(uuid)',
                     'integration.take_work(uuid, interval, integer, integer, integer)']) as f),
  false,
  'neither the app''s users nor anonymous callers may execute them (they hold SALTO credentials)'
);

select * from finish();
rollback;

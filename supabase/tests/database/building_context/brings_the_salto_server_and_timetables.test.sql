-- The reads a leased building comes with, as the sync, the cleanup and the operator CLI ask for them:
-- integration.building_context (the SALTO server with its credential from Vault) and
-- integration.building_timetables (the timetable slots and who uses them); nobody but the backend may.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(6);

select tests.create_two_buildings();
-- A round of invocation a003 folds the fixture's bookings and leases both buildings.
create temporary table round on commit drop as
  select * from integration.take_work('00000000-0000-4000-8000-00000000a003', interval '1 minute', 10, 50);
-- APT-102's permission written with timetable 200.
create temporary table read_generation on commit drop as
  select generation from integration.access_level_work
  where building_id = tests.building_id('Alpha Towers') and access_level_id = 'APT-102';
select integration.record_reconciled(
  tests.building_id('Alpha Towers'), 'APT-102', (select generation from read_generation),
  jsonb_build_array(jsonb_build_object(
    'zone_id', 'GYM', 'timetable_id', 200, 'period_start', '2030-06-01', 'period_end', '2030-06-01',
    'booking_ids', jsonb_build_array(tests.booking_of('A-102')),
    'window_start', '2030-06-01 10:50 Australia/Sydney'::timestamptz,
    'window_end', '2030-06-01 12:00 Australia/Sydney'::timestamptz,
    'exact', true, 'reason', null)),
  '[]'::jsonb, '[]'::jsonb, '00000000-0000-4000-8000-00000000a003', interval '1 minute');

-- The two reads a leased building comes with, as the cleanup and the operator CLI also ask for them.
insert into integration.salto_servers (building_id, transport, host, port, auth_mode, credential_secret_name, timetable_first, timetable_last)
values (tests.building_id('Beta Court'), 'https', 'salto.beta.example', 8443, 'key', 'salto_key_beta_court', 210, 220);
select vault.create_secret('the-ship-key', 'salto_key_beta_court');
select is(
  integration.building_context(tests.building_id('Beta Court')) - 'building_id' - 'timezone',
  jsonb_build_object('timetable_first', 210, 'timetable_last', 220, 'salto_server', jsonb_build_object(
    'transport', 'https', 'host', 'salto.beta.example', 'port', 8443, 'auth_mode', 'key', 'basic_user', null,
    'credential', 'the-ship-key', 'connect_timeout_ms', 5000, 'reply_timeout_ms', 15000),
    -- A server just connected starts in shadow mode (nothing written until a manager switches it live).
    'writes', 'shadow'),
  'building_context brings the SALTO server with its credential from Vault, and whether it is written live'
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
                     'integration.take_work(uuid, interval, integer, integer)']) as f),
  false,
  'neither the app''s users nor anonymous callers may execute them (they hold SALTO credentials)'
);

select * from finish();
rollback;

-- A facility's Access Control Facility ID follows the same rules as an apartment's Access Control ID
-- (1 to 32 printable ASCII characters without a space at either end, unique within a building ignoring
-- case), its access buffers are whole minutes up to 4 hours, and it stays in its building.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(13);

select tests.create_two_buildings();

-- Real IDs of the kinds SALTO sites use are accepted.
select lives_ok(
  $$ insert into facilities (building_id, name, access_control_facility_id) values
       (tests.building_id('Alpha Towers'), 'Alpha pool room', 'GYM_1'),
       (tests.building_id('Alpha Towers'), 'Alpha BBQ area', 'Zone 3') $$,
  'facility IDs such as GYM_1 and Zone 3 are accepted'
);

-- What cannot round-trip through SALTO is refused, saying why.
select throws_ok(
  $$ update facilities set access_control_facility_id = 'GYM ' where id = tests.facility_id('Alpha gym') $$,
  '23514',
  'The Access Control Facility ID ''GYM '' cannot be used: it starts or ends with a space, which SALTO trims away.',
  'the Access Control Facility ID follows the same rules, on update too'
);
select throws_ok(
  $$ insert into facilities (building_id, name, access_control_facility_id) values (tests.building_id('Alpha Towers'), 'Sauna', repeat('Z', 33)) $$,
  '23514',
  'The Access Control Facility ID ''ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ'' cannot be used: it is 33 characters long; SALTO IDs hold at most 32.',
  'an Access Control Facility ID over 32 characters is refused'
);

-- Duplicates within a building, including ones differing only in case.
select throws_ok(
  $$ insert into facilities (building_id, name, access_control_facility_id) values (tests.building_id('Beta Court'), 'Beta pool', 'gym') $$,
  '23505',
  'The Access Control Facility ID ''gym'' is already used by the facility ''Beta gym'' of this building.',
  'a duplicate Access Control Facility ID in a building is refused, naming the facility holding it'
);

-- Buffers.
select is(
  (select (access_buffer_before, access_buffer_after)::text from facilities where id = tests.facility_id('Alpha pool room')),
  '(00:00:00,00:00:00)',
  'access buffers default to zero'
);
select lives_ok(
  $$ update facilities set access_buffer_before = '10 minutes', access_buffer_after = '4 hours' where id = tests.facility_id('Alpha pool room') $$,
  'buffers of whole minutes up to 4 hours are accepted'
);
select throws_ok(
  $$ update facilities set access_buffer_before = '-5 minutes' where id = tests.facility_id('Alpha pool room') $$,
  '23514',
  'The access buffer before a booking (-00:05:00) is not valid: it is negative.',
  'a negative buffer is refused'
);
select throws_ok(
  $$ update facilities set access_buffer_after = '10' where id = tests.facility_id('Alpha pool room') $$,
  '23514',
  'The access buffer after a booking (00:00:10) is not valid: it is not a whole number of minutes (a bare number means seconds).',
  'a bare number (seconds) is refused with a hint at minutes'
);
select throws_ok(
  $$ update facilities set access_buffer_after = '4 hours 1 minute' where id = tests.facility_id('Alpha pool room') $$,
  '23514',
  'The access buffer after a booking (04:01:00) is not valid: it is longer than 4 hours.',
  'a buffer over 4 hours is refused'
);
select throws_ok(
  $$ update facilities set access_buffer_before = '1 day' where id = tests.facility_id('Alpha pool room') $$,
  '23514',
  'The access buffer before a booking (1 day) is not valid: write it in hours and minutes, not days or months.',
  'a buffer in days is refused'
);

-- A facility stays in its building, whoever asks.
select throws_ok(
  $$ update facilities set building_id = tests.building_id('Beta Court') where id = tests.facility_id('Alpha pool room') $$,
  '23514',
  'A facility cannot be moved to another building.',
  'a facility cannot be moved to another building'
);

-- With triggers off (replica mode, as in a restore), the constraints themselves still refuse bad data.
set local session_replication_role = replica;
select throws_ok(
  $$ insert into facilities (building_id, name, access_control_facility_id) values (tests.building_id('Alpha Towers'), 'y', repeat('Z', 33)) $$,
  '23514',
  'new row for relation "facilities" violates check constraint "facilities_access_control_facility_id_valid"',
  'the Access Control Facility ID check constraint holds without the trigger'
);
select throws_ok(
  $$ insert into facilities (building_id, name, access_buffer_before) values (tests.building_id('Alpha Towers'), 'y', '30 seconds') $$,
  '23514',
  'new row for relation "facilities" violates check constraint "facilities_access_buffer_before_valid"',
  'the buffer check constraint holds without the trigger'
);
set local session_replication_role = origin;

select * from finish();
rollback;

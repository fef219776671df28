-- Access Control IDs (apartments) and Access Control Facility IDs (facilities) can be read back from
-- SALTO exactly as stored: 1 to 32 printable ASCII characters without a space at either end, unique
-- within a building (ignoring case) but free to repeat across buildings. Buffers are whole minutes.
-- Rows stay in their building.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(28);

select tests.create_two_buildings();

-- Real IDs of the kinds SALTO sites use are accepted.
select lives_ok(
  $$ insert into apartments (building_id, label, access_control_id) values
       (tests.building_id('Alpha Towers'), 'A-501/56', 'APT-501/56'),
       (tests.building_id('Alpha Towers'), 'A-502/56', 'Zone 3 & Spa <B>'),
       (tests.building_id('Alpha Towers'), 'A-503/56', '12345678901234567890123456789012'),
       (tests.building_id('Alpha Towers'), 'A-504/56', null) $$,
  'apartment IDs with slashes, inner spaces, XML characters, exactly 32 characters, or none are accepted'
);
select lives_ok(
  $$ insert into facilities (building_id, name, access_control_facility_id) values
       (tests.building_id('Alpha Towers'), 'Alpha pool room', 'GYM_1'),
       (tests.building_id('Alpha Towers'), 'Alpha BBQ area', 'Zone 3') $$,
  'facility IDs such as GYM_1 and Zone 3 are accepted'
);
select is(
  (select count(*)::int from apartments where access_control_id = 'APT-101'),
  2,
  'the same Access Control ID may be used in two buildings'
);

-- What cannot round-trip through SALTO is refused, saying why and what to do.
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'x', '') $$,
  '23514',
  'The Access Control ID '''' cannot be used: it is empty; leave the field empty (null) when the SALTO ID is not known yet.',
  'an empty Access Control ID is refused with a pointer to null'
);
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'x', '   ') $$,
  '23514',
  'The Access Control ID ''   '' cannot be used: it is empty; leave the field empty (null) when the SALTO ID is not known yet.',
  'a blank Access Control ID is refused as empty'
);
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'x', 'APT-501 ') $$,
  '23514',
  'The Access Control ID ''APT-501 '' cannot be used: it starts or ends with a space, which SALTO trims away.',
  'a trailing space is refused'
);
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'x', ' APT-501') $$,
  '23514',
  'The Access Control ID '' APT-501'' cannot be used: it starts or ends with a space, which SALTO trims away.',
  'a leading space is refused'
);
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'x', E'APT\t501') $$,
  '23514',
  E'The Access Control ID ''APT\t501'' cannot be used: it contains a control character such as a tab or a line break.',
  'a control character is refused'
);
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'x', 'APPARTEMENT-5ÈME') $$,
  '23514',
  'The Access Control ID ''APPARTEMENT-5ÈME'' cannot be used: it contains a character other than letters A-Z, digits, spaces and ASCII punctuation.',
  'a non-ASCII character is refused'
);
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'x', '123456789012345678901234567890123') $$,
  '23514',
  'The Access Control ID ''123456789012345678901234567890123'' cannot be used: it is 33 characters long; SALTO IDs hold at most 32.',
  'an Access Control ID over 32 characters is refused'
);
select throws_ok(
  $$ update facilities set access_control_facility_id = 'GYM ' where name = 'Alpha gym' $$,
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
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'A-103', 'APT-101') $$,
  '23505',
  'The Access Control ID ''APT-101'' is already used by apartment A-101 of this building.',
  'a duplicate Access Control ID in a building is refused, naming the apartment holding it'
);
select throws_ok(
  $$ update apartments set access_control_id = 'apt-101' where label = 'A-102' $$,
  '23505',
  'The Access Control ID ''apt-101'' is already used by apartment A-101 of this building.',
  'an Access Control ID differing only in case counts as a duplicate'
);
select throws_ok(
  $$ insert into facilities (building_id, name, access_control_facility_id) values (tests.building_id('Beta Court'), 'Beta pool', 'gym') $$,
  '23505',
  'The Access Control Facility ID ''gym'' is already used by the facility ''Beta gym'' of this building.',
  'a duplicate Access Control Facility ID in a building is refused, naming the facility holding it'
);
select throws_ok(
  $$ insert into apartments (building_id, label) values (tests.building_id('Alpha Towers'), 'A-101') $$,
  '23505',
  'duplicate key value violates unique constraint "apartments_label_unique_in_building"',
  'two apartments of a building cannot share a label'
);

-- Buffers.
select is(
  (select (access_buffer_before, access_buffer_after)::text from facilities where name = 'Alpha pool room'),
  '(00:00:00,00:00:00)',
  'access buffers default to zero'
);
select lives_ok(
  $$ update facilities set access_buffer_before = '10 minutes', access_buffer_after = '4 hours' where name = 'Alpha pool room' $$,
  'buffers of whole minutes up to 4 hours are accepted'
);
select throws_ok(
  $$ update facilities set access_buffer_before = '-5 minutes' where name = 'Alpha pool room' $$,
  '23514',
  'The access buffer before a booking (-00:05:00) is not valid: it is negative.',
  'a negative buffer is refused'
);
select throws_ok(
  $$ update facilities set access_buffer_after = '10' where name = 'Alpha pool room' $$,
  '23514',
  'The access buffer after a booking (00:00:10) is not valid: it is not a whole number of minutes (a bare number means seconds).',
  'a bare number (seconds) is refused with a hint at minutes'
);
select throws_ok(
  $$ update facilities set access_buffer_after = '4 hours 1 minute' where name = 'Alpha pool room' $$,
  '23514',
  'The access buffer after a booking (04:01:00) is not valid: it is longer than 4 hours.',
  'a buffer over 4 hours is refused'
);
select throws_ok(
  $$ update facilities set access_buffer_before = '1 day' where name = 'Alpha pool room' $$,
  '23514',
  'The access buffer before a booking (1 day) is not valid: write it in hours and minutes, not days or months.',
  'a buffer in days is refused'
);

-- Nothing moves to another building, whoever asks.
select throws_ok(
  $$ update apartments set building_id = tests.building_id('Beta Court') where label = 'A-101' $$,
  '23514',
  'An apartment cannot be moved to another building.',
  'an apartment cannot be moved to another building'
);
select throws_ok(
  $$ update facilities set building_id = tests.building_id('Beta Court') where name = 'Alpha pool room' $$,
  '23514',
  'A facility cannot be moved to another building.',
  'a facility cannot be moved to another building'
);

-- With triggers off (replica mode, as in a restore), the constraints themselves still refuse bad data.
set local session_replication_role = replica;
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'y', '') $$,
  '23514',
  'new row for relation "apartments" violates check constraint "apartments_access_control_id_valid"',
  'the Access Control ID check constraint holds without the trigger'
);
select throws_ok(
  $$ insert into facilities (building_id, name, access_control_facility_id) values (tests.building_id('Alpha Towers'), 'y', repeat('Z', 33)) $$,
  '23514',
  'new row for relation "facilities" violates check constraint "facilities_access_control_facility_id_valid"',
  'the Access Control Facility ID check constraint holds without the trigger'
);
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'y', 'Apt-101') $$,
  '23505',
  'duplicate key value violates unique constraint "apartments_access_control_id_unique_in_building"',
  'the case-insensitive unique index holds without the trigger'
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

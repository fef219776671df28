-- An apartment's Access Control ID can be read back from SALTO exactly as stored: 1 to 32 printable
-- ASCII characters without a space at either end, unique within a building (ignoring case) but free to
-- repeat across buildings. An apartment stays in its building.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(15);

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
select is(
  (select count(*)::int from apartments where access_control_id = 'APT-101' and building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'))),
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

-- Duplicates within a building, including ones differing only in case.
select throws_ok(
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'A-103', 'APT-101') $$,
  '23505',
  'The Access Control ID ''APT-101'' is already used by apartment A-101 of this building.',
  'a duplicate Access Control ID in a building is refused, naming the apartment holding it'
);
select throws_ok(
  $$ update apartments set access_control_id = 'apt-101' where id = tests.apartment_id('A-102') $$,
  '23505',
  'The Access Control ID ''apt-101'' is already used by apartment A-101 of this building.',
  'an Access Control ID differing only in case counts as a duplicate'
);
select throws_ok(
  $$ insert into apartments (building_id, label) values (tests.building_id('Alpha Towers'), 'A-101') $$,
  '23505',
  'duplicate key value violates unique constraint "apartments_label_unique_in_building"',
  'two apartments of a building cannot share a label'
);

-- An apartment stays in its building, whoever asks.
select throws_ok(
  $$ update apartments set building_id = tests.building_id('Beta Court') where id = tests.apartment_id('A-101') $$,
  '23514',
  'An apartment cannot be moved to another building.',
  'an apartment cannot be moved to another building'
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
  $$ insert into apartments (building_id, label, access_control_id) values (tests.building_id('Alpha Towers'), 'y', 'Apt-101') $$,
  '23505',
  'duplicate key value violates unique constraint "apartments_access_control_id_unique_in_building"',
  'the case-insensitive unique index holds without the trigger'
);
set local session_replication_role = origin;

select * from finish();
rollback;

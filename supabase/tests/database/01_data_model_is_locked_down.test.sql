-- The data model's tables exist, are protected by row-level security with nothing granted to anon,
-- explain themselves to Studio users, and index every column a policy filters on.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(24);

select tables_are(
  'public',
  array['buildings', 'building_managers', 'apartments', 'apartment_residents', 'facilities', 'bookings'],
  'public holds exactly the data contract''s tables'
);
select is_empty(
  $$ select relname from pg_class
     where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') and not relrowsecurity $$,
  'every table in public has row-level security enabled'
);

-- anon sees nothing: not a row, not even permission to ask.
select table_privs_are('public', 'buildings', 'anon', array[]::text[], 'anon has no privileges on buildings');
select table_privs_are('public', 'building_managers', 'anon', array[]::text[], 'anon has no privileges on building_managers');
select table_privs_are('public', 'apartments', 'anon', array[]::text[], 'anon has no privileges on apartments');
select table_privs_are('public', 'apartment_residents', 'anon', array[]::text[], 'anon has no privileges on apartment_residents');
select table_privs_are('public', 'facilities', 'anon', array[]::text[], 'anon has no privileges on facilities');
select table_privs_are('public', 'bookings', 'anon', array[]::text[], 'anon has no privileges on bookings');

-- Managers and residents never create or delete buildings, and membership rows are appointed by the backend.
select table_privs_are('public', 'buildings', 'authenticated', array['SELECT'], 'signed-in users may only read buildings (updates are granted per column)');
select table_privs_are('public', 'building_managers', 'authenticated', array['SELECT'], 'signed-in users may only read building_managers');

select ok(
  not has_schema_privilege('anon', 'private', 'usage'),
  'anon cannot use the private schema'
);
select is_empty(
  $$ select p.proname from pg_proc as p
     where p.pronamespace = 'private'::regnamespace
       and p.prosecdef
       and not coalesce('search_path=""' = any (p.proconfig), false) $$,
  'every security definer function in private pins an empty search_path'
);
select is_empty(
  $$ select p.proname from pg_proc as p
     where p.pronamespace = 'private'::regnamespace
       and has_function_privilege('anon', p.oid, 'execute') $$,
  'anon cannot execute any function in private'
);

select is_empty(
  $$ select c.relname from pg_class as c
     where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
       and obj_description(c.oid, 'pg_class') is null $$,
  'every table has a comment for Studio users'
);
select matches(
  col_description('public.apartments'::regclass, (select attnum from pg_attribute where attrelid = 'public.apartments'::regclass and attname = 'access_control_id')),
  '^Access Control ID: must exactly equal the User Access Level EXT ID .* changing this value moves the apartment''s live booking permissions',
  'the Access Control ID comment says what it must match in SALTO and that changing it moves live permissions'
);
select matches(
  col_description('public.facilities'::regclass, (select attnum from pg_attribute where attrelid = 'public.facilities'::regclass and attname = 'access_control_facility_id')),
  '^Access Control Facility ID: must exactly equal the Zone ID .* changing this value moves the live permissions',
  'the Access Control Facility ID comment says what it must match in SALTO and that changing it moves live permissions'
);

-- Policies filter on these columns; each is the leading column of an index.
select has_index('public', 'building_managers', 'building_managers_user_id_idx', array['user_id'], 'building_managers is indexed by user');
select has_index('public', 'building_managers', 'building_managers_pkey', array['building_id', 'user_id'], 'building_managers is indexed by building');
select has_index('public', 'apartment_residents', 'apartment_residents_user_id_idx', array['user_id'], 'apartment_residents is indexed by user');
select has_index('public', 'apartments', 'apartments_label_unique_in_building', array['building_id', 'label'], 'apartments are indexed by building');
select has_index('public', 'facilities', 'facilities_name_unique_in_building', array['building_id', 'name'], 'facilities are indexed by building');
select has_index('public', 'bookings', 'bookings_building_id_starts_at_idx', array['building_id', 'starts_at'], 'bookings are indexed by building');
select has_index('public', 'bookings', 'bookings_apartment_id_starts_at_idx', array['apartment_id', 'starts_at'], 'bookings are indexed by apartment');

select is_empty(
  $$ select tablename || ': ' || policyname from pg_policies
     where schemaname = 'public' and roles <> '{authenticated}' $$,
  'every policy applies to authenticated only'
);

select * from finish();
rollback;

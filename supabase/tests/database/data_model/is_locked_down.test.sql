-- The data model's tables exist and are protected by row-level security, with nothing granted to
-- anon, no creating or deleting of buildings by signed-in users, and every policy for signed-in users only.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(15);

select tables_are(
  'public',
  array['buildings', 'building_managers', 'apartments', 'apartment_residents', 'facilities', 'bookings', 'booking_policies'],
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
select table_privs_are('public', 'booking_policies', 'anon', array[]::text[], 'anon has no privileges on booking_policies');

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
  $$ select tablename || ': ' || policyname from pg_policies
     where schemaname = 'public' and roles <> '{authenticated}' $$,
  'every policy applies to authenticated only'
);

select * from finish();
rollback;

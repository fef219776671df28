-- The test helpers (supabase/tests/helpers.sql, loaded inside each test file's transaction) are security
-- definer functions that ignore row-level security: anon may neither use their schema nor execute any.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(2);

select ok(
  not has_schema_privilege('anon', 'tests', 'usage'),
  'anon cannot use the tests schema'
);
select is_empty(
  $$ select p.oid::regprocedure from pg_proc as p
     where p.pronamespace = 'tests'::regnamespace and has_function_privilege('anon', p.oid, 'execute') $$,
  'anon can execute none of the test helpers'
);

select * from finish();
rollback;

-- Studio shows a table's and a column's comment beside it: every table and view in public (what
-- managers read and edit) and every column of them says what it holds.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(2);

select is_empty(
  $$ select c.relname::text
     from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'v', 'p', 'm')
       and obj_description(c.oid, 'pg_class') is null
     order by 1 $$,
  'every table and view in public has a comment'
);
select is_empty(
  $$ select c.relname || '.' || a.attname
     from pg_class as c
     join pg_namespace as n on n.oid = c.relnamespace
     join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     where n.nspname = 'public' and c.relkind in ('r', 'v', 'p', 'm')
       and col_description(c.oid, a.attnum) is null
     order by 1 $$,
  'every column of every table and view in public has a comment'
);

select * from finish();
rollback;

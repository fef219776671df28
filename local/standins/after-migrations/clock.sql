/*
 * Local stack and tests only: a clock that tests and the demo can move forward.
 *
 * Applied by local/stack.ts after the migrations, every time the stack comes up (so it is written to
 * be applied again), and to the pgTAP suites' own database (local/pgtap.ts). Never part of
 * supabase/schemas or supabase/migrations, and never loaded into the scratch clusters that compare
 * them: a deployed database has no clock offset, and its integration.now() is pg_catalog.now()
 * (supabase/schemas/30_booking_changes_and_fold.sql).
 */
set client_min_messages = warning;

-- One row at most: how far the integration's clock runs ahead of real time.
create table if not exists integration.clock_offset (
  id boolean primary key default true check (id),
  shift interval not null
);
comment on table integration.clock_offset is
  'Local stack only (tests and the demo): moves the integration''s clock forward by `shift`. Never in '
  'a deployed database.';
grant select, insert, update, delete on table integration.clock_offset to service_role;
alter table integration.clock_offset enable row level security;

-- PL/pgSQL rather than SQL: a SQL function with a subquery cannot be inlined and would be planned at
-- every call; PL/pgSQL prepares it once per connection (it runs several times per booking).
create or replace function integration.now()
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  return pg_catalog.now() + coalesce((select c.shift from integration.clock_offset as c), interval '0');
end;
$$;
comment on function integration.now() is
  'Local stack only: now(), plus the test/demo clock offset (integration.clock_offset) when one is set.';
revoke execute on function integration.now() from public;
grant execute on function integration.now() to service_role;

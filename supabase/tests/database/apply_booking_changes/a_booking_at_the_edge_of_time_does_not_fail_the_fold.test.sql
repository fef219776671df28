-- A booking within a buffer of the first or last instant a timestamp holds (stored past the checks of
-- public.bookings, as data stored before them could be) gets an infinite access window, which the
-- sync fails alone: adding the facility's buffer must not fail the fold, which decides every
-- building's bookings at once.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(3);

select tests.create_two_buildings();
select integration.apply_booking_changes(null);
update public.facilities set access_buffer_after = interval '5 minutes' where id = tests.facility_id('Alpha gym');
select integration.apply_booking_changes(null);

-- Past the checks: every check constraint of public.bookings but the two the fold relies on is
-- dropped in this rolled-back transaction, and its triggers are skipped (the booking changes they
-- would record are recorded here).
do $$
declare
  check_name text;
begin
  for check_name in
    select conname from pg_catalog.pg_constraint
    where conrelid = 'public.bookings'::regclass and contype = 'c'
      and conname not in ('bookings_ends_after_start', 'bookings_status_valid')
  loop
    execute pg_catalog.format('alter table public.bookings drop constraint %I', check_name);
  end loop;
end;
$$;
set local session_replication_role = replica;
update public.bookings set ends_at = '294276-12-31 23:59:00+00' where id = tests.booking_of('A-101');
update public.bookings set starts_at = '4714-11-24 00:05:00+00 BC' where id = tests.booking_of('A-102');
insert into integration.booking_changes (building_id, apartment_id, facility_id, booking_id)
select building_id, apartment_id, facility_id, id from public.bookings
where id in (tests.booking_of('A-101'), tests.booking_of('A-102'));
set local session_replication_role = origin;

select lives_ok($$ select integration.apply_booking_changes(null) $$, 'the fold decides them');
select results_eq(
  $$ select window_start, window_end from integration.booking_access where booking_id = tests.booking_of('A-101') $$,
  $$ values ('2030-06-01 08:50 Australia/Sydney'::timestamptz, 'infinity'::timestamptz) $$,
  'a booking ending within its buffer of the last instant gets a window without end'
);
select results_eq(
  $$ select window_start from integration.booking_access where booking_id = tests.booking_of('A-102') $$,
  $$ values ('-infinity'::timestamptz) $$,
  'a booking starting within its buffer of the first instant gets a window without start'
);

select * from finish();
rollback;

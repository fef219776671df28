-- integration.apply_booking_changes folds in one transaction: a fold that fails rolls back entirely
-- and leaves the change rows for the next one.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(3);

select tests.create_two_buildings();
-- Start from a folded state: the fixture's bookings decided, nothing of A-101 pending.
select integration.apply_booking_changes(null);
delete from integration.access_level_work where building_id = tests.building_id('Alpha Towers');

-- A-101 books the gym again a week later, as the app does (service role): a double booking.
select tests.authenticate_as_service_role();
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney');
reset role;

-- A fold that fails rolls back entirely and leaves the change rows for the next one.
create function tests.fail_access_state_write() returns trigger language plpgsql as $$
begin
  raise exception 'simulated failure while writing an access state';
end;
$$;
create trigger fail_access_state_write before insert or update on integration.booking_access
  for each row execute function tests.fail_access_state_write();
select throws_ok(
  $$ select integration.apply_booking_changes(null) $$,
  'P0001', 'simulated failure while writing an access state',
  'a fold that fails raises'
);
select results_eq(
  $$ select count(*)::int from integration.booking_changes where building_id = tests.building_id('Alpha Towers') $$, $$ values (1) $$,
  'a failed fold leaves the change rows'
);
select results_eq(
  $$ select state::text from booking_access_states where apartment_id = tests.apartment_id('A-101') order by updated_at, access_starts_at $$,
  $$ values ('scheduled'), ('pending') $$,
  'a failed fold decides nothing'
);
drop trigger fail_access_state_write on integration.booking_access;

select * from finish();
rollback;

-- "Access not in place" is over when the booking's permission is written to SALTO, when the booking
-- is cancelled or deleted, or when it has finished without access; an alert raised before alerts were
-- resolved is caught up by the minute job. Managers read the resolution in access_alerts.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(6);

delete from integration.booking_changes;
select tests.create_two_buildings();
select integration.apply_booking_changes(null);

-- A pool without a Zone ID yet, booked by A-101 and A-102 within the lead time: their access fails.
insert into facilities (building_id, name)
values (tests.building_id('Alpha Towers'), 'Alpha pool');
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values
  (tests.facility_id('Alpha pool'), tests.apartment_id('A-101'), now() + interval '30 minutes', now() + interval '60 minutes'),
  (tests.facility_id('Alpha pool'), tests.apartment_id('A-102'), now() + interval '30 minutes', now() + interval '60 minutes'),
  (tests.facility_id('Alpha pool'), tests.apartment_id('A-101'), now() + interval '70 minutes', now() + interval '80 minutes');
select integration.apply_booking_changes(null);
create temporary table pool on commit drop as
  select b.id, ap.label, b.starts_at, row_number() over (order by b.starts_at, ap.label) as n
  from bookings as b join apartments as ap on ap.id = b.apartment_id
  where b.facility_id = tests.facility_id('Alpha pool');
-- Read by the manager below (access_alerts).
grant select on pool to authenticated;
select integration.check_access_in_place();
select results_eq(
  $$ select count(*)::int from integration.alerts where kind = 'access_not_in_place' and resolved_at is null
     and booking_id in (select id from pool) $$,
  $$ values (3) $$,
  'the three bookings without access are alerted and open'
);

-- The first is cancelled, the second deleted.
update bookings set status = 'cancelled' where id = (select id from pool where n = 1);
select integration.apply_booking_changes(null);
select results_eq(
  $$ select resolved_at is not null, resolution from integration.alerts
     where kind = 'access_not_in_place' and booking_id = (select id from pool where n = 1) $$,
  $$ values (true, 'The booking was cancelled.') $$,
  'a cancelled booking resolves its "access not in place"'
);
create temporary table deleted_alert on commit drop as
  select a.id from integration.alerts as a
  where a.kind = 'access_not_in_place' and a.booking_id = (select id from pool where n = 2);
delete from bookings where id = (select id from pool where n = 2);
select results_eq(
  $$ select resolved_at is not null, resolution from integration.alerts where id = (select id from deleted_alert) $$,
  $$ values (true, 'The booking was deleted.') $$,
  'a deleted booking resolves its "access not in place"'
);

-- The pool gets its Zone ID: the third booking is scheduled (still open), then written.
update facilities set access_control_facility_id = 'POOL' where id = tests.facility_id('Alpha pool');
select integration.apply_booking_changes(null);
select results_eq(
  $$ select ba.state, a.resolved_at is null from integration.alerts as a
     join integration.booking_access as ba on ba.booking_id = a.booking_id
     where a.kind = 'access_not_in_place' and a.booking_id = (select id from pool where n = 3) $$,
  $$ values ('scheduled', true) $$,
  'a booking scheduled to be written keeps its alert open until SALTO has the permission'
);
select tests.written_to_salto((select id from pool where n = 3));
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select resolved_at is not null, resolution from access_alerts
     where kind = 'access_not_in_place' and booking_id = (select id from pool where n = 3) $$,
  $$ values (true, 'The booking''s permission is written to SALTO.') $$,
  'a booking whose permission is written resolves its "access not in place"'
);
reset role;

-- A booking that finishes without access: the Beta gym loses its Zone ID, B-101 books it within the
-- lead time, and the booking ends (its failed state is left for the nightly cleanup).
update facilities set access_control_facility_id = null where id = tests.facility_id('Beta gym');
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Beta gym'), tests.apartment_id('B-101'), now() + interval '10 minutes', now() + interval '40 minutes');
select integration.apply_booking_changes(null);
select integration.check_access_in_place();
-- And an alert raised before alerts were resolved, about a booking cancelled long since.
update bookings set status = 'cancelled' where id = tests.booking_of('B-102');
select integration.apply_booking_changes(null);
insert into integration.alerts (building_id, kind, booking_id, dedupe_key)
values (tests.building_id('Beta Court'), 'access_not_in_place', tests.booking_of('B-102'), 'access_not_in_place:' || tests.booking_of('B-102'));
insert into integration.clock_offset (id, shift) values (true, interval '1 hour');
select integration.alerts_tick();
select results_eq(
  $$ select b.apartment_id = tests.apartment_id('B-101'), a.resolution from integration.alerts as a
     join bookings as b on b.id = a.booking_id
     where a.kind = 'access_not_in_place' and a.building_id = tests.building_id('Beta Court')
     order by 1 desc $$,
  $$ values (true, 'The booking ended without its permission in SALTO.'), (false, 'The booking was cancelled.') $$,
  'the minute job resolves a booking that ended without access, and catches up an alert left open'
);

select * from finish();
rollback;

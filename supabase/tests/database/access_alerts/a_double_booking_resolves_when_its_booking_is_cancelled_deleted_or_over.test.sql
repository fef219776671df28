-- A double booking is over when the waiting booking is cancelled, deleted, or has finished without
-- the permission ever being free; an alert whose problem has not ended stays open.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(5);

delete from integration.booking_changes;
select tests.create_two_buildings();
select integration.apply_booking_changes(null);

-- Three waiting bookings: A-101 and A-102 a week later, B-101 in Beta Court.
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values
  (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney'),
  (tests.facility_id('Alpha gym'), tests.apartment_id('A-102'), '2030-06-08 11:00 Australia/Sydney', '2030-06-08 12:00 Australia/Sydney'),
  (tests.facility_id('Beta gym'), tests.apartment_id('B-101'), '2030-06-08 09:00 Australia/Perth', '2030-06-08 10:00 Australia/Perth');
select integration.apply_booking_changes(null);
create temporary table waiting on commit drop as
  select b.id, ap.label from bookings as b join apartments as ap on ap.id = b.apartment_id
  where b.starts_at >= '2030-06-08 00:00 Australia/Sydney' and ap.label in ('A-101', 'A-102', 'B-101');
select results_eq(
  $$ select count(*)::int from integration.alerts where kind = 'double_booking' and resolved_at is null
     and booking_id in (select id from waiting) $$,
  $$ values (3) $$,
  'three double bookings are alerted and open'
);

-- A-101's waiting booking is cancelled.
update bookings set status = 'cancelled' where id = (select id from waiting where label = 'A-101');
select integration.apply_booking_changes(null);
select results_eq(
  $$ select resolved_at is not null, resolution from integration.alerts
     where kind = 'double_booking' and booking_id = (select id from waiting where label = 'A-101') $$,
  $$ values (true, 'The waiting booking was cancelled.') $$,
  'a cancelled waiting booking resolves its double booking'
);

-- A-102's waiting booking is deleted: the alert loses its booking and is resolved in the same update.
create temporary table deleted_alert on commit drop as
  select a.id from integration.alerts as a
  where a.kind = 'double_booking' and a.booking_id = (select id from waiting where label = 'A-102');
delete from bookings where id = (select id from waiting where label = 'A-102');
select results_eq(
  $$ select booking_id is null, resolved_at is not null, resolution from integration.alerts where id = (select id from deleted_alert) $$,
  $$ values (true, true, 'The waiting booking was deleted.') $$,
  'a deleted waiting booking resolves its double booking'
);

-- B-101's waiting booking ends, still waiting (its state is not decided again before the nightly
-- cleanup): the minute job resolves it.
select is(integration.resolve_booking_alerts_due(), 0, 'the minute job resolves nothing while the waiting booking lasts');
insert into integration.clock_offset (id, shift)
values (true, '2030-06-09 00:00 Australia/Perth'::timestamptz - now());
select integration.alerts_tick();
select results_eq(
  $$ select resolved_at is not null, resolution from integration.alerts
     where kind = 'double_booking' and booking_id = (select id from waiting where label = 'B-101') $$,
  $$ values (true, 'The waiting booking ended before the permission was free: it had no access.') $$,
  'a waiting booking that finished resolves its double booking within a minute'
);

select * from finish();
rollback;

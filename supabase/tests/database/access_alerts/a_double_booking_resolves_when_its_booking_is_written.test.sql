-- A double booking is over when the waiting booking's permission is written to SALTO: after the
-- booking holding the permission is cancelled (the permission is free), or after a manager moved the
-- permission to it from the alert email. Not before: a waiting booking merely scheduled keeps its
-- alert open. Managers read the resolution in access_alerts.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(6);

delete from integration.booking_changes;
select tests.create_two_buildings();
select integration.apply_booking_changes(null);

-- A-101 and A-102 each book the gym again a week later: two double bookings.
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values
  (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney'),
  (tests.facility_id('Alpha gym'), tests.apartment_id('A-102'), '2030-06-08 11:00 Australia/Sydney', '2030-06-08 12:00 Australia/Sydney');
select integration.apply_booking_changes(null);
create temporary table waiting on commit drop as
  select b.id, ap.label from bookings as b join apartments as ap on ap.id = b.apartment_id
  where b.starts_at >= '2030-06-08 00:00 Australia/Sydney' and ap.building_id = tests.building_id('Alpha Towers');
-- Read by the manager below (access_alerts).
grant select on waiting to authenticated;
select results_eq(
  $$ select count(*)::int from integration.alerts where kind = 'double_booking' and resolved_at is null
     and booking_id in (select id from waiting) $$,
  $$ values (2) $$,
  'both double bookings are alerted and open'
);

-- A-101's first booking is cancelled: its waiting booking gets the permission, scheduled to be written.
update bookings set status = 'cancelled' where id = tests.booking_of('A-101');
select integration.apply_booking_changes(null);
select results_eq(
  $$ select ba.state, a.resolved_at is null from integration.alerts as a
     join integration.booking_access as ba on ba.booking_id = a.booking_id
     where a.kind = 'double_booking' and a.booking_id = (select id from waiting where label = 'A-101') $$,
  $$ values ('scheduled', true) $$,
  'a waiting booking scheduled to be written keeps its alert open until SALTO has the permission'
);

select tests.written_to_salto((select id from waiting where label = 'A-101'));
select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select resolved_at is not null, resolution from access_alerts
     where kind = 'double_booking' and booking_id = (select id from waiting where label = 'A-101') $$,
  $$ values (true, 'The permission is free: the waiting booking''s permission is written to SALTO.') $$,
  'once the waiting booking''s permission is written, its double booking is resolved, saying so'
);
reset role;
select ok(
  (select dedupe_key like 'double_booking:%:resolved:%' from integration.alerts
   where kind = 'double_booking' and booking_id = (select id from waiting where label = 'A-101')),
  'its dedupe key is freed for a later recurrence'
);

-- A-102: a manager moves the permission to the waiting booking from the alert email.
select is(
  integration.act_on_alert(
    (select a.id from integration.alerts as a where a.kind = 'double_booking' and a.booking_id = (select id from waiting where label = 'A-102')),
    tests.building_id('Alpha Towers'), (select id from waiting where label = 'A-102')),
  'granted', 'the manager''s action gives the waiting booking the permission');
select tests.written_to_salto((select id from waiting where label = 'A-102'));
select results_eq(
  $$ select resolution from integration.alerts
     where kind = 'double_booking' and booking_id = (select id from waiting where label = 'A-102') $$,
  $$ values ('A manager moved the permission to the waiting booking: its permission is written to SALTO.') $$,
  'a permission moved by a manager resolves the alert once written, saying a manager moved it'
);

select * from finish();
rollback;

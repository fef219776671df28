-- An alert's dedupe key is unique among all alerts, open and resolved. Resolving an alert frees its
-- key (the alert's id is appended), whoever resolves it, so the same problem coming back after it
-- ended is a new alert: a second SALTO outage of a building, an unknown ID wrong again after a fix,
-- a booking failing again after its permission was written, a booking waiting again after it was
-- cancelled. A deleted booking's alert frees its key too, and says the booking was deleted, as the
-- minute job does for an alert whose booking is gone.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(10);

delete from integration.booking_changes;
select tests.create_two_buildings();
select integration.apply_booking_changes(null);

-- The alerts raised under the key, resolved first: whether each is open, and whether its key is the
-- raised key, with the alert's id appended once it is resolved.
create function pg_temp.alerts_of(p_key text)
returns table (open boolean, key_freed_if_resolved boolean)
language sql
as $$
  select a.resolved_at is null,
    a.dedupe_key = p_key || case when a.resolved_at is null then '' else ':resolved:' || a.id end
  from integration.alerts as a
  where a.dedupe_key = p_key or a.dedupe_key like p_key || ':resolved:%'
  order by a.resolved_at is null, a.created_at
$$;

-- SALTO outages: Alpha's SALTO cannot be reached for an hour, then writes succeed, then it fails again.
create function pg_temp.alpha_salto_fails()
returns void
language sql
as $$
  insert into integration.access_level_work (building_id, access_level_id, attempts, not_before, last_error, salto_unreachable)
  values (tests.building_id('Alpha Towers'), 'APT-101', 3, now() + interval '1 minute', 'connect ECONNREFUSED', true)
  on conflict (building_id, access_level_id) do update set attempts = excluded.attempts, not_before = excluded.not_before,
    last_error = excluded.last_error, salto_unreachable = true;
  insert into integration.salto_outages (building_id, failing_since)
  values (tests.building_id('Alpha Towers'), now() - interval '1 hour');
$$;
select pg_temp.alpha_salto_fails();
select integration.check_salto_reachable();
delete from integration.access_level_work where building_id = tests.building_id('Alpha Towers');
select integration.check_salto_reachable();
select pg_temp.alpha_salto_fails();
select is(integration.check_salto_reachable(), 1, 'a second outage of a building is alerted');
select results_eq(
  format($$ select * from pg_temp.alerts_of('salto_unreachable:%s') $$, tests.building_id('Alpha Towers')),
  $$ values (false, true), (true, true) $$,
  'the first outage''s alert is resolved, its key freed; the second''s is open'
);

-- An unknown Zone ID: the nightly check finds no "GYM" in SALTO, a manager changes the Zone ID
-- (resolve_alert), changes it back, and the nightly check finds it unknown again.
select integration.record_salto_ids_check(tests.building_id('Alpha Towers'), '{MAIN}', '{APT-101,APT-102}');
update facilities set access_control_facility_id = 'GYM-2' where id = tests.facility_id('Alpha gym');
update facilities set access_control_facility_id = 'GYM' where id = tests.facility_id('Alpha gym');
select integration.record_salto_ids_check(tests.building_id('Alpha Towers'), '{MAIN,GYM-2}', '{APT-101,APT-102}');
select results_eq(
  format($$ select * from pg_temp.alerts_of(%L) $$,
    integration.unknown_salto_id_key(tests.building_id('Alpha Towers'), 'zone', 'GYM')),
  $$ values (false, true), (true, true) $$,
  'an unknown ID fixed and then wrong again is a new alert'
);

-- "Access not in place" raised by the sync (B-102's window cannot be written), resolved when the
-- permission is written, raised again when the sync fails to write it once more.
create function pg_temp.sync_fails_to_write(p_booking_id uuid)
returns void
language sql
as $$
  select integration.record_reconciled_level(ba.building_id, ba.access_level_id, 0, '[]'::jsonb,
    jsonb_build_array(jsonb_build_object('booking_ids', jsonb_build_array(ba.booking_id), 'reason', 'No timetable fits.')),
    jsonb_build_array(jsonb_build_object('kind', 'access_not_in_place', 'booking_id', ba.booking_id,
      'dedupe_key', 'unwritable_window:' || ba.building_id || ':' || ba.booking_id)))
  from integration.booking_access as ba where ba.booking_id = p_booking_id
$$;
select pg_temp.sync_fails_to_write(tests.booking_of('B-102'));
select tests.written_to_salto(tests.booking_of('B-102'));
select pg_temp.sync_fails_to_write(tests.booking_of('B-102'));
select results_eq(
  format($$ select * from pg_temp.alerts_of('unwritable_window:%s:%s') $$,
    tests.building_id('Beta Court'), tests.booking_of('B-102')),
  $$ values (false, true), (true, true) $$,
  'a booking failing again after its permission was written is alerted again'
);

-- A double booking: A-101 books the Alpha gym again while its first booking holds the permission.
-- The waiting booking is cancelled, then confirmed again: it waits again.
insert into bookings (facility_id, apartment_id, starts_at, ends_at)
values (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-08 09:00 Australia/Sydney', '2030-06-08 10:00 Australia/Sydney');
select integration.apply_booking_changes(null);
create temporary table waiting on commit drop as
  select b.id from bookings as b
  where b.apartment_id = tests.apartment_id('A-101') and b.starts_at = '2030-06-08 09:00 Australia/Sydney';
update bookings set status = 'cancelled' where id = (select id from waiting);
select integration.apply_booking_changes(null);
update bookings set status = 'confirmed' where id = (select id from waiting);
select integration.apply_booking_changes(null);
select results_eq(
  format($$ select * from pg_temp.alerts_of('double_booking:%s') $$, (select id from waiting)),
  $$ values (false, true), (true, true) $$,
  'a booking waiting again after it was cancelled is a new double booking'
);

-- The waiting booking is deleted: its open alert is resolved, and its key freed, in the update the
-- foreign key makes.
delete from bookings where id = (select id from waiting);
select results_eq(
  $$ select a.resolution, a.dedupe_key = 'double_booking:' || w.id || ':resolved:' || a.id
     from integration.alerts as a, waiting as w
     where a.dedupe_key like 'double_booking:' || w.id || '%' and a.resolution like '%deleted%' $$,
  $$ values ('The waiting booking was deleted.', true) $$,
  'a deleted waiting booking''s double booking is resolved, its key freed'
);
select is(
  (select count(*)::int from integration.alerts as a, waiting as w
   where a.dedupe_key like 'double_booking:' || w.id || '%' and a.resolved_at is null),
  0, 'no double booking of the deleted booking is left open'
);

-- Alerts left open about bookings since deleted (raised before alerts were resolved): the minute job
-- resolves them with the same words, and frees their keys.
insert into integration.alerts (building_id, kind, dedupe_key)
values
  (tests.building_id('Beta Court'), 'double_booking', 'double_booking:gone-1'),
  (tests.building_id('Beta Court'), 'access_not_in_place', 'access_not_in_place:gone-2');
select integration.resolve_booking_alerts_due();
select results_eq(
  $$ select kind, resolution from integration.alerts where dedupe_key like '%:gone-_%' order by kind $$,
  $$ values ('access_not_in_place', 'The booking was deleted.'), ('double_booking', 'The waiting booking was deleted.') $$,
  'the minute job says a booking was deleted, in the words of the deletion trigger'
);
select results_eq(
  $$ select * from pg_temp.alerts_of('double_booking:gone-1') union all select * from pg_temp.alerts_of('access_not_in_place:gone-2') $$,
  $$ values (false, true), (false, true) $$,
  'the minute job frees the keys of the alerts it resolves'
);

-- A resolved alert stays resolved with its key: a later change to it does not append the id again.
update integration.alerts set resolution = resolution || ' ' where dedupe_key like 'double_booking:gone-1:resolved:%';
select results_eq(
  $$ select * from pg_temp.alerts_of('double_booking:gone-1') $$,
  $$ values (false, true) $$,
  'a resolved alert''s key is freed once'
);

select * from finish();
rollback;

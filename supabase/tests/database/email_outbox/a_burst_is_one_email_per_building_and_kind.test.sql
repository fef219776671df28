-- Alerts in proportion: the alerts of one building and kind that come together are one email (a
-- digest), due a few seconds later so the rest of the burst joins it; other kinds and other buildings
-- have emails of their own; an email already leased takes no more alerts, and the next one after a
-- digest waits a minute; a booking is emailed about once per kind; a kind turned off is recorded as
-- skipped, outside the digest.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(11);

select tests.create_two_buildings();

-- Twelve double bookings in Alpha Towers, raised in one transaction (as one fold batch raises them).
insert into integration.alerts (building_id, kind, details, dedupe_key)
select tests.building_id('Alpha Towers'), 'double_booking', '{}', 'test-burst:' || i
from generate_series(1, 12) as i;

select results_eq(
  $$ select count(distinct o.id)::int, count(l.alert_id)::int
     from integration.email_outbox as o join integration.email_outbox_alerts as l on l.outbox_id = o.id
     where o.building_id = tests.building_id('Alpha Towers') and o.kind = 'double_booking' $$,
  $$ values (1, 12) $$,
  'twelve double bookings of one building are one email reporting all twelve'
);
select ok(
  (select next_attempt_at between now() + interval '1 second' and now() + interval '5 seconds'
   from integration.email_outbox where building_id = tests.building_id('Alpha Towers') and kind = 'double_booking'),
  'the email is due a few seconds later, so the rest of a burst raised in batches joins it'
);
select is(
  (select recipients from integration.email_outbox where building_id = tests.building_id('Alpha Towers') and kind = 'double_booking'),
  array['manager@alpha.example', 'manager_alpha@test.example'],
  'to the building''s managers and alert addresses'
);

-- Another kind, and another building: emails of their own. The urgent kind is due at once.
insert into integration.alerts (building_id, kind, details, dedupe_key)
values (tests.building_id('Alpha Towers'), 'access_not_in_place', '{}', 'test-urgent:1'),
       (tests.building_id('Beta Court'), 'double_booking', '{}', 'test-beta:1');
select results_eq(
  $$ select b.name, o.kind, (select count(*)::int from integration.email_outbox_alerts as l where l.outbox_id = o.id)
     from integration.email_outbox as o join public.buildings as b on b.id = o.building_id
     where b.name in ('Alpha Towers', 'Beta Court') order by 1, 2 $$,
  $$ values ('Alpha Towers', 'access_not_in_place', 1), ('Alpha Towers', 'double_booking', 12), ('Beta Court', 'double_booking', 1) $$,
  'another kind and another building each have their own email'
);
select ok(
  (select next_attempt_at <= now() from integration.email_outbox
   where building_id = tests.building_id('Alpha Towers') and kind = 'access_not_in_place'),
  'an urgent kind (access not in place) is due at once'
);

-- The digest is leased (a sender has it): a later double booking starts the next email, which waits
-- a minute after the digest, so a flood that goes on is one email a minute.
update integration.email_outbox set status = 'sending', leased_until = now() + interval '2 minutes'
where building_id = tests.building_id('Alpha Towers') and kind = 'double_booking';
insert into integration.alerts (building_id, kind, details, dedupe_key)
values (tests.building_id('Alpha Towers'), 'double_booking', '{}', 'test-burst:13');
select results_eq(
  $$ select o.status, (select count(*)::int from integration.email_outbox_alerts as l where l.outbox_id = o.id)
     from integration.email_outbox as o
     where o.building_id = tests.building_id('Alpha Towers') and o.kind = 'double_booking' order by o.created_at, o.status $$,
  $$ values ('pending', 1), ('sending', 12) $$,
  'an email being sent takes no more alerts: the next alert starts a new one'
);
select ok(
  (select o.next_attempt_at >= now() + interval '1 minute' from integration.email_outbox as o
   where o.building_id = tests.building_id('Alpha Towers') and o.kind = 'double_booking' and o.status = 'pending'),
  'the email after a digest of the same building and kind waits a minute'
);

-- An email that was tried once (its rendered text is fixed for the retries) takes no more alerts.
update integration.email_outbox set attempts = 1, last_error = 'HTTP 500'
where building_id = tests.building_id('Beta Court') and kind = 'double_booking';
insert into integration.alerts (building_id, kind, details, dedupe_key)
values (tests.building_id('Beta Court'), 'double_booking', '{}', 'test-beta:2');
select is(
  (select count(*)::int from integration.email_outbox where building_id = tests.building_id('Beta Court') and kind = 'double_booking'),
  2,
  'an email already tried takes no more alerts'
);

-- A booking is emailed about once per kind, whichever check raised the alert.
insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
values (tests.building_id('Beta Court'), 'access_not_in_place', tests.booking_of('B-101'), '{}', 'test-once:1'),
       (tests.building_id('Beta Court'), 'access_not_in_place', tests.booking_of('B-101'), '{}', 'test-once:2');
select results_eq(
  $$ select o.status, o.last_error like 'Managers were already emailed about this booking%'
     from integration.email_outbox_alerts as l join integration.email_outbox as o on o.id = l.outbox_id
     join integration.alerts as a on a.id = l.alert_id
     where a.dedupe_key in ('test-once:1', 'test-once:2') order by a.dedupe_key $$,
  $$ values ('pending', null::boolean), ('skipped', true) $$,
  'the second alert about the same booking and kind is recorded as skipped, with the reason'
);

-- A kind turned off: each alert is recorded as skipped in a row of its own, outside any digest.
update integration.email_settings set enabled_kinds = array['access_not_in_place', 'salto_unreachable']
where building_id = tests.building_id('Alpha Towers');
insert into integration.alerts (building_id, kind, details, dedupe_key)
values (tests.building_id('Alpha Towers'), 'double_booking', '{}', 'test-off:1'),
       (tests.building_id('Alpha Towers'), 'double_booking', '{}', 'test-off:2');
select results_eq(
  $$ select o.status, l.skipped, o.last_error like '%turned off%'
     from integration.email_outbox_alerts as l join integration.email_outbox as o on o.id = l.outbox_id
     join integration.alerts as a on a.id = l.alert_id
     where a.dedupe_key in ('test-off:1', 'test-off:2') $$,
  $$ values ('skipped', true, true), ('skipped', true, true) $$,
  'alerts of a kind turned off are recorded as skipped, with the reason'
);
select is(
  (select count(*)::int from integration.email_outbox_alerts as l
   join integration.alerts as a on a.id = l.alert_id
   where a.building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'))),
  (select count(*)::int from integration.alerts
   where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'))),
  'every alert is reported by exactly one outbox row'
);

select * from finish();
rollback;

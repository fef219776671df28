/*
 * Alerts that come from time passing rather than from a change: a booking about to start without its
 * permission in SALTO ("access not in place"), and SALTO failing for longer than a building accepts
 * ("salto_unreachable"). A minute job raises them and wakes send-alerts while emails are due.
 *
 * Booking times are read on integration.now() (the clock tests and demos can move); outage and
 * outbox times on real time.
 */

-- Buildings whose SALTO writes are failing, since when this job first saw them fail. A row exists
-- while the building has work in backoff (integration.access_level_work.attempts > 0) and goes when
-- none is left; the next failure starts a new outage (and a new alert).
create table integration.salto_outages (
  building_id uuid primary key references public.buildings (id) on delete cascade,
  failing_since timestamptz not null,
  alert_id uuid references integration.alerts (id) on delete set null
);
alter table integration.salto_outages enable row level security;
comment on table integration.salto_outages is
  'Ongoing failures to write to a building''s SALTO server, since when, and the salto_unreachable alert raised for it.';

-- Raises "access not in place" for every confirmed booking that starts within its building's lead
-- time (or has started and not ended) and whose permission is not in SALTO: failed (with the reason
-- recorded), or still not written five minutes after it should have been (scheduled and not
-- confirmed by SALTO, or waiting although its holder has finished). The grace keeps a booking made
-- a minute before it starts, which the sync writes within seconds, from raising a false alarm.
-- A booking already reported with this kind (by this check or the sync) is not reported again.
create function integration.check_access_in_place()
returns integer
language sql
security definer
set search_path = ''
as $$
  with raised as (
    insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
    select b.building_id, 'access_not_in_place', b.id,
      pg_catalog.jsonb_build_object(
        'apartment_label', a.label,
        'facility_name', f.name,
        'access_level_id', a.access_control_id,
        'zone_id', f.access_control_facility_id,
        'booking', pg_catalog.jsonb_build_object('id', b.id, 'starts_at', b.starts_at, 'ends_at', b.ends_at),
        'state', ba.state,
        'reason', ba.reason,
        'lead_time_minutes', (extract(epoch from s.access_lead_time) / 60)::integer
      ),
      'access_not_in_place:' || b.id
    from public.bookings as b
    join integration.booking_access as ba on ba.booking_id = b.id
    join integration.email_settings as s on s.building_id = b.building_id
    join public.apartments as a on a.id = b.apartment_id
    join public.facilities as f on f.id = b.facility_id
    where b.status = 'confirmed'
      and b.starts_at <= integration.now() + s.access_lead_time
      and b.ends_at > integration.now()
      and (
        ba.state = 'failed'
        or (ba.state = 'scheduled' and ba.updated_at < pg_catalog.now() - interval '5 minutes')
        or (ba.state = 'waiting' and ba.write_at < integration.now() - interval '5 minutes')
      )
      and not exists (
        select from integration.alerts as earlier
        where earlier.booking_id = b.id and earlier.kind = 'access_not_in_place')
    on conflict (dedupe_key) do nothing
    returning 1
  )
  select pg_catalog.count(*)::integer from raised
$$;
comment on function integration.check_access_in_place() is
  'Raises access_not_in_place alerts for bookings starting within the lead time whose permission is not in SALTO; returns how many.';

-- Tracks outages and raises "SALTO unreachable" once per outage, when it has lasted the building's
-- unreachable_after. Failing means: SALTO work of the building in backoff after failed attempts.
create function integration.check_salto_reachable()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  outage record;
  new_alert uuid;
  raised integer := 0;
begin
  delete from integration.salto_outages as o
  where not exists (
    select from integration.access_level_work as w where w.building_id = o.building_id and w.attempts > 0);

  insert into integration.salto_outages (building_id, failing_since)
  select distinct w.building_id, integration.now()
  from integration.access_level_work as w
  where w.attempts > 0
  on conflict (building_id) do nothing;

  for outage in
    select o.building_id, o.failing_since, s.unreachable_after,
      pg_catalog.format('%s://%s:%s', srv.transport, srv.host, srv.port) as server,
      (select pg_catalog.count(*) from integration.access_level_work as w
        where w.building_id = o.building_id and w.attempts > 0) as pending,
      (select w.last_error from integration.access_level_work as w
        where w.building_id = o.building_id and w.attempts > 0 order by w.requested_at desc limit 1) as last_error
    from integration.salto_outages as o
    join integration.email_settings as s on s.building_id = o.building_id
    left join integration.salto_servers as srv on srv.building_id = o.building_id
    where o.alert_id is null and o.failing_since <= integration.now() - s.unreachable_after
  loop
    insert into integration.alerts (building_id, kind, details, dedupe_key)
    values (outage.building_id, 'salto_unreachable',
      pg_catalog.jsonb_build_object(
        'failing_since', outage.failing_since,
        'threshold_minutes', pg_catalog.ceil(extract(epoch from outage.unreachable_after) / 60)::integer,
        'server', coalesce(outage.server, 'not configured'),
        'pending_access_levels', outage.pending,
        'last_error', outage.last_error),
      pg_catalog.format('salto_unreachable:%s:%s', outage.building_id, extract(epoch from outage.failing_since)))
    on conflict (dedupe_key) do nothing
    returning id into new_alert;
    update integration.salto_outages as o set alert_id = new_alert where o.building_id = outage.building_id;
    if new_alert is not null then
      raised := raised + 1;
    end if;
  end loop;
  return raised;
end;
$$;
comment on function integration.check_salto_reachable() is
  'Tracks SALTO outages per building and raises one salto_unreachable alert per outage once it has lasted unreachable_after; returns how many.';

-- Every minute (pg_cron): the two checks, then a wake-up for send-alerts while an email is due
-- (including retries in backoff and emails held back by quiet hours whose time has come).
create function integration.alerts_tick()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform integration.check_access_in_place();
  perform integration.check_salto_reachable();
  if exists (
    select from integration.email_outbox as o
    where (o.status = 'pending' and o.next_attempt_at <= pg_catalog.now())
      or (o.status = 'sending' and o.locked_until < pg_catalog.now())
  ) then
    perform integration.wake_send_alerts();
  end if;
end;
$$;
comment on function integration.alerts_tick() is
  'Every minute: raises access_not_in_place and salto_unreachable alerts, and wakes send-alerts while an alert email is due.';

select cron.schedule('send-alerts-every-minute', '* * * * *', 'select integration.alerts_tick()');

revoke execute on function
  integration.check_access_in_place(),
  integration.check_salto_reachable(),
  integration.alerts_tick()
  from public;
grant execute on function
  integration.check_access_in_place(),
  integration.check_salto_reachable(),
  integration.alerts_tick()
  to service_role;
grant select, insert, update, delete on integration.salto_outages to service_role;

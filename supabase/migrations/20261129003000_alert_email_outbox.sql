/*
 * Alert emails: per-building email settings, and the durable email outbox fed by integration.alerts.
 *
 * Every alert row gets exactly one outbox row, in the transaction that raised the alert (an insert
 * trigger), so an alert is never lost between being raised and being emailed. The send-alerts edge
 * function claims due rows, renders them with React Email, and sends them through Resend with the
 * row's idempotency key; the outbox row records every attempt's outcome. As for the sync, the HTTP
 * wake-up (pg_net, after commit) is only a nudge: the minute job (20261129003100) wakes the function
 * too while anything is due.
 *
 * One email per alert, to all of the building's recipients at once (Resend takes up to 50 addresses;
 * a building has at most 20 alert_emails plus its managers): one idempotency key per alert, as Resend
 * deduplicates per request.
 */

/*
 * Email settings per building
 */

-- Which alert kinds are emailed, how early a booking without access is reported, how long SALTO may
-- fail before managers hear of it, and the quiet hours. One row per building, created with it, so
-- managers only ever update (through public.alert_email_settings).
--
-- Quiet hours hold back what can wait until morning: double bookings (the product resolves them on
-- its own) and configuration problems. "Access not in place" and "SALTO unreachable" mean key cards
-- may fail now, so they are sent at any hour.
create table integration.email_settings (
  building_id uuid primary key references public.buildings (id) on delete cascade,
  enabled_kinds text[] not null default array['double_booking', 'access_not_in_place', 'unknown_salto_id', 'salto_unreachable'],
  access_lead_time interval not null default interval '2 hours',
  unreachable_after interval not null default interval '15 minutes',
  quiet_hours_start time,
  quiet_hours_end time,
  updated_at timestamptz not null default now(),
  constraint email_settings_kinds_known check (
    enabled_kinds <@ array['double_booking', 'access_not_in_place', 'unknown_salto_id', 'salto_unreachable']),
  constraint email_settings_lead_time_range check (access_lead_time between interval '1 minute' and interval '7 days'),
  constraint email_settings_unreachable_after_range check (unreachable_after between interval '1 second' and interval '7 days'),
  constraint email_settings_quiet_hours_pair check (
    (quiet_hours_start is null and quiet_hours_end is null)
    or (quiet_hours_start is not null and quiet_hours_end is not null and quiet_hours_start <> quiet_hours_end))
);
alter table integration.email_settings enable row level security;
comment on table integration.email_settings is
  'Alert email settings of each building: kinds emailed, lead time for "access not in place", how long SALTO may fail before "SALTO unreachable", quiet hours.';
comment on column integration.email_settings.enabled_kinds is
  'Alert kinds emailed: any of double_booking, access_not_in_place, unknown_salto_id, salto_unreachable. Alerts of other kinds are still recorded, not emailed.';
comment on column integration.email_settings.access_lead_time is
  'How long before a booking starts its missing SALTO permission is reported ("access not in place").';
comment on column integration.email_settings.unreachable_after is
  'How long writes to SALTO may keep failing before managers are told SALTO is unreachable.';
comment on column integration.email_settings.quiet_hours_start is
  'Building-local time from which double-booking and configuration emails are held back until quiet_hours_end (may wrap midnight, e.g. 22:00-07:00). Urgent alerts are always sent.';
comment on column integration.email_settings.quiet_hours_end is
  'Building-local time at which held-back emails are sent.';

create trigger set_updated_at
  before update on integration.email_settings
  for each row execute function private.set_updated_at();

insert into integration.email_settings (building_id) select b.id from public.buildings as b on conflict do nothing;

-- Every building has its settings row from the start (defaults), so settings are only ever updated.
create function integration.create_email_settings()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into integration.email_settings (building_id) values (new.id) on conflict do nothing;
  return null;
end;
$$;
comment on function integration.create_email_settings() is
  'Trigger: gives a new building its alert email settings (the defaults).';

create trigger create_email_settings
  after insert on public.buildings
  for each row execute function integration.create_email_settings();

-- Managers read and change their buildings' settings through the API (the view below); nobody else.
grant select, update (enabled_kinds, access_lead_time, unreachable_after, quiet_hours_start, quiet_hours_end)
  on integration.email_settings to authenticated;

create policy "Managers can read alert email settings of their buildings"
  on integration.email_settings for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can update alert email settings of their buildings"
  on integration.email_settings for update to authenticated
  using (building_id = any (array(select private.managed_building_ids())))
  with check (building_id = any (array(select private.managed_building_ids())));

create view public.alert_email_settings
with (security_invoker = true)
as
  select s.building_id, s.enabled_kinds, s.access_lead_time, s.unreachable_after, s.quiet_hours_start,
    s.quiet_hours_end, s.updated_at
  from integration.email_settings as s;
comment on view public.alert_email_settings is
  'Alert email settings of the buildings you manage: which alert kinds are emailed, the lead time for "access not in place", how long SALTO may fail before "SALTO unreachable", and quiet hours (building-local) during which non-urgent emails wait.';
revoke all on public.alert_email_settings from anon, authenticated;
grant select, update (enabled_kinds, access_lead_time, unreachable_after, quiet_hours_start, quiet_hours_end)
  on public.alert_email_settings to authenticated;
grant select, update on public.alert_email_settings to service_role;

/*
 * The outbox
 */

create table integration.email_outbox (
  id uuid primary key default gen_random_uuid(),
  alert_id uuid not null unique references integration.alerts (id) on delete cascade,
  building_id uuid not null references public.buildings (id) on delete cascade,
  kind text not null,
  booking_id uuid,
  -- Frozen when the row is created, so every attempt sends the same request (Resend's idempotency
  -- compares payloads: a changed recipient list under the same key would be refused).
  recipients text[] not null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A claimed row ('sending') whose sender died is due again after this.
  locked_until timestamptz,
  last_error text,
  idempotency_key text not null unique check (pg_catalog.length(idempotency_key) between 1 and 256),
  resend_id text,
  -- The rendered email, stored by the first attempt and reused by every retry (byte-identical
  -- requests under one idempotency key), and kept to show what was sent.
  subject text,
  html text,
  text_body text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  updated_at timestamptz not null default now()
);
alter table integration.email_outbox enable row level security;
create index email_outbox_due_idx on integration.email_outbox (next_attempt_at) where status in ('pending', 'sending');
create index email_outbox_building_id_idx on integration.email_outbox (building_id);
-- Alerts of one kind about one booking are emailed once, whichever check raised them.
create unique index email_outbox_one_per_kind_and_booking on integration.email_outbox (kind, booking_id)
  where booking_id is not null and status <> 'skipped';
comment on table integration.email_outbox is
  'Durable outbox of alert emails: one row per alert (pending, sending, sent, failed with the reason, or skipped with the reason), with its Resend idempotency key and the rendered email.';
comment on column integration.email_outbox.idempotency_key is
  'Resend Idempotency-Key of the alert''s email: every retry uses it, so Resend never delivers the email twice.';

create trigger set_updated_at
  before update on integration.email_outbox
  for each row execute function private.set_updated_at();

/*
 * Who, when
 */

-- The building's managers (their Supabase Auth email) and its configured alert addresses, once each,
-- sorted so the same people always make the same request.
create function integration.alert_recipients(p_building_id uuid)
returns text[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(pg_catalog.array_agg(distinct r.address order by r.address), '{}')
  from (
    select pg_catalog.lower(e.address) as address
    from public.buildings as b, pg_catalog.unnest(b.alert_emails) as e (address)
    where b.id = p_building_id
    union
    select pg_catalog.lower(u.email)
    from public.building_managers as m
    join auth.users as u on u.id = m.user_id
    where m.building_id = p_building_id and u.email is not null and u.email <> ''
  ) as r
$$;
comment on function integration.alert_recipients(uuid) is
  'Alert email recipients of a building: its managers'' email addresses and its alert_emails, lower-cased, once each, sorted.';

-- When the building's quiet hours end, if p_at falls within them (building-local, may wrap midnight);
-- null outside quiet hours or when none are set.
create function integration.quiet_hours_end(p_building_id uuid, p_at timestamptz)
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
  with local as (
    select s.quiet_hours_start as qs, s.quiet_hours_end as qe, b.timezone as tz,
      (p_at at time zone b.timezone) as at_local
    from integration.email_settings as s
    join public.buildings as b on b.id = s.building_id
    where s.building_id = p_building_id and s.quiet_hours_start is not null
  )
  select case
    when l.qs < l.qe and l.at_local::time >= l.qs and l.at_local::time < l.qe
      then (l.at_local::date + l.qe) at time zone l.tz
    when l.qs > l.qe and l.at_local::time >= l.qs
      then ((l.at_local::date + 1) + l.qe) at time zone l.tz
    when l.qs > l.qe and l.at_local::time < l.qe
      then (l.at_local::date + l.qe) at time zone l.tz
  end
  from local as l
$$;
comment on function integration.quiet_hours_end(uuid, timestamptz) is
  'End of the building''s quiet hours if the instant falls within them, else null.';

-- Wakes the send-alerts edge function, at most once per transaction, exactly like wake_sync: Vault
-- secrets `project_url` and `functions_secret`; without them the minute job is the only wake-up.
create function integration.wake_send_alerts()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  functions_secret text;
begin
  if pg_catalog.current_setting('integration.send_alerts_woken', true) = 'yes' then
    return;
  end if;
  perform pg_catalog.set_config('integration.send_alerts_woken', 'yes', true);

  select s.decrypted_secret into project_url from vault.decrypted_secrets as s where s.name = 'project_url';
  select s.decrypted_secret into functions_secret from vault.decrypted_secrets as s where s.name = 'functions_secret';
  if project_url is null or functions_secret is null then
    return;
  end if;

  perform net.http_post(
    url => project_url || '/functions/v1/send-alerts',
    body => '{"reason": "alert"}'::jsonb,
    headers => pg_catalog.jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' || functions_secret),
    timeout_milliseconds => 5000
  );
end;
$$;
comment on function integration.wake_send_alerts() is
  'Asks pg_net to call the send-alerts function after commit (once per transaction). A wake-up only: the outbox is the record of work.';

/*
 * Alerts feed the outbox
 */

-- Runs in the transaction that raised the alert. Decides, and records with the reason, whether the
-- alert is emailed: not when its kind is turned off, not again for a booking already emailed about
-- with this kind, and it cannot be when the building has nobody to send it to (recorded as failed,
-- so it shows). Non-urgent kinds raised during quiet hours wait for their end.
create function integration.enqueue_alert_email()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  enabled text[];
  earlier_alert uuid;
  to_addresses text[];
  hold_until timestamptz;
begin
  select s.enabled_kinds into enabled from integration.email_settings as s where s.building_id = new.building_id;
  if enabled is not null and not (new.kind = any (enabled)) then
    insert into integration.email_outbox (alert_id, building_id, kind, booking_id, recipients, status, last_error, idempotency_key)
    values (new.id, new.building_id, new.kind, new.booking_id, '{}', 'skipped',
      'Emails of this kind are turned off in the building''s alert email settings.', 'alert-email/' || new.id);
    return null;
  end if;

  if new.booking_id is not null then
    select o.alert_id into earlier_alert from integration.email_outbox as o
    where o.kind = new.kind and o.booking_id = new.booking_id and o.status <> 'skipped'
    limit 1;
    if earlier_alert is not null then
      insert into integration.email_outbox (alert_id, building_id, kind, booking_id, recipients, status, last_error, idempotency_key)
      values (new.id, new.building_id, new.kind, new.booking_id, '{}', 'skipped',
        pg_catalog.format('Managers were already emailed about this booking with this kind of alert (alert %s).', earlier_alert),
        'alert-email/' || new.id);
      return null;
    end if;
  end if;

  to_addresses := integration.alert_recipients(new.building_id);
  if pg_catalog.cardinality(to_addresses) = 0 then
    insert into integration.email_outbox (alert_id, building_id, kind, booking_id, recipients, status, last_error, idempotency_key)
    values (new.id, new.building_id, new.kind, new.booking_id, '{}', 'failed',
      'Nobody to send it to: the building has no manager with an email address and no alert_emails.', 'alert-email/' || new.id);
    return null;
  end if;

  if new.kind in ('double_booking', 'unknown_salto_id') then
    hold_until := integration.quiet_hours_end(new.building_id, pg_catalog.now());
  end if;

  insert into integration.email_outbox (alert_id, building_id, kind, booking_id, recipients, next_attempt_at, idempotency_key)
  values (new.id, new.building_id, new.kind, new.booking_id, to_addresses, coalesce(hold_until, pg_catalog.now()),
    'alert-email/' || new.id)
  -- A concurrent transaction emailing the same booking and kind won the race: its email stands.
  on conflict do nothing;

  if hold_until is null then
    perform integration.wake_send_alerts();
  end if;
  return null;
end;
$$;
comment on function integration.enqueue_alert_email() is
  'Trigger: puts a new alert into the email outbox (or records why it is not emailed) and wakes send-alerts.';

create trigger enqueue_alert_email
  after insert on integration.alerts
  for each row execute function integration.enqueue_alert_email();

/*
 * The send function's side
 */

-- Claims up to p_limit due emails: pending ones whose time has come, and claimed ones whose sender
-- has not reported within its lease (it died: the retry reuses the idempotency key, so nothing is
-- sent twice). Concurrent senders never get the same row.
create function integration.claim_alert_emails(p_limit integer, p_lease interval)
returns setof integration.email_outbox
language sql
security definer
set search_path = ''
as $$
  update integration.email_outbox as o
  set status = 'sending', locked_until = pg_catalog.clock_timestamp() + p_lease
  where o.id in (
    select c.id from integration.email_outbox as c
    where (c.status = 'pending' and c.next_attempt_at <= pg_catalog.clock_timestamp())
      or (c.status = 'sending' and c.locked_until < pg_catalog.clock_timestamp())
    order by c.next_attempt_at, c.created_at
    limit p_limit
    for update skip locked
  )
  returning o.*
$$;
comment on function integration.claim_alert_emails(integer, interval) is
  'Claims due alert emails for one sender (status sending, leased); a sender that dies loses them when the lease ends.';

-- Milliseconds until the next email is due (0 when one is due now), null when none is waiting.
create function integration.next_alert_email_due_in()
returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select case when d.due_at is not null
    then greatest(0, (extract(epoch from d.due_at - pg_catalog.clock_timestamp()) * 1000)::bigint)
  end
  from (
    select pg_catalog.min(case when o.status = 'pending' then o.next_attempt_at else o.locked_until end) as due_at
    from integration.email_outbox as o
    where o.status in ('pending', 'sending')
  ) as d
$$;
comment on function integration.next_alert_email_due_in() is
  'How long until the next alert email is due, in milliseconds (0: now; null: nothing waiting).';

revoke execute on function
  integration.create_email_settings(),
  integration.alert_recipients(uuid),
  integration.quiet_hours_end(uuid, timestamptz),
  integration.wake_send_alerts(),
  integration.enqueue_alert_email(),
  integration.claim_alert_emails(integer, interval),
  integration.next_alert_email_due_in()
  from public;
grant execute on function
  integration.alert_recipients(uuid),
  integration.quiet_hours_end(uuid, timestamptz),
  integration.wake_send_alerts(),
  integration.claim_alert_emails(integer, interval),
  integration.next_alert_email_due_in()
  to service_role;
grant select, insert, update, delete on integration.email_settings, integration.email_outbox to service_role;

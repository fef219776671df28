/*
 * Alert emails: per-building email settings, and the durable email outbox fed by integration.alerts.
 *
 * Every alert is recorded in the outbox in the transaction that raised it (an insert trigger), so an
 * alert is never lost between being raised and being emailed. Alerts are emailed in proportion: the
 * alerts of one building and kind that come together become one email, a digest with their count and
 * their list (see "Alerts feed the outbox"). The send-alerts edge function leases due emails (urgent
 * kinds first, the buildings in turn), renders them with React Email, and sends them through Resend with
 * the row's idempotency key; the outbox row records every attempt's outcome. As for the sync, the HTTP
 * wake-up (pg_net, after commit) is only a nudge: the minute job (integration.alerts_tick) wakes the function
 * too while anything is due.
 *
 * Each email goes to all of the building's recipients at once (Resend takes up to 50 addresses; a
 * building has at most 20 alert_emails plus its managers): one idempotency key per outbox row, as
 * Resend deduplicates per request.
 */
/*
 * Email settings per building
 */
-- Which alert kinds are emailed, how early a booking without access is reported, how long SALTO may
-- fail before managers hear of it, the quiet hours, and who besides the managers receives the emails
-- (alert_emails: kept here, not on public.buildings, because residents read their building and must
-- not read these addresses). One row per building, created with it, so managers only ever update
-- (through public.alert_email_settings).
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
  alert_emails text[] not null default '{}',
  constraint email_settings_kinds_known check (
    enabled_kinds <@ array['double_booking', 'access_not_in_place', 'unknown_salto_id', 'salto_unreachable']),
  constraint email_settings_lead_time_range check (access_lead_time between interval '1 minute' and interval '7 days'),
  constraint email_settings_unreachable_after_range check (unreachable_after between interval '1 second' and interval '7 days'),
  constraint email_settings_quiet_hours_pair check (
    (quiet_hours_start is null and quiet_hours_end is null)
    or (quiet_hours_start is not null and quiet_hours_end is not null and quiet_hours_start <> quiet_hours_end)),
  constraint email_settings_alert_emails_valid check (private.alert_emails_problem(alert_emails) is null)
);
comment on table integration.email_settings is
  'Alert email settings of each building: kinds emailed, lead time for "access not in place", how '
  'long SALTO may fail before "SALTO unreachable", quiet hours.';
comment on column integration.email_settings.enabled_kinds is
  'Alert kinds emailed: any of double_booking, access_not_in_place, unknown_salto_id, '
  'salto_unreachable. Alerts of other kinds are still recorded, not emailed.';
comment on column integration.email_settings.access_lead_time is
  'How long before a booking starts its missing SALTO permission is reported ("access not in place").';
comment on column integration.email_settings.unreachable_after is
  'How long writes to SALTO may keep failing before managers are told SALTO is unreachable.';
comment on column integration.email_settings.quiet_hours_start is
  'Building-local time from which double-booking and configuration emails are held back until '
  'quiet_hours_end (may wrap midnight, e.g. 22:00-07:00). Urgent alerts are always sent.';
comment on column integration.email_settings.quiet_hours_end is
  'Building-local time at which held-back emails are sent.';
comment on column integration.email_settings.alert_emails is
  'Who receives the building''s alert emails besides its managers: up to 20 bare addresses such as '
  'desk@example.com (no names, quotes, angle brackets, commas or spaces), no repeats. Managers only.';
grant select on table integration.email_settings to authenticated;
grant select, insert, update, delete on table integration.email_settings to service_role;
grant update (
  enabled_kinds, access_lead_time, unreachable_after, quiet_hours_start, quiet_hours_end, alert_emails
) on table integration.email_settings to authenticated;
alter table integration.email_settings enable row level security;
create policy "Managers can read alert email settings of their buildings"
  on integration.email_settings for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));
create policy "Managers can update alert email settings of their buildings"
  on integration.email_settings for update to authenticated
  using (building_id = any (array(select private.managed_building_ids())))
  with check (building_id = any (array(select private.managed_building_ids())));
create trigger set_updated_at
  before update on integration.email_settings
  for each row execute function private.set_updated_at();

-- Explains, for people, an alert email list its check constraint would reject (Studio, the portal).
create function integration.email_settings_check_row()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  problem text := private.alert_emails_problem(new.alert_emails);
  known_kinds constant text[] := array['double_booking', 'access_not_in_place', 'unknown_salto_id', 'salto_unreachable'];
  unknown_kind text;
  where_to constant text := ' (Studio: table public.alert_email_settings, column %s)';
begin
  select k into unknown_kind from pg_catalog.unnest(new.enabled_kinds) as k
  where k is null or not (k = any (known_kinds)) limit 1;
  if new.enabled_kinds is not null and (unknown_kind is not null or array_position(new.enabled_kinds, null) is not null) then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('%s is not an alert kind.', coalesce(pg_catalog.quote_literal(unknown_kind), 'An empty entry')),
      hint = 'List any of double_booking, access_not_in_place, unknown_salto_id and salto_unreachable, '
        'e.g. {double_booking,salto_unreachable}' || pg_catalog.format(where_to, 'enabled_kinds') || '.',
      schema = 'integration', table = 'email_settings', column = 'enabled_kinds',
      constraint = 'email_settings_kinds_known';
  end if;
  if new.access_lead_time not between interval '1 minute' and interval '7 days' then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The lead time for "access not in place" must be from 1 minute to 7 days, not %s.', new.access_lead_time),
      hint = 'Write it as hours and minutes, e.g. 02:00:00 for two hours' || pg_catalog.format(where_to, 'access_lead_time') || '.',
      schema = 'integration', table = 'email_settings', column = 'access_lead_time',
      constraint = 'email_settings_lead_time_range';
  end if;
  if new.unreachable_after not between interval '1 second' and interval '7 days' then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('How long SALTO may fail before "SALTO unreachable" must be from 1 second to 7 days, not %s.', new.unreachable_after),
      hint = 'Write it as hours and minutes, e.g. 00:15:00 for fifteen minutes' || pg_catalog.format(where_to, 'unreachable_after') || '.',
      schema = 'integration', table = 'email_settings', column = 'unreachable_after',
      constraint = 'email_settings_unreachable_after_range';
  end if;
  if (new.quiet_hours_start is null) <> (new.quiet_hours_end is null) or new.quiet_hours_start = new.quiet_hours_end then
    raise exception using
      errcode = 'check_violation',
      message = 'Quiet hours need both a start and a different end, or neither.',
      hint = 'Set quiet_hours_start and quiet_hours_end together, e.g. 22:00 and 07:00, or clear both'
        || pg_catalog.format(where_to, 'quiet_hours_start and quiet_hours_end') || '.',
      schema = 'integration', table = 'email_settings', column = 'quiet_hours_start',
      constraint = 'email_settings_quiet_hours_pair';
  end if;
  if problem is not null then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('The alert email list is not valid: %s.', problem),
      hint = 'List bare addresses such as manager@example.com, one per entry: no names, quotes, angle '
        'brackets, commas, semicolons or spaces' || pg_catalog.format(where_to, 'alert_emails') || '.',
      schema = 'integration', table = 'email_settings', column = 'alert_emails',
      constraint = 'email_settings_alert_emails_valid';
  end if;
  return new;
end;
$$;
comment on function integration.email_settings_check_row() is
  'Trigger: explains, for people, alert email settings that a check constraint would reject, saying '
  'where to fix them (the Studio table and column).';
revoke execute on function integration.email_settings_check_row() from public;
create trigger check_row
  before insert or update on integration.email_settings
  for each row execute function integration.email_settings_check_row();

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
revoke execute on function integration.create_email_settings() from public;
create trigger create_email_settings
  after insert on public.buildings
  for each row execute function integration.create_email_settings();

/*
 * The outbox
 */
-- One row per email: one alert, or a digest of a building's alerts of one kind (email_outbox_alerts
-- says which alerts it reports).
create table integration.email_outbox (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null references public.buildings (id) on delete cascade,
  kind text not null,
  -- Frozen when the row is created, so every attempt sends the same request (Resend's idempotency
  -- compares payloads: a changed recipient list under the same key would be refused).
  recipients text[] not null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A leased row ('sending') whose sender died is due again after this.
  leased_until timestamptz,
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
comment on table integration.email_outbox is
  'Durable outbox of alert emails: one row per email, reporting one alert or a digest of a '
  'building''s alerts of one kind (email_outbox_alerts): pending, sending, sent, failed with the '
  'reason, or skipped with the reason; with its Resend idempotency key and the rendered email.';
comment on column integration.email_outbox.idempotency_key is
  'Resend Idempotency-Key of the email: every retry uses it, so Resend never delivers the email twice.';
grant select, insert, update, delete on table integration.email_outbox to service_role;
alter table integration.email_outbox enable row level security;
create index email_outbox_due_idx on integration.email_outbox (next_attempt_at) where status in ('pending', 'sending');
-- The emails sent in the last minute, whose buildings wait their turn (integration.lease_alert_emails).
create index email_outbox_sent_at_idx on integration.email_outbox (sent_at) where status = 'sent';
create index email_outbox_building_id_kind_created_at_idx on integration.email_outbox (building_id, kind, created_at);
-- The email of a building and kind that still takes alerts (integration.enqueue_alert_email).
create index email_outbox_gathering_idx on integration.email_outbox (building_id, kind)
  where status = 'pending' and attempts = 0;
create trigger set_updated_at
  before update on integration.email_outbox
  for each row execute function private.set_updated_at();

-- Which email reports each alert. Every alert has exactly one row: the outbox row that emails it (a
-- digest reports many alerts), or its own skipped or failed row saying why it is not emailed.
create table integration.email_outbox_alerts (
  alert_id uuid primary key references integration.alerts (id) on delete cascade,
  outbox_id uuid not null references integration.email_outbox (id) on delete cascade,
  kind text not null,
  booking_id uuid,
  -- Not emailed on purpose: its kind is turned off, or the booking was already emailed about.
  skipped boolean not null default false
);
comment on table integration.email_outbox_alerts is
  'The alert email (integration.email_outbox) that reports each alert: one email can report many '
  'alerts of one building and kind (a digest).';
grant select, insert, update, delete on table integration.email_outbox_alerts to service_role;
alter table integration.email_outbox_alerts enable row level security;
create index email_outbox_alerts_outbox_id_idx on integration.email_outbox_alerts (outbox_id);
-- Alerts of one kind about one booking are emailed once, whichever check raised them.
create unique index email_outbox_alerts_one_per_kind_and_booking on integration.email_outbox_alerts (kind, booking_id)
  where booking_id is not null and not skipped;

/*
 * Who, when
 */
-- The building's managers (their Supabase Auth email) and its alert addresses (email_settings), once
-- each, sorted so the same people always make the same request.
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
    from integration.email_settings as s, pg_catalog.unnest(s.alert_emails) as e (address)
    where s.building_id = p_building_id
    union
    select pg_catalog.lower(u.email)
    from public.building_managers as m
    join auth.users as u on u.id = m.user_id
    where m.building_id = p_building_id and u.email is not null and u.email <> ''
  ) as r
$$;
comment on function integration.alert_recipients(uuid) is
  'Alert email recipients of a building: its managers'' email addresses and its alert_emails, '
  'lower-cased, once each, sorted.';
revoke execute on function integration.alert_recipients(uuid) from public;
grant execute on function integration.alert_recipients(uuid) to service_role;

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
revoke execute on function integration.quiet_hours_end(uuid, timestamp with time zone) from public;
grant execute on function integration.quiet_hours_end(uuid, timestamp with time zone) to service_role;

/*
 * Alerts feed the outbox
 */
-- An alert that is not emailed, with the reason: an outbox row of its own that is never sent (skipped:
-- on purpose; failed: it cannot be), so it shows beside the emails.
create function integration.record_alert_not_emailed(
  p_alert_id uuid, p_building_id uuid, p_kind text, p_booking_id uuid, p_status text, p_reason text)
returns void
language sql
security definer
set search_path = ''
as $$
  with unsent as (
    insert into integration.email_outbox (building_id, kind, recipients, status, last_error, idempotency_key)
    values (p_building_id, p_kind, '{}', p_status, p_reason, 'alert-email/' || p_alert_id)
    returning id
  )
  insert into integration.email_outbox_alerts (alert_id, outbox_id, kind, booking_id, skipped)
  select p_alert_id, unsent.id, p_kind, p_booking_id, p_status = 'skipped'
  from unsent
$$;
comment on function integration.record_alert_not_emailed(uuid, uuid, text, uuid, text, text) is
  'Records an alert that is not emailed (status skipped or failed) with the reason, in an outbox row '
  'of its own.';
revoke execute on function integration.record_alert_not_emailed(uuid, uuid, text, uuid, text, text) from public;

-- Runs in the transaction that raised the alert. Decides, and records with the reason, whether the
-- alert is emailed: not when its kind is turned off, not again for a booking already emailed about
-- with this kind, and it cannot be when the building has nobody to send it to (recorded as failed,
-- so it shows).
--
-- Alerts are emailed in proportion. An alert joins its building's email of its kind that is still
-- pending and untried, to the same recipients: that email becomes a digest (the count and the list).
-- Otherwise it starts a new email. A new email of a kind that can wait (double bookings,
-- configuration problems) is due after a few seconds (the rest of a burst joins it: the fold raises a
-- burst in batches), after the quiet hours, and a minute after a digest of the same building and kind
-- (a flood that goes on becomes one email a minute). Urgent kinds (access not in place, SALTO
-- unreachable) are due at once.
--
-- The joined email is locked (shared) until this transaction ends: a sender leases only unlocked rows,
-- so it never sends the email without an alert that is about to be committed with it. An email a
-- sender has leased first is no longer pending, and the alert starts the next one.
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
  urgent boolean := new.kind in ('access_not_in_place', 'salto_unreachable');
  email_id uuid;
  started boolean := false;
  hold_until timestamptz;
  after_digest timestamptz;
begin
  select s.enabled_kinds into enabled from integration.email_settings as s where s.building_id = new.building_id;
  if enabled is not null and not (new.kind = any (enabled)) then
    perform integration.record_alert_not_emailed(new.id, new.building_id, new.kind, new.booking_id, 'skipped',
      'Emails of this kind are turned off in the building''s alert email settings.');
    return null;
  end if;

  if new.booking_id is not null then
    select l.alert_id into earlier_alert from integration.email_outbox_alerts as l
    where l.kind = new.kind and l.booking_id = new.booking_id and not l.skipped
    limit 1;
    if earlier_alert is not null then
      perform integration.record_alert_not_emailed(new.id, new.building_id, new.kind, new.booking_id, 'skipped',
        pg_catalog.format('Managers were already emailed about this booking with this kind of alert (alert %s).', earlier_alert));
      return null;
    end if;
  end if;

  to_addresses := integration.alert_recipients(new.building_id);
  if pg_catalog.cardinality(to_addresses) = 0 then
    perform integration.record_alert_not_emailed(new.id, new.building_id, new.kind, new.booking_id, 'failed',
      'Nobody to send it to: the building has no manager with an email address and no alert_emails (public.alert_email_settings).');
    return null;
  end if;

  select o.id into email_id
  from integration.email_outbox as o
  where o.building_id = new.building_id and o.kind = new.kind
    and o.status = 'pending' and o.attempts = 0 and o.subject is null
    and o.recipients = to_addresses
  order by o.created_at
  limit 1
  for share;

  if email_id is null then
    if not urgent then
      hold_until := integration.quiet_hours_end(new.building_id, pg_catalog.now());
      select o.created_at + interval '1 minute' into after_digest
      from integration.email_outbox as o
      where o.building_id = new.building_id and o.kind = new.kind
        and o.created_at > pg_catalog.now() - interval '1 minute'
        and (select pg_catalog.count(*) from (
          select from integration.email_outbox_alerts as l where l.outbox_id = o.id limit 2) as reported) = 2
      order by o.created_at desc
      limit 1;
    end if;
    email_id := gen_random_uuid();
    started := true;
    insert into integration.email_outbox (id, building_id, kind, recipients, next_attempt_at, idempotency_key)
    values (email_id, new.building_id, new.kind, to_addresses,
      case when urgent then pg_catalog.now()
        else greatest(pg_catalog.now() + interval '2 seconds', hold_until, after_digest) end,
      'alert-email/' || email_id);
  end if;

  insert into integration.email_outbox_alerts (alert_id, outbox_id, kind, booking_id)
  values (new.id, email_id, new.kind, new.booking_id)
  on conflict (kind, booking_id) where booking_id is not null and not skipped do nothing;
  if not found then
    -- A concurrent transaction emailing the same booking and kind won the race: its email stands.
    if started then
      delete from integration.email_outbox as o where o.id = email_id;
    end if;
    perform integration.record_alert_not_emailed(new.id, new.building_id, new.kind, new.booking_id, 'skipped',
      'Managers were already emailed about this booking with this kind of alert.');
    return null;
  end if;

  -- Once per transaction; an email held back by the quiet hours is woken for by the minute job.
  if hold_until is null then
    perform integration.wake_send_alerts();
  end if;
  return null;
end;
$$;
comment on function integration.enqueue_alert_email() is
  'Trigger: puts a new alert into the email outbox, in the pending email of its building and kind '
  '(a digest) or a new one, or records why it is not emailed; wakes send-alerts.';
revoke execute on function integration.enqueue_alert_email() from public;
create trigger enqueue_alert_email
  after insert on integration.alerts
  for each row execute function integration.enqueue_alert_email();

-- A sender's due alert emails, fairly: urgent kinds (access not in place, SALTO unreachable) first,
-- then the buildings in turn: a building's due emails, oldest first, queue behind the emails it had
-- leased or sent in the last minute, so the building served least recently goes next, and one
-- building's burst holds another's email back by at most the emails already leased. Picked once (a
-- materialized CTE, never re-run per outbox row as an `id in (...)` subquery could be), then leased by
-- key. An email that an uncommitted alert is joining is locked by that transaction and skipped until
-- it commits.
create function integration.lease_alert_emails(p_limit integer, p_lease interval)
returns setof integration.email_outbox
language sql
security definer
set search_path = ''
as $$
  with served as (
    select r.building_id, pg_catalog.count(*) as emails
    from integration.email_outbox as r
    where r.status = 'sending'
      -- now(), stable, so the index on sent_at serves it (the lease is a statement of its own).
      or (r.status = 'sent' and r.sent_at > pg_catalog.now() - interval '1 minute')
    group by r.building_id
  ),
  due as (
    select c.id, c.next_attempt_at, c.created_at,
      c.kind in ('access_not_in_place', 'salto_unreachable') as urgent,
      coalesce(served.emails, 0) + pg_catalog.row_number() over (
        partition by c.building_id, c.kind in ('access_not_in_place', 'salto_unreachable')
        order by c.next_attempt_at, c.created_at) as turn
    from integration.email_outbox as c
    left join served on served.building_id = c.building_id
    where (c.status = 'pending' and c.next_attempt_at <= pg_catalog.clock_timestamp())
      or (c.status = 'sending' and c.leased_until < pg_catalog.clock_timestamp())
  ),
  picked as materialized (
    select c.id from integration.email_outbox as c
    join due as d on d.id = c.id
    -- Again on the locked row: another sender may have leased it since `due` was read.
    where (c.status = 'pending' and c.next_attempt_at <= pg_catalog.clock_timestamp())
      or (c.status = 'sending' and c.leased_until < pg_catalog.clock_timestamp())
    order by d.urgent desc, d.turn, d.next_attempt_at, d.created_at
    limit p_limit
    for update of c skip locked
  )
  update integration.email_outbox as o
  set status = 'sending', leased_until = pg_catalog.clock_timestamp() + p_lease
  from picked
  where o.id = picked.id
  returning o.*
$$;
comment on function integration.lease_alert_emails(integer, interval) is
  'Leases due alert emails to one sender (status sending): urgent kinds first, then the building '
  'served least recently, each building''s oldest first; a sender that dies loses them when the lease '
  'ends.';
revoke execute on function integration.lease_alert_emails(integer, interval) from public;
grant execute on function integration.lease_alert_emails(integer, interval) to service_role;

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
    select pg_catalog.min(case when o.status = 'pending' then o.next_attempt_at else o.leased_until end) as due_at
    from integration.email_outbox as o
    where o.status in ('pending', 'sending')
  ) as d
$$;
comment on function integration.next_alert_email_due_in() is
  'How long until the next alert email is due, in milliseconds (0: now; null: nothing waiting).';
revoke execute on function integration.next_alert_email_due_in() from public;
grant execute on function integration.next_alert_email_due_in() to service_role;

/*
 * Alerts that come from time passing rather than from a change: a booking about to start without its
 * permission in SALTO ("access not in place"), and SALTO failing for longer than a building accepts
 * ("salto_unreachable"). A minute job raises them and wakes send-alerts while emails are due.
 *
 * Booking times are read on integration.now() (the clock tests and demos can move); outage and
 * outbox times on real time.
 */
-- Buildings whose SALTO cannot be reached, since when this job first saw it. A row exists while the
-- building has work in backoff because SALTO could not be reached (integration.access_level_work:
-- attempts > 0 and salto_unreachable) and goes when none is left; the next failure starts a new
-- outage (and a new alert).
create table integration.salto_outages (
  building_id uuid primary key references public.buildings (id) on delete cascade,
  failing_since timestamptz not null,
  alert_id uuid references integration.alerts (id) on delete set null
);
comment on table integration.salto_outages is
  'Ongoing failures to write to a building''s SALTO server, since when, and the salto_unreachable '
  'alert raised for it.';
grant select, insert, update, delete on table integration.salto_outages to service_role;
alter table integration.salto_outages enable row level security;

-- "Access not in place" also covers a booking whose change has not been folded five minutes after it
-- was made (no access state yet: the sync and the minute job both failed to fold it).
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
        'state', coalesce(ba.state, 'pending'),
        'reason', case when ba.booking_id is null then 'Just booked: its SALTO access is being worked out.' else ba.reason end,
        'lead_time_minutes', (extract(epoch from s.access_lead_time) / 60)::integer
      ),
      'access_not_in_place:' || b.id
    from public.bookings as b
    left join integration.booking_access as ba on ba.booking_id = b.id
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
        or (ba.booking_id is null and b.created_at < pg_catalog.now() - interval '5 minutes')
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
  'Raises access_not_in_place alerts for bookings starting within the lead time whose permission is '
  'not in SALTO; returns how many.';
revoke execute on function integration.check_access_in_place() from public;
grant execute on function integration.check_access_in_place() to service_role;

-- Tracks outages and raises "SALTO unreachable" once per outage, when it has lasted the building's
-- unreachable_after. Failing means: SALTO work of the building in backoff after failed attempts.
-- The alert's dedupe key names the building, like every alert's names its problem: at most one
-- outage alert of a building is open, and resolving it frees the key for the next outage.
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
  -- An outage: the building's work failing because SALTO cannot be reached. An access level failing
  -- for a reason of its own (its data, a reply about it) is its own alert, not an outage.
  -- Outages that ended: their alert is resolved (and its key freed).
  with ended as (
    delete from integration.salto_outages as o
    where not exists (
      select from integration.access_level_work as w
      where w.building_id = o.building_id and w.attempts > 0 and w.salto_unreachable)
    returning o.alert_id
  )
  update integration.alerts as a
  set resolved_at = pg_catalog.now(), resolution = 'SALTO accepted the building''s writes again.'
  from ended
  where a.id = ended.alert_id and a.resolved_at is null;

  insert into integration.salto_outages (building_id, failing_since)
  select distinct w.building_id, integration.now()
  from integration.access_level_work as w
  where w.attempts > 0 and w.salto_unreachable
  on conflict (building_id) do nothing;

  for outage in
    select o.building_id, o.failing_since, s.unreachable_after,
      -- Null without a server row (format() would make '://:' of it).
      case when srv.building_id is not null then pg_catalog.format('%s://%s:%s', srv.transport, srv.host, srv.port) end as server,
      (select pg_catalog.count(*) from integration.access_level_work as w
        where w.building_id = o.building_id and w.attempts > 0 and w.salto_unreachable) as pending,
      (select w.last_error from integration.access_level_work as w
        where w.building_id = o.building_id and w.attempts > 0 and w.salto_unreachable order by w.requested_at desc limit 1) as last_error
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
      'salto_unreachable:' || outage.building_id)
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
  'Tracks SALTO outages per building and raises one salto_unreachable alert per outage once it has '
  'lasted unreachable_after; returns how many.';
revoke execute on function integration.check_salto_reachable() from public;
grant execute on function integration.check_salto_reachable() to service_role;

-- What was done with each alert's action link: used once, then refused.
create table integration.alert_actions (
  alert_id uuid primary key references integration.alerts (id) on delete cascade,
  booking_id uuid,
  action text not null check (action in ('grant_now')),
  outcome text not null check (outcome in ('granted', 'not_waiting', 'booking_gone')),
  acted_at timestamptz not null default now()
);
comment on table integration.alert_actions is
  'Uses of alert action links (one per alert: a link works once) and what they did.';
grant select, insert, update, delete on table integration.alert_actions to service_role;
alter table integration.alert_actions enable row level security;

/*
 * Acting from an alert email: "give the waiting booking the permission now".
 *
 * The double-booking email carries a signed, expiring link (signature and expiry are checked by the
 * send-alerts function, src/shared/alerts/action-tokens.ts). The database decides the rest in one
 * transaction: the alert belongs to the building the token names, the link was not used before
 * (one action per alert, integration.alert_actions), the booking still waits. The action itself is a
 * permission override: the one-permission rule (integration.permission_groups) serves the
 * overridden booking's group first, and the group that held the permission waits until it ends.
 */
-- Bookings a manager gave the permission ahead of their turn. Consulted by permission_groups while the
-- booking is unfinished; a finished, cancelled or deleted booking's override no longer matters.
create table integration.permission_overrides (
  booking_id uuid primary key references public.bookings (id) on delete cascade,
  apartment_id uuid not null,
  facility_id uuid not null,
  alert_id uuid references integration.alerts (id) on delete set null,
  granted_at timestamptz not null default now()
);
comment on table integration.permission_overrides is
  'Bookings given the apartment-zone permission ahead of their turn by a manager (from a '
  'double-booking email); the bookings that held it wait until they end.';
grant select, insert, update, delete on table integration.permission_overrides to service_role;
alter table integration.permission_overrides enable row level security;
create index permission_overrides_pair_idx on integration.permission_overrides (apartment_id, facility_id);

/*
 * The action
 */
-- What the confirmation page shows before anything is done: whether the link can still act, and the
-- facts of its consequence (the waiting booking, the bookings that hold the permission now and would
-- wait, until when). Reads only.
create function integration.alert_action_preview(p_alert_id uuid, p_building_id uuid, p_booking_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when a.id is null then pg_catalog.jsonb_build_object('status', 'unknown_alert')
    when a.building_id <> p_building_id then pg_catalog.jsonb_build_object('status', 'other_building')
    when a.kind <> 'double_booking' or a.booking_id is distinct from p_booking_id
      then pg_catalog.jsonb_build_object('status', 'not_actionable')
    when used.alert_id is not null
      then pg_catalog.jsonb_build_object('status', 'already_used', 'used_at', used.acted_at, 'outcome', used.outcome)
    when b.id is null or b.status <> 'confirmed' or b.ends_at <= integration.now()
      then pg_catalog.jsonb_build_object('status', 'booking_gone')
    when ba.state is distinct from 'waiting'
      then pg_catalog.jsonb_build_object('status', 'not_waiting', 'state', ba.state)
    else pg_catalog.jsonb_build_object(
      'status', 'ok',
      'building_name', bl.name,
      'time_zone', bl.timezone,
      'apartment_label', ap.label,
      'facility_name', f.name,
      'waiting_booking', pg_catalog.jsonb_build_object('id', b.id, 'starts_at', b.starts_at, 'ends_at', b.ends_at),
      -- The holders would get the permission back when the waiting booking's access ends.
      'holders_wait_until', ba.window_end,
      'holding_bookings', (
        select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', h.id, 'starts_at', h.starts_at, 'ends_at', h.ends_at) order by h.starts_at), '[]')
        from public.bookings as h where h.id = any (ba.holder_booking_ids)))
  end
  from (select p_alert_id as id) as requested
  left join integration.alerts as a on a.id = requested.id
  left join integration.alert_actions as used on used.alert_id = a.id
  left join public.bookings as b on b.id = p_booking_id and b.building_id = p_building_id
  left join integration.booking_access as ba on ba.booking_id = b.id
  left join public.buildings as bl on bl.id = b.building_id
  left join public.apartments as ap on ap.id = b.apartment_id
  left join public.facilities as f on f.id = b.facility_id
$$;
comment on function integration.alert_action_preview(uuid, uuid, uuid) is
  'For an alert action link (already verified as signed and unexpired): whether it can act (status) '
  'and the consequence to confirm.';
revoke execute on function integration.alert_action_preview(uuid, uuid, uuid) from public;
grant execute on function integration.alert_action_preview(uuid, uuid, uuid) to service_role;

-- Gives the waiting booking of a double-booking alert the permission now, once per alert. Refuses,
-- changing nothing, an alert of another building (the token was not made for it), an alert that is
-- not a double booking of that booking, and a second use. A booking that no longer waits (finished,
-- cancelled, or already holding) uses the link up without changing anything, and says so.
create function integration.act_on_alert(p_alert_id uuid, p_building_id uuid, p_booking_id uuid)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  alert record;
  booking record;
  access_state text;
begin
  select a.id, a.building_id, a.kind, a.booking_id into alert
  from integration.alerts as a where a.id = p_alert_id
  for update;
  if not found then
    return 'unknown_alert';
  end if;
  if alert.building_id <> p_building_id then
    return 'other_building';
  end if;
  if alert.kind <> 'double_booking' or alert.booking_id is distinct from p_booking_id then
    return 'not_actionable';
  end if;
  if exists (select from integration.alert_actions as used where used.alert_id = p_alert_id) then
    return 'already_used';
  end if;

  select b.id, b.apartment_id, b.facility_id, b.status, b.ends_at into booking
  from public.bookings as b where b.id = p_booking_id and b.building_id = p_building_id
  for update;
  if not found or booking.status <> 'confirmed' or booking.ends_at <= integration.now() then
    insert into integration.alert_actions (alert_id, booking_id, action, outcome)
    values (p_alert_id, p_booking_id, 'grant_now', 'booking_gone');
    return 'booking_gone';
  end if;

  select ba.state into access_state from integration.booking_access as ba where ba.booking_id = p_booking_id;
  if access_state is distinct from 'waiting' then
    insert into integration.alert_actions (alert_id, booking_id, action, outcome)
    values (p_alert_id, p_booking_id, 'grant_now', 'not_waiting');
    return 'not_waiting';
  end if;

  insert into integration.permission_overrides (booking_id, apartment_id, facility_id, alert_id)
  values (p_booking_id, booking.apartment_id, booking.facility_id, p_alert_id)
  on conflict (booking_id) do update set granted_at = pg_catalog.now(), alert_id = excluded.alert_id;
  -- Recomputes the states (the former holder now waits) and queues the access level for the sync.
  perform integration.pair_changed(booking.apartment_id, booking.facility_id);
  insert into integration.alert_actions (alert_id, booking_id, action, outcome)
  values (p_alert_id, p_booking_id, 'grant_now', 'granted');
  return 'granted';
end;
$$;
comment on function integration.act_on_alert(uuid, uuid, uuid) is
  'Alert action link, confirmed: gives a double-booking alert''s waiting booking the permission now '
  '(the holder waits), once per alert. Returns granted, not_waiting, booking_gone, already_used, '
  'other_building, not_actionable or unknown_alert.';
revoke execute on function integration.act_on_alert(uuid, uuid, uuid) from public;
grant execute on function integration.act_on_alert(uuid, uuid, uuid) to service_role;

/*
 * Alerts about a booking end with its problem.
 *
 * A double booking (the booking waits for the permission another booking of its apartment and
 * facility holds) and a booking whose access is not in place are over when the booking's permission
 * is written to SALTO (its state becomes active), when the booking is cancelled, when it has finished,
 * or when it is deleted. Each is resolved where that happens, in the same transaction: the booking's
 * access state changing (triggers on integration.booking_access, whichever writes it: the fold, the
 * sync recording what SALTO accepted, the nightly cleanup), the booking deleted (the alert's
 * booking_id set to null), and, for a booking that simply ends (its state is left as it was until the
 * nightly cleanup or the pair's next change), the minute job (integration.resolve_booking_alerts_due).
 * As for every alert, resolving frees the dedupe key (integration.free_key_of_resolved_alert).
 */
-- What ended the problem of a double_booking or access_not_in_place alert, in words; null while it
-- lasts. p_deleted: the booking was deleted; p_state: the booking's access state; p_cancelled,
-- p_ended: the booking was cancelled, has finished; p_written: its permission was in SALTO at some
-- time; p_overridden: a manager gave it the permission ahead of its turn (an alert email's link).
-- Callers name the facts they know (p_state => ...); the others default to false (p_state to null).
create function integration.booking_alert_resolution(
  p_kind text,
  p_deleted boolean default false,
  p_state text default null,
  p_cancelled boolean default false,
  p_ended boolean default false,
  p_written boolean default false,
  p_overridden boolean default false)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when p_deleted then case p_kind
      when 'double_booking' then 'The waiting booking was deleted.'
      else 'The booking was deleted.'
    end
    when p_state = 'active' then case
      when p_kind = 'access_not_in_place' then 'The booking''s permission is written to SALTO.'
      when p_overridden then 'A manager moved the permission to the waiting booking: its permission is written to SALTO.'
      else 'The permission is free: the waiting booking''s permission is written to SALTO.'
    end
    when p_cancelled then case p_kind
      when 'double_booking' then 'The waiting booking was cancelled.'
      else 'The booking was cancelled.'
    end
    when p_ended or p_state = 'released' then case
      when p_written then case p_kind
        when 'double_booking' then 'The waiting booking got its permission in SALTO and has finished.'
        else 'The booking got its permission in SALTO and has finished.'
      end
      when p_kind = 'double_booking' then 'The waiting booking ended before the permission was free: it had no access.'
      else 'The booking ended without its permission in SALTO.'
    end
  end
$$;
comment on function integration.booking_alert_resolution(text, boolean, text, boolean, boolean, boolean, boolean) is
  'What ended a double_booking or access_not_in_place alert (booking deleted, written to SALTO, '
  'cancelled, finished), in words; null while the problem lasts.';
revoke execute on function integration.booking_alert_resolution(text, boolean, text, boolean, boolean, boolean, boolean) from public;
grant execute on function integration.booking_alert_resolution(text, boolean, text, boolean, boolean, boolean, boolean) to service_role;

-- The open alerts about bookings (double_booking, access_not_in_place): what the triggers below and
-- the minute job look up, however many resolved alerts the table holds.
create index alerts_open_booking_alerts_idx on integration.alerts (booking_id)
  where resolved_at is null and kind in ('double_booking', 'access_not_in_place');

-- A booking's access state became active (written to SALTO) or released (cancelled or finished):
-- its open double_booking and access_not_in_place alerts are resolved, saying which. An alert row
-- another transaction holds (a manager acting on it from the email) is skipped, not waited for: the
-- fold holds its pairs' locks, which that transaction may be waiting for. The minute job resolves it.
create function integration.resolve_alerts_of_booking()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update integration.alerts as a
  set resolved_at = pg_catalog.now(),
    resolution = integration.booking_alert_resolution(a.kind,
      p_state => new.state,
      p_cancelled => b.status = 'cancelled',
      p_ended => b.ends_at <= integration.now(),
      p_written => new.written_at is not null,
      p_overridden => exists (select from integration.permission_overrides as o where o.booking_id = new.booking_id))
  from public.bookings as b,
    (
      select open.id from integration.alerts as open
      where open.booking_id = new.booking_id and open.resolved_at is null
        and open.kind in ('double_booking', 'access_not_in_place')
      for update skip locked
    ) as open
  where b.id = new.booking_id and a.id = open.id;
  return null;
end;
$$;
comment on function integration.resolve_alerts_of_booking() is
  'Trigger: resolves the double_booking and access_not_in_place alerts of a booking whose access '
  'state became active or released, saying what ended the problem.';
revoke execute on function integration.resolve_alerts_of_booking() from public;
create trigger resolve_alerts_when_access_ends_the_problem
  after update on integration.booking_access
  for each row
  when (new.state in ('active', 'released') and old.state is distinct from new.state)
  execute function integration.resolve_alerts_of_booking();
create trigger resolve_alerts_when_access_starts_released
  after insert on integration.booking_access
  for each row
  when (new.state in ('active', 'released'))
  execute function integration.resolve_alerts_of_booking();

-- The booking was deleted (the alert's booking_id set to null by its foreign key): its double_booking
-- or access_not_in_place alert is resolved in the same update. The trigger's name sorts before
-- resolved_alert_frees_its_key (30_booking_changes_and_fold.sql), which then frees the alert's key.
create function integration.resolve_alert_of_deleted_booking()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.resolved_at := pg_catalog.now();
  new.resolution := integration.booking_alert_resolution(new.kind, p_deleted => true);
  return new;
end;
$$;
comment on function integration.resolve_alert_of_deleted_booking() is
  'Trigger: resolves an open double_booking or access_not_in_place alert whose booking was deleted.';
revoke execute on function integration.resolve_alert_of_deleted_booking() from public;
create trigger resolve_when_booking_deleted
  before update of booking_id on integration.alerts
  for each row
  when (old.booking_id is not null and new.booking_id is null and new.resolved_at is null
    and new.kind in ('double_booking', 'access_not_in_place'))
  execute function integration.resolve_alert_of_deleted_booking();

-- Every minute (integration.alerts_tick): open double_booking and access_not_in_place alerts whose
-- booking has finished (its state may stay as it was until the nightly cleanup), or whose booking's
-- state already ends the problem (an alert raised before alerts were resolved, or by a sync that
-- recorded the state first). Alerts another transaction is resolving are left to it.
create function integration.resolve_booking_alerts_due()
returns integer
language sql
security definer
set search_path = ''
as $$
  with due as (
    select a.id,
      integration.booking_alert_resolution(a.kind,
        p_deleted => b.id is null,
        p_state => ba.state,
        p_cancelled => b.status = 'cancelled',
        p_ended => b.ends_at <= integration.now(),
        p_written => ba.written_at is not null,
        p_overridden => exists (select from integration.permission_overrides as o where o.booking_id = b.id)) as resolution
    from integration.alerts as a
    left join public.bookings as b on b.id = a.booking_id
    left join integration.booking_access as ba on ba.booking_id = b.id
    where a.resolved_at is null and a.kind in ('double_booking', 'access_not_in_place')
  ),
  locked as (
    select a.id, due.resolution
    from integration.alerts as a
    join due on due.id = a.id
    where due.resolution is not null and a.resolved_at is null
    for update of a skip locked
  ),
  resolved as (
    update integration.alerts as a
    set resolved_at = pg_catalog.now(), resolution = locked.resolution
    from locked
    where a.id = locked.id
    returning 1
  )
  select pg_catalog.count(*)::integer from resolved
$$;
comment on function integration.resolve_booking_alerts_due() is
  'Resolves the open double_booking and access_not_in_place alerts whose booking has finished, was '
  'cancelled, deleted or written to SALTO; returns how many.';
revoke execute on function integration.resolve_booking_alerts_due() from public;
grant execute on function integration.resolve_booking_alerts_due() to service_role;

-- One line for managers about an alert, from its kind and details, with the booking's local time in
-- the building's time zone.
create function private.alert_summary(
  p_kind text, p_details jsonb, p_facility_name text, p_apartment_label text,
  p_starts_at timestamptz, p_ends_at timestamptz, p_time_zone text)
returns text
language sql
stable
set search_path = ''
as $$
  select case p_kind
    when 'double_booking' then pg_catalog.format(
      'Double booking: apartment %s booked the %s for %s (%s) while its earlier booking holds the one '
      'permission SALTO allows; the new booking waits until that one ends.',
      coalesce(p_apartment_label, p_details ->> 'apartment_label'), coalesce(p_facility_name, p_details ->> 'facility_name'),
      coalesce(private.describe_local_span(p_starts_at at time zone p_time_zone, p_ends_at at time zone p_time_zone), 'a booking since deleted'), p_time_zone)
    when 'access_not_in_place' then pg_catalog.format(
      'Access not in place: the %s booking of apartment %s for %s (%s) has no permission in SALTO yet. %s',
      coalesce(p_facility_name, 'facility'), coalesce(p_apartment_label, '?'),
      coalesce(private.describe_local_span(p_starts_at at time zone p_time_zone, p_ends_at at time zone p_time_zone), 'a booking since deleted'), p_time_zone,
      coalesce(p_details ->> 'reason', p_details ->> 'why', ''))
    when 'unknown_salto_id' then case p_details ->> 'what'
      when 'zone' then pg_catalog.format('SALTO has no zone with the Zone ID "%s"%s. %s', p_details ->> 'zone_id',
        coalesce(' (facility ' || (p_details ->> 'facility_name') || ')', ''),
        coalesce(p_details ->> 'next_step', 'Set the facility''s Access Control Facility ID in Settings > Facilities '
          '(Studio: table public.facilities, column access_control_facility_id) to its Zone ID in SALTO.'))
      else pg_catalog.format('SALTO has no user access level with the EXT ID "%s"%s. %s', p_details ->> 'access_level_id',
        coalesce(' (apartment ' || (p_details ->> 'apartment_label') || ')', ''),
        coalesce(p_details ->> 'next_step', 'Set the apartment''s Access Control ID in Building > Apartments '
          '(Studio: table public.apartments, column access_control_id) to its User Access Level EXT ID in SALTO.'))
      end
    when 'salto_unreachable' then pg_catalog.format(
      'SALTO unreachable: writes to %s have failed since %s (%s); %s access levels wait to be written.',
      p_details ->> 'server',
      pg_catalog.to_char((p_details ->> 'failing_since')::timestamptz at time zone p_time_zone, 'Dy FMDD Mon, HH24:MI'),
      p_time_zone, coalesce(p_details ->> 'pending_access_levels', '?'))
    else p_kind
  end
$$;
comment on function private.alert_summary(text, jsonb, text, text, timestamptz, timestamptz, text) is
  'One line for managers about an alert (public.access_alerts.summary).';
revoke execute on function private.alert_summary(text, jsonb, text, text, timestamptz, timestamptz, text) from public;
grant execute on function private.alert_summary(text, jsonb, text, text, timestamptz, timestamptz, text) to authenticated, service_role;

create view public.access_alerts
with (security_invoker = true)
as
  select a.id, a.building_id, a.kind, a.booking_id, a.details, a.created_at,
    private.alert_summary(a.kind, a.details, f.name, ap.label, b.starts_at, b.ends_at, bl.timezone) as summary,
    a.resolved_at,
    a.resolution
  from integration.alerts as a
  join public.buildings as bl on bl.id = a.building_id
  left join public.bookings as b on b.id = a.booking_id
  left join public.facilities as f on f.id = b.facility_id
  left join public.apartments as ap on ap.id = b.apartment_id;
comment on view public.access_alerts is
  'Alerts for building managers: double_booking, access_not_in_place, unknown_salto_id, '
  'salto_unreachable, each with a one-line summary, and resolved_at and resolution once the problem '
  'has ended. Managers see their buildings'' alerts.';
comment on column public.access_alerts.id is 'The alert.';
comment on column public.access_alerts.building_id is 'The building the alert is about.';
comment on column public.access_alerts.kind is
  'double_booking | access_not_in_place | unknown_salto_id (a configuration problem) | salto_unreachable';
comment on column public.access_alerts.booking_id is 'The booking the alert is about, if any.';
comment on column public.access_alerts.details is 'The facts of the alert as recorded (JSON); summary says them in words.';
comment on column public.access_alerts.created_at is 'When the alert was raised.';
comment on column public.access_alerts.summary is
  'One line saying what happened and what to do, with local times in the building''s time zone.';
comment on column public.access_alerts.resolved_at is
  'When the problem ended (null while it lasts): a double booking''s waiting booking written to '
  'SALTO, cancelled, finished or deleted; a booking without access given its permission in SALTO, '
  'cancelled, finished or deleted; an unknown ID fixed or found in SALTO; SALTO reachable again.';
comment on column public.access_alerts.resolution is
  'What ended the problem, in words (e.g. The waiting booking was cancelled.; The Zone ID was '
  'changed to "POOL".); null while it lasts.';
revoke all on table public.access_alerts from anon, authenticated, service_role;
grant all on table public.access_alerts to service_role;
grant select on table public.access_alerts to authenticated;

create view public.alert_email_settings
with (security_invoker = true)
as
  select s.building_id, s.enabled_kinds, s.access_lead_time, s.unreachable_after, s.quiet_hours_start,
    s.quiet_hours_end, s.updated_at, s.alert_emails
  from integration.email_settings as s;
comment on view public.alert_email_settings is
  'Alert email settings of the buildings you manage: which alert kinds are emailed, the lead time '
  'for "access not in place", how long SALTO may fail before "SALTO unreachable", quiet hours '
  '(building-local) during which non-urgent emails wait, and who receives the emails besides the '
  'managers (alert_emails). Managers only: residents see no row.';
comment on column public.alert_email_settings.building_id is 'The building these settings are for.';
comment on column public.alert_email_settings.enabled_kinds is
  'Alert kinds emailed: any of double_booking, access_not_in_place, unknown_salto_id, '
  'salto_unreachable (e.g. {double_booking,salto_unreachable}). Alerts of other kinds are still '
  'recorded in access_alerts, not emailed.';
comment on column public.alert_email_settings.access_lead_time is
  'How long before a booking starts its missing SALTO permission is reported ("access not in '
  'place"): 1 minute to 7 days, e.g. 02:00:00.';
comment on column public.alert_email_settings.unreachable_after is
  'How long writes to SALTO may keep failing before "SALTO unreachable" is emailed: 1 second to 7 '
  'days, e.g. 00:15:00.';
comment on column public.alert_email_settings.quiet_hours_start is
  'Building-local time from which double-booking and configuration emails wait until '
  'quiet_hours_end (may wrap midnight, e.g. 22:00-07:00); both or neither. Urgent alerts are always sent.';
comment on column public.alert_email_settings.quiet_hours_end is
  'Building-local time at which held-back emails are sent; both or neither with quiet_hours_start.';
comment on column public.alert_email_settings.updated_at is 'When the settings last changed.';
comment on column public.alert_email_settings.alert_emails is
  'Who receives the building''s alert emails besides its managers: up to 20 bare addresses such as '
  'desk@example.com (no names, quotes, angle brackets, commas or spaces), no repeats.';
revoke all on table public.alert_email_settings from anon, authenticated, service_role;
grant all on table public.alert_email_settings to service_role;
grant select on table public.alert_email_settings to authenticated;
grant update (
  enabled_kinds, access_lead_time, unreachable_after, quiet_hours_start, quiet_hours_end, alert_emails
) on table public.alert_email_settings to authenticated;

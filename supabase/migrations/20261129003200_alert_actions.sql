/*
 * Acting from an alert email: "give the waiting booking the permission now".
 *
 * The double-booking email carries a signed, expiring link (signature and expiry are checked by the
 * send-alerts function, src/shared/alerts/action-tokens.ts). The database decides the rest in one
 * transaction: the alert belongs to the building the token names, the link was not used before
 * (one action per alert, integration.alert_actions), the booking still waits. The action itself is a
 * permission override: the one-permission rule (integration.pair_plan, replaced here) serves the
 * overridden booking's group first, and the group that held the permission waits until it ends.
 */

-- Bookings a manager gave the permission ahead of their turn. Consulted by pair_plan while the
-- booking is unfinished; a finished, cancelled or deleted booking's override no longer matters.
create table integration.permission_overrides (
  booking_id uuid primary key references public.bookings (id) on delete cascade,
  apartment_id uuid not null,
  facility_id uuid not null,
  alert_id uuid references integration.alerts (id) on delete set null,
  granted_at timestamptz not null default now()
);
alter table integration.permission_overrides enable row level security;
create index permission_overrides_pair_idx on integration.permission_overrides (apartment_id, facility_id);
comment on table integration.permission_overrides is
  'Bookings given the apartment-zone permission ahead of their turn by a manager (from a double-booking email); the bookings that held it wait until they end.';

-- What was done with each alert's action link: used once, then refused.
create table integration.alert_actions (
  alert_id uuid primary key references integration.alerts (id) on delete cascade,
  booking_id uuid,
  action text not null check (action in ('grant_now')),
  outcome text not null check (outcome in ('granted', 'not_waiting', 'booking_gone')),
  acted_at timestamptz not null default now()
);
alter table integration.alert_actions enable row level security;
comment on table integration.alert_actions is
  'Uses of alert action links (one per alert: a link works once) and what they did.';

/*
 * The one-permission rule, with overrides
 */

-- As in 20261129001100, bookings of one apartment and facility whose windows overlap or touch are
-- served together (a "time group"). Groups are then ordered: a group holding a booking given the
-- permission by a manager first (the latest such grant first), the others by start. A later group
-- is written when every group before it has ended. Without overrides this is exactly the original
-- rule (groups are disjoint and ordered by start, so "every group before has ended" is "the previous
-- group has ended").
create or replace function integration.pair_plan(p_apartment_id uuid, p_facility_id uuid, p_at timestamptz)
returns table (
  booking_id uuid,
  group_number bigint,
  window_start timestamptz,
  window_end timestamptz,
  group_start timestamptz,
  group_end timestamptz,
  write_at timestamptz,
  holder_booking_ids uuid[]
)
language sql
stable
set search_path = ''
as $$
  with unfinished as (
    select
      b.id,
      b.starts_at - f.access_buffer_before as window_start,
      b.ends_at + f.access_buffer_after as window_end
    from public.bookings as b
    join public.facilities as f on f.id = b.facility_id
    where b.apartment_id = p_apartment_id
      and b.facility_id = p_facility_id
      and b.status = 'confirmed'
      and b.ends_at + f.access_buffer_after > p_at
  ),
  marked as (
    select u.*,
      case when u.window_start <= pg_catalog.max(u.window_end) over (
          order by u.window_start, u.id rows between unbounded preceding and 1 preceding)
        then 0 else 1 end as starts_group
    from unfinished as u
  ),
  numbered as (
    select m.*, pg_catalog.sum(m.starts_group) over (order by m.window_start, m.id) as time_group
    from marked as m
  ),
  groups as (
    select n.time_group,
      pg_catalog.min(n.window_start) as group_start,
      pg_catalog.max(n.window_end) as group_end,
      pg_catalog.array_agg(n.id order by n.window_start, n.id) as booking_ids,
      pg_catalog.max(o.granted_at) as granted_at
    from numbered as n
    left join integration.permission_overrides as o on o.booking_id = n.id
    group by n.time_group
  ),
  ordered as (
    select g.*,
      pg_catalog.row_number() over (order by g.granted_at desc nulls last, g.group_start, g.time_group) as group_number
    from groups as g
  ),
  scheduled as (
    select o.*,
      pg_catalog.max(o.group_end) over (order by o.group_number rows between unbounded preceding and 1 preceding) as write_at
    from ordered as o
  )
  select n.id, s.group_number, n.window_start, n.window_end, s.group_start, s.group_end, s.write_at,
    case when s.group_number > 1 then holder.booking_ids end as holder_booking_ids
  from numbered as n
  join scheduled as s on s.time_group = n.time_group
  left join scheduled as holder on holder.group_number = 1
$$;
comment on function integration.pair_plan(uuid, uuid, timestamptz) is
  'The one-permission rule for one apartment and facility at a given time: which unfinished confirmed bookings are served together (group 1 holds the permission now: the group of a booking a manager gave the permission, else the earliest) and when each later group is written.';

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
  'For an alert action link (already verified as signed and unexpired): whether it can act (status) and the consequence to confirm.';

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
  'Alert action link, confirmed: gives a double-booking alert''s waiting booking the permission now (the holder waits), once per alert. Returns granted, not_waiting, booking_gone, already_used, other_building, not_actionable or unknown_alert.';

revoke execute on function
  integration.pair_plan(uuid, uuid, timestamptz),
  integration.alert_action_preview(uuid, uuid, uuid),
  integration.act_on_alert(uuid, uuid, uuid)
  from public;
grant execute on function
  integration.pair_plan(uuid, uuid, timestamptz),
  integration.alert_action_preview(uuid, uuid, uuid),
  integration.act_on_alert(uuid, uuid, uuid)
  to service_role;
grant select, insert, update, delete on integration.permission_overrides, integration.alert_actions to service_role;

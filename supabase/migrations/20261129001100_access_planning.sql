/*
 * The one-permission rule, in the database, so that a booking's access state and a double-booking
 * alert are decided in the same transaction as the booking itself.
 *
 * SALTO holds one permission per access level and zone. Per apartment and facility: among the
 * confirmed bookings whose access window (booking widened by the facility's buffers) has not ended,
 * the one that starts first holds the permission; bookings whose windows overlap or touch it (in a
 * chain) are served together by one permission covering their union. Every later group waits until
 * the group before it ends.
 */

-- Groups an apartment's unfinished bookings of one facility into the permissions that will serve
-- them, in order. Group 1 holds the permission now; group n is written when group n-1 ends.
create function integration.pair_plan(p_apartment_id uuid, p_facility_id uuid, p_at timestamptz)
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
  -- A booking starts a new group unless it overlaps or touches a window that started before it.
  marked as (
    select u.*,
      case when u.window_start <= pg_catalog.max(u.window_end) over (
          order by u.window_start, u.id rows between unbounded preceding and 1 preceding)
        then 0 else 1 end as starts_group
    from unfinished as u
  ),
  numbered as (
    select m.*, pg_catalog.sum(m.starts_group) over (order by m.window_start, m.id) as group_number
    from marked as m
  ),
  groups as (
    select n.group_number,
      pg_catalog.min(n.window_start) as group_start,
      pg_catalog.max(n.window_end) as group_end,
      pg_catalog.array_agg(n.id order by n.window_start, n.id) as booking_ids
    from numbered as n
    group by n.group_number
  )
  select n.id, n.group_number, n.window_start, n.window_end, g.group_start, g.group_end,
    previous.group_end as write_at,
    case when n.group_number > 1 then holder.booking_ids end as holder_booking_ids
  from numbered as n
  join groups as g on g.group_number = n.group_number
  left join groups as previous on previous.group_number = n.group_number - 1
  left join groups as holder on holder.group_number = 1
$$;
comment on function integration.pair_plan(uuid, uuid, timestamptz) is
  'The one-permission rule for one apartment and facility at a given time: which unfinished confirmed bookings are served together (group 1 holds the permission now) and when each later group is written.';

/*
 * Booking access states
 */

-- Recomputes the access state of every booking of one apartment and facility, and records a
-- double-booking alert for each booking that has just started waiting. Runs in the transaction that
-- changed the bookings (or the configuration, or the time), as the table owner.
create function integration.refresh_pair(p_apartment_id uuid, p_facility_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  with apartment as (
    select a.id, a.label, a.access_control_id from public.apartments as a where a.id = p_apartment_id
  ),
  facility as (
    select f.id, f.name, f.access_control_facility_id from public.facilities as f where f.id = p_facility_id
  ),
  plan as (
    select * from integration.pair_plan(p_apartment_id, p_facility_id, integration.now())
  ),
  previous as (
    select ba.booking_id, ba.state from integration.booking_access as ba
    where ba.apartment_id = p_apartment_id and ba.facility_id = p_facility_id
  ),
  next_state as (
    select
      b.id as booking_id,
      b.building_id,
      b.starts_at,
      b.ends_at,
      case
        when b.status = 'cancelled' then 'released'
        when p.booking_id is null then 'released'
        when (select access_control_id from apartment) is null then 'failed'
        when (select access_control_facility_id from facility) is null then 'failed'
        when p.group_number > 1 then 'waiting'
        else 'scheduled'
      end as state,
      case
        when b.status = 'cancelled' then 'The booking was cancelled.'
        when p.booking_id is null then 'The booking has finished.'
        when (select access_control_id from apartment) is null then pg_catalog.format(
          'Apartment %s has no Access Control ID. Set it in Building > Apartments to the User Access Level EXT ID of its access level in SALTO.',
          (select label from apartment))
        when (select access_control_facility_id from facility) is null then pg_catalog.format(
          'The facility %s has no Access Control Facility ID. Set it in Settings > Facilities to its Zone ID in SALTO.',
          (select name from facility))
        when p.group_number > 1 then
          'SALTO holds one permission per apartment and zone; another booking of this facility holds it until it finishes.'
      end as reason,
      p.group_start,
      p.group_end,
      p.write_at,
      p.holder_booking_ids
    from public.bookings as b
    left join plan as p on p.booking_id = b.id
    where b.apartment_id = p_apartment_id and b.facility_id = p_facility_id
  ),
  upserted as (
    insert into integration.booking_access as ba (
      booking_id, building_id, apartment_id, facility_id, state, reason, access_level_id, zone_id,
      window_start, window_end, write_at, holder_booking_ids, updated_at
    )
    select n.booking_id, n.building_id, p_apartment_id, p_facility_id, n.state, n.reason,
      (select access_control_id from apartment), (select access_control_facility_id from facility),
      n.group_start, n.group_end, n.write_at, n.holder_booking_ids, pg_catalog.now()
    from next_state as n
    on conflict (booking_id) do update set
      -- A permission already in SALTO stays "active" while nothing about it changes.
      state = case
        when ba.state = 'active' and excluded.state = 'scheduled'
          and ba.window_start = excluded.window_start and ba.window_end = excluded.window_end
          and ba.access_level_id is not distinct from excluded.access_level_id
          and ba.zone_id is not distinct from excluded.zone_id
        then 'active'
        else excluded.state
      end,
      reason = case
        when ba.state = 'active' and excluded.state = 'scheduled'
          and ba.window_start = excluded.window_start and ba.window_end = excluded.window_end
          and ba.access_level_id is not distinct from excluded.access_level_id
          and ba.zone_id is not distinct from excluded.zone_id
        then ba.reason
        else excluded.reason
      end,
      access_level_id = excluded.access_level_id,
      zone_id = excluded.zone_id,
      window_start = excluded.window_start,
      window_end = excluded.window_end,
      write_at = excluded.write_at,
      holder_booking_ids = excluded.holder_booking_ids,
      updated_at = excluded.updated_at
    where (ba.state, ba.reason, ba.access_level_id, ba.zone_id, ba.window_start, ba.window_end, ba.write_at, ba.holder_booking_ids)
      is distinct from
      (excluded.state, excluded.reason, excluded.access_level_id, excluded.zone_id, excluded.window_start, excluded.window_end, excluded.write_at, excluded.holder_booking_ids)
    returning ba.booking_id, ba.state
  )
  insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
  select n.building_id, 'double_booking', n.booking_id,
    pg_catalog.jsonb_build_object(
      'apartment_id', p_apartment_id,
      'apartment_label', (select label from apartment),
      'access_level_id', (select access_control_id from apartment),
      'facility_id', p_facility_id,
      'facility_name', (select name from facility),
      'zone_id', (select access_control_facility_id from facility),
      'waiting_booking', pg_catalog.jsonb_build_object('id', n.booking_id, 'starts_at', n.starts_at, 'ends_at', n.ends_at),
      'holding_bookings', (
        select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', hb.id, 'starts_at', hb.starts_at, 'ends_at', hb.ends_at) order by hb.starts_at)
        from public.bookings as hb where hb.id = any (n.holder_booking_ids)),
      'write_at', n.write_at
    ),
    'double_booking:' || n.booking_id
  from upserted as u
  join next_state as n on n.booking_id = u.booking_id
  left join previous as p on p.booking_id = u.booking_id
  where u.state = 'waiting' and p.state is distinct from 'waiting'
  on conflict (dedupe_key) do nothing
$$;
comment on function integration.refresh_pair(uuid, uuid) is
  'Recomputes the access state of an apartment''s bookings of one facility; records a double-booking alert for each booking that starts waiting.';

/*
 * The integration's hot SQL functions keep their plans.
 *
 * refresh_pair (every booking trigger), desired_permissions and managed_zones (every access level the
 * sync or the nightly cleanup reconciles) were `language sql` functions. PostgreSQL plans the body of
 * a non-inlined SQL function on every call, and refresh_pair's is large (the one-permission rule's
 * window functions, an upsert, the double-booking alert): about 1 ms of planning per booking, more
 * than the work itself. As PL/pgSQL the same statements are prepared once per connection and their
 * plans reused. Bodies and behaviour are unchanged (see 20261129001100 and 20261129001300).
 */

create or replace function integration.refresh_pair(p_apartment_id uuid, p_facility_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
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
    on conflict (dedupe_key) do nothing;
end;
$$;

create or replace function integration.desired_permissions(p_building_id uuid, p_access_level_id text)
returns table (
  zone_id text,
  facility_id uuid,
  window_start timestamptz,
  window_end timestamptz,
  booking_ids uuid[]
)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    select f.access_control_facility_id, f.id, p.group_start, p.group_end,
      pg_catalog.array_agg(p.booking_id order by p.window_start, p.booking_id)
    from public.apartments as a
    join public.facilities as f on f.building_id = a.building_id and f.access_control_facility_id is not null
    cross join lateral integration.pair_plan(a.id, f.id, integration.now()) as p
    where a.building_id = p_building_id
      and a.access_control_id = p_access_level_id
      and p.group_number = 1
    group by f.access_control_facility_id, f.id, p.group_start, p.group_end;
end;
$$;

create or replace function integration.managed_zones(p_building_id uuid, p_access_level_id text)
returns setof text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query
    select f.access_control_facility_id from public.facilities as f
    where f.building_id = p_building_id and f.access_control_facility_id is not null
    union
    select wp.zone_id from integration.written_permissions as wp
    where wp.building_id = p_building_id and wp.access_level_id = p_access_level_id;
end;
$$;

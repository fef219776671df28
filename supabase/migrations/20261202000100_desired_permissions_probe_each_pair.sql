/*
 * integration.desired_permissions_of finds its access levels' booked pairs by probing each pair.
 *
 * "Which of these apartments have a booking at which facility" was an EXISTS that PostgreSQL may turn
 * into a join against every booking: with the plan kept for the connection (PL/pgSQL chooses a generic
 * plan after five calls), a sync connection that planned it while the bookings table looked small
 * hashed all the bookings on every pass: 2.0 ms for one access level in benchmark 2, where the probes
 * take 0.1 ms, and run to run the same benchmark got one plan or the other. A LATERAL subquery with
 * LIMIT 1 is never flattened into a join: each apartment and facility of the building is looked up in
 * the bookings' (apartment, facility) index, whatever the statistics said when the plan was made. A
 * building has tens of facilities, and the sync asks for a few access levels at a time; the nightly
 * cleanup's whole building (200 access levels x 3 facilities in benchmark 5) is 600 index probes.
 * Same result as 20261129006200.
 */
create or replace function integration.desired_permissions_of(p_building_id uuid, p_access_level_ids text[])
returns table (
  access_level_id text,
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
declare
  apartment_ids uuid[];
  facility_ids uuid[];
begin
  -- The pairs of these access levels with a booking at all (most apartments have none at most
  -- facilities), on facilities with a Zone ID.
  select pg_catalog.array_agg(a.id), pg_catalog.array_agg(f.id)
  into apartment_ids, facility_ids
  from public.apartments as a
  join public.facilities as f on f.building_id = a.building_id and f.access_control_facility_id is not null
  cross join lateral (
    select from public.bookings as b where b.apartment_id = a.id and b.facility_id = f.id limit 1
  ) as booked
  where a.building_id = p_building_id
    and a.access_control_id = any (p_access_level_ids);

  return query
    select a.access_control_id, f.access_control_facility_id, f.id, p.group_start, p.group_end,
      pg_catalog.array_agg(p.booking_id order by p.window_start, p.booking_id)
    from integration.pairs_plan(apartment_ids, facility_ids, integration.now()) as p
    join public.apartments as a on a.id = p.apartment_id
    join public.facilities as f on f.id = p.facility_id
    where p.group_number = 1
    group by a.access_control_id, f.access_control_facility_id, f.id, p.group_start, p.group_end;
end;
$$;

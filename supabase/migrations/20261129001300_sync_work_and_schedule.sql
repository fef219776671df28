/*
 * The sync function's side of the outbox (claiming buildings, reading the desired permissions,
 * recording outcomes) and the minute job that notices time moving a permission on.
 *
 * Every function here is called by the salto-sync edge function through its direct database
 * connection, or by pg_cron; none is granted to API roles.
 */

/*
 * Leases: one invocation talks to one building's SALTO server at a time
 */

-- Claims every building that has due work and no live lease. Concurrent callers never get the same
-- building: the conflicting insert waits for the other transaction, then re-checks the lease.
-- Leases run on real time (not integration.now()), so a test moving the clock does not free them.
create function integration.claim_buildings(p_invocation uuid, p_lease interval, p_limit integer default 100)
returns setof uuid
language sql
security definer
set search_path = ''
as $$
  insert into integration.building_leases as l (building_id, leased_by, leased_until)
  select due.building_id, p_invocation, pg_catalog.clock_timestamp() + p_lease
  from (
    select distinct w.building_id
    from integration.access_level_work as w
    where w.not_before <= integration.now()
  ) as due
  left join integration.building_leases as held on held.building_id = due.building_id
  where held.building_id is null or held.leased_until < pg_catalog.clock_timestamp()
  limit p_limit
  on conflict (building_id) do update set leased_by = excluded.leased_by, leased_until = excluded.leased_until
    where l.leased_until < pg_catalog.clock_timestamp()
  returning l.building_id
$$;

-- Extends a lease the caller still holds; false when it was lost (expired and taken by another).
create function integration.renew_lease(p_building_id uuid, p_invocation uuid, p_lease interval)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with renewed as (
    update integration.building_leases as l set leased_until = pg_catalog.clock_timestamp() + p_lease
    where l.building_id = p_building_id and l.leased_by = p_invocation
    returning 1
  )
  select exists (select from renewed)
$$;

create function integration.release_lease(p_building_id uuid, p_invocation uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  delete from integration.building_leases as l
  where l.building_id = p_building_id and l.leased_by = p_invocation
$$;

/*
 * Desired state of an access level
 */

-- The zone permissions an access level should hold now, one per zone: the holding group's access
-- window for each facility the apartment has unfinished bookings of. Also lists every zone this
-- project manages for the access level (the building's facilities' Zone IDs and the zones it wrote
-- before); all other zone permissions of the access level are left untouched.
create function integration.desired_permissions(p_building_id uuid, p_access_level_id text)
returns table (
  zone_id text,
  facility_id uuid,
  window_start timestamptz,
  window_end timestamptz,
  booking_ids uuid[]
)
language sql
stable
security definer
set search_path = ''
as $$
  select f.access_control_facility_id, f.id, p.group_start, p.group_end,
    pg_catalog.array_agg(p.booking_id order by p.window_start, p.booking_id)
  from public.apartments as a
  join public.facilities as f on f.building_id = a.building_id and f.access_control_facility_id is not null
  cross join lateral integration.pair_plan(a.id, f.id, integration.now()) as p
  where a.building_id = p_building_id
    and a.access_control_id = p_access_level_id
    and p.group_number = 1
  group by f.access_control_facility_id, f.id, p.group_start, p.group_end
$$;

create function integration.managed_zones(p_building_id uuid, p_access_level_id text)
returns setof text
language sql
stable
security definer
set search_path = ''
as $$
  select f.access_control_facility_id from public.facilities as f
  where f.building_id = p_building_id and f.access_control_facility_id is not null
  union
  select wp.zone_id from integration.written_permissions as wp
  where wp.building_id = p_building_id and wp.access_level_id = p_access_level_id
$$;

/*
 * Time moves permissions on
 */

-- Run every minute by pg_cron: a waiting booking whose holder has finished gets the permission
-- (its state is recomputed and its access level queued), then the sync function is woken if any work
-- is due. Cheap when nothing is due: one index scan.
create function integration.tick()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  pair record;
begin
  for pair in
    select distinct ba.apartment_id, ba.facility_id
    from integration.booking_access as ba
    where ba.state = 'waiting' and ba.write_at <= integration.now()
  loop
    perform integration.pair_changed(pair.apartment_id, pair.facility_id);
  end loop;

  if exists (select from integration.access_level_work as w where w.not_before <= integration.now()) then
    perform integration.wake_sync();
  end if;
end;
$$;
comment on function integration.tick() is
  'Every minute: hands permissions to waiting bookings whose holder has finished, and wakes the sync function while work is due.';

select cron.schedule('salto-sync-every-minute', '* * * * *', 'select integration.tick()');

grant execute on all functions in schema integration to service_role;

-- Functions are executable by PUBLIC by default and per-schema default privileges cannot take that
-- back: revoke explicitly. Only the functions' own caller (service role, via the direct connection)
-- keeps them; triggers and pg_cron run as the owner.
revoke execute on all functions in schema integration from public;

/*
 * A sync pass reads which access levels use each timetable slot only when it must take a slot.
 *
 * integration.building_timetables brought, with the building's slots, every access level using each
 * slot: an aggregate over all the building's written permissions (hundreds to thousands), on every
 * pass, on the way from a booking to the door (about 0.4 ms of the 1.4 ms the pass's plans took in
 * benchmark 2). Who uses a slot matters only when a timetable needs a slot it does not have yet: a
 * slot is then recycled only when no other access level uses it. A running building's bookings
 * mostly reuse the hours of earlier ones, so the sync now asks for the slots alone
 * (integration.building_timetable_slots) and for their users when it must take a slot
 * (integration.building_timetable_users). integration.building_timetables (the nightly cleanup, the
 * operator CLI) brings both, as before, from the same two functions.
 */

-- What each reserved timetable slot holds, and whether SALTO is known to hold it.
create function integration.building_timetable_slots(p_building_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return coalesce((
    select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
      'slot', t.timetable_id, 'key', t.content_key, 'written', t.written_at is not null) order by t.timetable_id)
    from integration.timetable_slots as t
    where t.building_id = p_building_id), '[]'::jsonb);
end;
$$;
comment on function integration.building_timetable_slots(uuid) is
  'The building''s timetable slots (slot, content key, whether SALTO holds it), as JSON.';
revoke execute on function integration.building_timetable_slots(uuid) from public;
grant execute on function integration.building_timetable_slots(uuid) to service_role;

-- Per slot, the access levels whose written permissions use it.
create function integration.building_timetable_users(p_building_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return coalesce((
    -- Per slot, not per permission: a building's written permissions run to thousands, its slots
    -- to a few dozen (one JSON object per permission cost ~1 ms for 500 of them).
    select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
      'slot', u.timetable_id, 'access_level_ids', u.access_level_ids) order by u.timetable_id)
    from (
      select wp.timetable_id, pg_catalog.array_agg(distinct wp.access_level_id) as access_level_ids
      from integration.written_permissions as wp
      where wp.building_id = p_building_id
      group by wp.timetable_id
    ) as u), '[]'::jsonb);
end;
$$;
comment on function integration.building_timetable_users(uuid) is
  'Per timetable slot of the building, the access levels whose written permissions use it, as JSON.';
revoke execute on function integration.building_timetable_users(uuid) from public;
grant execute on function integration.building_timetable_users(uuid) to service_role;

-- Same result as in 20261130000000, from the two functions above.
create or replace function integration.building_timetables(p_building_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return pg_catalog.jsonb_build_object(
    'slots', integration.building_timetable_slots(p_building_id),
    'used', integration.building_timetable_users(p_building_id));
end;
$$;

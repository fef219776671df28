-- The building's reserved SALTO timetable slots and what each holds. Identical timetables share a
-- slot; a slot no written permission uses is recycled.
create table integration.timetable_slots (
  building_id uuid not null references public.buildings (id) on delete cascade,
  timetable_id integer not null,
  content_key text not null,
  intervals jsonb not null,
  written_at timestamptz,
  constraint timetable_slots_pkey primary key (building_id, timetable_id),
  constraint timetable_slots_content_unique unique (building_id, content_key)
);
comment on table integration.timetable_slots is
  'Contents of the SALTO timetable slots this project uses, per building; written_at null means not '
  'yet written to SALTO.';
grant select, insert, update, delete on table integration.timetable_slots to service_role;
alter table integration.timetable_slots enable row level security;

/*
 * A building's reserved range of SALTO timetable slots can move (integration.salto_servers
 * timetable_first and timetable_last: the SALTO administrator hands the old slots to something
 * else). A slot outside the range is no longer ours: the sync never writes it again, and the
 * permissions still using it move to a slot of the new range as their access levels are next
 * reconciled (the nightly cleanup reconciles every one).
 *
 * A timetable's content key is unique per building, so recording a slot forgets any other slot
 * holding the same timetable that SALTO never confirmed or that lies outside the range (the same
 * hours then take a slot of the new range). A confirmed slot inside the range is kept and the insert
 * fails: the pass started from a stale view of the slots, and the next pass reads them again
 * (forgetting that slot would let it be recycled under the permissions that use it).
 */
create function integration.save_timetable_slot(
  p_building_id uuid,
  p_timetable_id integer,
  p_content_key text,
  p_intervals jsonb,
  p_written boolean
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from integration.timetable_slots as ts
  where ts.building_id = p_building_id and ts.content_key = p_content_key
    and ts.timetable_id <> p_timetable_id
    and (ts.written_at is null or not exists (
      select from integration.salto_servers as s
      where s.building_id = p_building_id and ts.timetable_id between s.timetable_first and s.timetable_last));
  insert into integration.timetable_slots as ts (building_id, timetable_id, content_key, intervals, written_at)
  values (p_building_id, p_timetable_id, p_content_key, p_intervals, case when p_written then pg_catalog.now() end)
  on conflict (building_id, timetable_id) do update set
    content_key = excluded.content_key, intervals = excluded.intervals, written_at = excluded.written_at;
end;
$$;
comment on function integration.save_timetable_slot(uuid, integer, text, jsonb, boolean) is
  'Records what a reserved SALTO timetable slot holds (written = SALTO confirmed it); forgets '
  'another slot recorded with the same timetable that SALTO never confirmed or that is outside the '
  'building''s reserved range.';
revoke execute on function integration.save_timetable_slot(uuid, integer, text, jsonb, boolean) from public;
grant execute on function integration.save_timetable_slot(uuid, integer, text, jsonb, boolean) to service_role;

/*
 * Which access levels use each slot matters only when a timetable needs a slot it does not have yet
 * (a slot is recycled only when no other access level uses it), and reading it aggregates every
 * written permission of the building. So the sync reads the slots alone
 * (integration.building_timetable_slots) on every pass and their users only when it must take a slot
 * (integration.building_timetable_users); integration.building_timetables (the nightly cleanup, the
 * operator CLI) brings both.
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
    -- to a few dozen.
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

-- The slots and their users together, from the two functions above.
create function integration.building_timetables(p_building_id uuid)
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
comment on function integration.building_timetables(uuid) is
  'The building''s timetable slots (slot, content key, whether SALTO holds it) and, per slot, the '
  'access levels whose written permissions use it, as JSON.';
revoke execute on function integration.building_timetables(uuid) from public;
grant execute on function integration.building_timetables(uuid) to service_role;

-- Frees the building's timetable slots no written permission uses any more. SALTO keeps the slot's
-- content (nothing refers to it); the next timetable needing a slot overwrites it.
create function integration.recycle_timetable_slots(p_building_id uuid)
returns integer
language sql
security definer
set search_path = ''
as $$
  with recycled as (
    delete from integration.timetable_slots as ts
    where ts.building_id = p_building_id
      and not exists (
        select from integration.written_permissions as wp
        where wp.building_id = ts.building_id and wp.timetable_id = ts.timetable_id)
    returning 1
  )
  select pg_catalog.count(*)::integer from recycled
$$;
comment on function integration.recycle_timetable_slots(uuid) is
  'Deletes the building''s timetable slot records no written permission uses (the slots become free '
  'for reuse); returns how many.';
revoke execute on function integration.recycle_timetable_slots(uuid) from public;
grant execute on function integration.recycle_timetable_slots(uuid) to service_role;

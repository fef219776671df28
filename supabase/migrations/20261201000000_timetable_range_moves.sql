/*
 * A building's reserved range of SALTO timetable slots can move (integration.salto_servers
 * timetable_first and timetable_last: the SALTO administrator hands the old slots to something
 * else). A slot outside the range is no longer ours: the sync never writes it again, and the
 * permissions still using it move to a slot of the new range as their access levels are next
 * reconciled (the nightly cleanup reconciles every one).
 *
 * Its record kept its timetable's content key, which is unique per building: the same hours could
 * then never take a slot of the new range, and every sync pass that needed them failed on
 * timetable_slots_content_unique. Recording a slot now forgets any other slot holding the same
 * timetable that SALTO never confirmed (as before) or that lies outside the range. A confirmed slot
 * inside the range is kept, and the insert fails as before: the pass then started from a stale view
 * of the slots, and the next pass reads them again (forgetting that slot would let it be recycled
 * under the permissions that use it).
 */
create or replace function integration.save_timetable_slot(
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
  'Records what a reserved SALTO timetable slot holds (written = SALTO confirmed it); forgets another slot recorded with the same timetable that SALTO never confirmed or that is outside the building''s reserved range.';

/*
 * SALTO is read while the database plans (benchmark 2, booking to SALTO latency).
 *
 * After a round (integration.take_work) the sync needs two things before it can write an access
 * level: what SALTO holds for it now (one SHIP read) and what the bookings ask of it (its plan, and
 * the building's timetable slots). Neither needs the other, and on the way from a booking to the door
 * each took about 1.5 ms, one after the other, because the round brought the plans with it. The round
 * now brings each leased building's due access levels without their plans; the sync reads the first
 * from SALTO while it asks the database for the batch's plans and the building's timetables
 * (integration.access_level_plans, integration.building_timetables), then writes.
 *
 * Same signature and fold and lease as 20261130000000; `claimed` is one JSON object per leased
 * building: {building, due}, due being its first p_due_batch due access levels (access_level_id,
 * generation, attempts), oldest first. A generation is read before the plan, never after it, so an
 * outcome recorded for it can only leave a newer request queued, never complete one it did not serve.
 */
create or replace function integration.take_work(
  p_invocation uuid,
  p_lease interval,
  p_limit integer,
  p_fold_batch integer,
  p_due_batch integer,
  out claimed jsonb,
  out changes_left boolean,
  out seconds_until_due double precision
)
language plpgsql
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
  at timestamptz := integration.now();
  leased uuid[];
begin
  changes_left := integration.apply_booking_changes(p_fold_batch) >= p_fold_batch;
  -- A backlog of changes is folded before any building is leased: an access level is then read and
  -- written once with all its bookings' changes, not once per batch that reaches it.
  leased := case when p_limit > 0 and not changes_left
    then array(select integration.claim_buildings(p_invocation, p_lease, p_limit))
    else '{}'::uuid[] end;
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
      'building', integration.building_context(l.building_id),
      'due', (
        select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'access_level_id', d.access_level_id, 'generation', d.generation, 'attempts', d.attempts)
            order by d.requested_at, d.access_level_id), '[]'::jsonb)
        from (
          select w.access_level_id, w.generation, w.attempts, w.requested_at
          from integration.access_level_work as w
          where w.building_id = l.building_id and w.not_before <= at
          order by w.requested_at, w.access_level_id
          limit p_due_batch
        ) as d))
      order by l.building_id), '[]'::jsonb)
  into claimed
  from pg_catalog.unnest(leased) as l (building_id);
  -- 0 when work is due now (held by another invocation's lease), null when there is none.
  select case when min(w.not_before) is not null
      then extract(epoch from greatest(min(w.not_before), at) - at)::double precision end
  into seconds_until_due
  from integration.access_level_work as w;
end;
$$;
comment on function integration.take_work(uuid, interval, integer, integer, integer) is
  'One round of the sync: folds a batch of booking changes, leases buildings with due work (up to p_limit), and returns each leased building with its context and first p_due_batch due access levels (JSON), whether changes remain and the seconds until the next work falls due (null: none).';

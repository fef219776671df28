/*
 * A sync round brings the buildings it leased, and SALTO is read while the database plans
 * (benchmark 2, booking to SALTO latency).
 *
 * Once integration.take_work had leased a building, the sync asked for the building (its SALTO server,
 * credential, time zone), its timetable slots, the slots its written permissions use, and its due
 * access levels with their plans: four more queries, about 2 ms of a booking's ~10 ms on its way to
 * the door, before SALTO could be asked anything. Now take_work returns each leased building with its
 * context and its first due access levels, read in the transaction that leased it. The sync then needs
 * two things before it writes an access level: what SALTO holds for it (one SHIP read) and what the
 * bookings ask of it (its plan, and the building's timetable slots). Neither needs the other, and each
 * takes about as long: the first due access level is read from SALTO while the database plans
 * (integration.access_level_plans, integration.building_timetables).
 *
 * integration.building_context and integration.building_timetables are the two reads, as JSON, shared
 * by the round and by the callers that read one building (the nightly cleanup, the operator CLI), so
 * one mapping in src/shared/sync/store.ts serves all of them. They are PL/pgSQL, like
 * integration.claim_buildings now: a SQL function that cannot be inlined plans its statement at every
 * call (0.2-0.3 ms each here, on every round), PL/pgSQL keeps the plan for the connection.
 */

-- How to reach the building's SALTO (null when none is configured), its time zone and the timetable
-- slots reserved for this project. Holds the decrypted credential: service role only.
create function integration.building_context(p_building_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select pg_catalog.jsonb_build_object(
      'building_id', b.id,
      'timezone', b.timezone,
      'timetable_first', s.timetable_first,
      'timetable_last', s.timetable_last,
      'salto_server', case when s.building_id is not null then pg_catalog.jsonb_build_object(
        'transport', s.transport,
        'host', s.host,
        'port', s.port,
        'auth_mode', s.auth_mode,
        'basic_user', s.basic_user,
        'credential', (select v.decrypted_secret from vault.decrypted_secrets as v where v.name = s.credential_secret_name),
        'connect_timeout_ms', s.connect_timeout_ms,
        'reply_timeout_ms', s.reply_timeout_ms) end)
    from public.buildings as b
    left join integration.salto_servers as s on s.building_id = b.id
    where b.id = p_building_id);
end;
$$;
comment on function integration.building_context(uuid) is
  'The building''s time zone, reserved timetable slots and SALTO server with its decrypted credential (salto_server null when none is configured), as JSON; null when the building does not exist.';
revoke execute on function integration.building_context(uuid) from public;
grant execute on function integration.building_context(uuid) to service_role;

-- What each reserved timetable slot holds, and which access levels' written permissions use each slot
-- (src/shared/sync/building-timetables.ts keeps both current while the lease is held).
create function integration.building_timetables(p_building_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select pg_catalog.jsonb_build_object(
      'slots', coalesce((
        select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
          'slot', t.timetable_id, 'key', t.content_key, 'written', t.written_at is not null) order by t.timetable_id)
        from integration.timetable_slots as t
        where t.building_id = p_building_id), '[]'::jsonb),
      -- Per slot, not per permission: a building's written permissions run to thousands, its slots
      -- to a few dozen (one JSON object per permission cost ~1 ms for 500 of them).
      'used', coalesce((
        select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
          'slot', u.timetable_id, 'access_level_ids', u.access_level_ids) order by u.timetable_id)
        from (
          select wp.timetable_id, pg_catalog.array_agg(distinct wp.access_level_id) as access_level_ids
          from integration.written_permissions as wp
          where wp.building_id = p_building_id
          group by wp.timetable_id
        ) as u), '[]'::jsonb)));
end;
$$;
comment on function integration.building_timetables(uuid) is
  'The building''s timetable slots (slot, content key, whether SALTO holds it) and, per slot, the access levels whose written permissions use it, as JSON.';
revoke execute on function integration.building_timetables(uuid) from public;
grant execute on function integration.building_timetables(uuid) to service_role;

-- Same statement as in 20261129006100, planned once per connection (see above).
create or replace function integration.claim_buildings(p_invocation uuid, p_lease interval, p_limit integer default 100)
returns setof uuid
language plpgsql
security definer
set search_path = ''
as $$
begin
  return query
    insert into integration.building_leases as l (building_id, leased_by, leased_until)
    select due.building_id, p_invocation, pg_catalog.clock_timestamp() + p_lease
    from (
      select distinct w.building_id
      from integration.access_level_work as w
      where w.not_before <= (select integration.now())
    ) as due
    left join integration.building_leases as held on held.building_id = due.building_id
    where held.building_id is null or held.leased_until < pg_catalog.clock_timestamp()
    limit p_limit
    on conflict (building_id) do update set leased_by = excluded.leased_by, leased_until = excluded.leased_until
      where l.leased_until < pg_catalog.clock_timestamp()
    returning l.building_id;
end;
$$;

/*
 * The round. Same fold and lease as before (20261129006100); `claimed` is now one JSON object per
 * leased building: {building, due}, due being its first p_due_batch due access levels
 * (access_level_id, generation, attempts), oldest first, without their plans: the sync reads the first
 * from SALTO while it asks for the batch's plans and the building's timetables (see above). A
 * generation is read before the plan, never after it, so an outcome recorded for it can only leave a
 * newer request queued, never complete one it did not serve. The four-argument version goes: the
 * functions that call it are deployed with these migrations (README, "Deploying to a hosted Supabase
 * project").
 */
drop function integration.take_work(uuid, interval, integer, integer);

create function integration.take_work(
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
-- Planned once per connection: see 20261129006500.
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
revoke execute on function integration.take_work(uuid, interval, integer, integer, integer) from public;
grant execute on function integration.take_work(uuid, interval, integer, integer, integer) to service_role;

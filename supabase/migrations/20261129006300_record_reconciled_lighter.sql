/*
 * Recording a reconciled access level does only the statements it needs (benchmark 5).
 *
 * The nightly cleanup records one access level per SALTO write (10,000 in benchmark 5), most of them
 * with nothing written, no booking served, no failure and no alert: each empty statement still cost
 * an executor start, and the delete of the zones no longer written was planned anew at every call
 * (its zone list was a subquery over the JSON argument). Now the zone list is computed once, and the
 * statements with nothing to do are skipped. The recording is integration.record_reconciled_level;
 * record_reconciled is it plus the lease's renewal (integration.renew_lease), as in 20261129006100.
 */
create function integration.record_reconciled_level(
  p_building_id uuid,
  p_access_level_id text,
  p_generation bigint,
  p_written jsonb,
  p_failures jsonb,
  p_alerts jsonb
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  written_zone_ids text[] := array(select e ->> 'zone_id' from pg_catalog.jsonb_array_elements(p_written) as e);
  permission record;
  failure record;
begin
  delete from integration.written_permissions as wp
  where wp.building_id = p_building_id and wp.access_level_id = p_access_level_id
    and wp.zone_id <> all (written_zone_ids);

  if pg_catalog.cardinality(written_zone_ids) > 0 then
    insert into integration.written_permissions as wp
      (building_id, access_level_id, zone_id, timetable_id, period_start, period_end, booking_ids, written_at)
    select p_building_id, p_access_level_id, w.zone_id, w.timetable_id, w.period_start, w.period_end, w.booking_ids, pg_catalog.now()
    from pg_catalog.jsonb_to_recordset(p_written)
      as w (zone_id text, timetable_id integer, period_start date, period_end date, booking_ids uuid[])
    on conflict (building_id, access_level_id, zone_id) do update set
      timetable_id = excluded.timetable_id, period_start = excluded.period_start,
      period_end = excluded.period_end, booking_ids = excluded.booking_ids, written_at = excluded.written_at;

    -- Only bookings still served by exactly this window become active: a booking changed since the
    -- sync read the database has a newer state, and a newer work generation. The engine's times carry
    -- milliseconds; bookings may carry microseconds. One statement per permission (a handful): with
    -- the booking IDs as a value, not a column of a joined set, the booking_access primary key is used.
    for permission in
      select * from pg_catalog.jsonb_to_recordset(p_written)
        as p (timetable_id integer, period_start date, period_end date, booking_ids uuid[],
              window_start timestamptz, window_end timestamptz, exact boolean, reason text)
    loop
      update integration.booking_access as ba set
        state = 'active',
        reason = permission.reason,
        period_start = permission.period_start,
        period_end = permission.period_end,
        timetable_id = permission.timetable_id,
        exact = permission.exact,
        written_at = coalesce(ba.written_at, pg_catalog.now()),
        updated_at = pg_catalog.now()
      where ba.booking_id = any (permission.booking_ids)
        and ba.state in ('scheduled', 'active', 'failed')
        and pg_catalog.date_trunc('milliseconds', ba.window_start) = permission.window_start
        and pg_catalog.date_trunc('milliseconds', ba.window_end) = permission.window_end;
    end loop;
  end if;

  for failure in select * from pg_catalog.jsonb_to_recordset(p_failures) as f (booking_ids uuid[], reason text) loop
    update integration.booking_access as ba set state = 'failed', reason = failure.reason, updated_at = pg_catalog.now()
    where ba.booking_id = any (failure.booking_ids) and ba.state in ('scheduled', 'active', 'failed');
  end loop;

  if pg_catalog.jsonb_array_length(p_alerts) > 0 then
    insert into integration.alerts (building_id, kind, booking_id, details, dedupe_key)
    select p_building_id, a.kind, a.booking_id, coalesce(a.details, '{}'), a.dedupe_key
    from pg_catalog.jsonb_to_recordset(p_alerts) as a (kind text, dedupe_key text, booking_id uuid, details jsonb)
    on conflict (dedupe_key) do nothing;
  end if;

  -- Done, unless someone asked again while we worked: then it stays, for another pass, without
  -- backoff (its attempts are reset).
  delete from integration.access_level_work as work
  where work.building_id = p_building_id and work.access_level_id = p_access_level_id and work.generation = p_generation;
  if not found then
    update integration.access_level_work as work set attempts = 0, last_error = null
    where work.building_id = p_building_id and work.access_level_id = p_access_level_id
      and (work.attempts, work.last_error) is distinct from (0, null);
  end if;
end;
$$;
comment on function integration.record_reconciled_level(uuid, text, bigint, jsonb, jsonb, jsonb) is
  'Records one reconciled access level: written permissions, booking states, alerts, and the outbox row done (same generation only).';
revoke execute on function integration.record_reconciled_level(uuid, text, bigint, jsonb, jsonb, jsonb) from public;

create or replace function integration.record_reconciled(
  p_building_id uuid,
  p_access_level_id text,
  p_generation bigint,
  p_written jsonb,
  p_failures jsonb,
  p_alerts jsonb,
  p_invocation uuid,
  p_lease interval
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform integration.record_reconciled_level(p_building_id, p_access_level_id, p_generation, p_written, p_failures, p_alerts);
  return integration.renew_lease(p_building_id, p_invocation, p_lease);
end;
$$;

/*
 * Several reconciled access levels of one building recorded in one call (the nightly cleanup records
 * its access levels in batches while it goes on writing SALTO: one round trip for many).
 *   p_levels: [{access_level_id, generation, written, failures, alerts}], each as for record_reconciled.
 * Every access level is recorded (SALTO holds what was written, lease or not); returns whether the
 * caller still holds the building's lease.
 */
create function integration.record_reconciled_levels(
  p_building_id uuid,
  p_levels jsonb,
  p_invocation uuid,
  p_lease interval
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  level jsonb;
begin
  for level in select l from pg_catalog.jsonb_array_elements(p_levels) as l loop
    perform integration.record_reconciled_level(
      p_building_id, level ->> 'access_level_id', (level ->> 'generation')::bigint,
      level -> 'written', level -> 'failures', level -> 'alerts');
  end loop;
  -- Once for the batch (its lease row was updated once per access level).
  return integration.renew_lease(p_building_id, p_invocation, p_lease);
end;
$$;
comment on function integration.record_reconciled_levels(uuid, jsonb, uuid, interval) is
  'integration.record_reconciled_level for several access levels of a building in one call, then renews the caller''s lease once; returns whether the caller still holds it.';
revoke execute on function integration.record_reconciled_levels(uuid, jsonb, uuid, interval) from public;
grant execute on function integration.record_reconciled_levels(uuid, jsonb, uuid, interval) to service_role;

/*
 * The nightly cleanup's hand-overs also go through the outbox.
 *
 * integration.refresh_finished_pairs (20261129002000) recomputed access states only, trusting the
 * cleanup to write what changed. When SALTO is unreachable that night, a booking handed the
 * permission then sat "scheduled" with no outbox row: only the cleanup's own retries would write it,
 * and the sync's backoff and the unreachable-SALTO alert never saw it. Now each refreshed pair also
 * queues its access level (integration.pair_changed), exactly as the minute job does. When the
 * cleanup reaches SALTO it completes those outbox rows itself (same generation); the sync, woken, finds
 * the building leased to the cleanup and leaves it alone.
 */
create or replace function integration.refresh_finished_pairs(p_building_id uuid)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  pair record;
  refreshed integer := 0;
begin
  for pair in
    select distinct ba.apartment_id, ba.facility_id
    from integration.booking_access as ba
    where ba.building_id = p_building_id
      and ba.state <> 'released'
      and (ba.window_end <= integration.now() or (ba.state = 'waiting' and ba.write_at <= integration.now()))
  loop
    perform integration.pair_changed(pair.apartment_id, pair.facility_id);
    refreshed := refreshed + 1;
  end loop;
  return refreshed;
end;
$$;
comment on function integration.refresh_finished_pairs(uuid) is
  'Releases finished bookings and hands permissions to waiting bookings whose holder finished, for one building, queueing their access levels in the outbox; returns the pairs refreshed.';

revoke execute on function integration.refresh_finished_pairs(uuid) from public;
grant execute on function integration.refresh_finished_pairs(uuid) to service_role;

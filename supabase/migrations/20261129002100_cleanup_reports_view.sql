/*
 * What managers see of the nightly cleanup, through the API: each night's report per building, and
 * the Zone IDs and Access Control IDs SALTO does not know. Same pattern as 20261129001400: security
 * invoker views over integration tables whose row-level security scopes a manager to their buildings.
 */

grant select on integration.cleanup_runs to authenticated;

create policy "Managers can read cleanup reports of their buildings"
  on integration.cleanup_runs for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create view public.cleanup_reports
with (security_invoker = true)
as
  select
    r.id,
    r.building_id,
    r.local_date,
    r.status,
    r.attempts,
    r.started_at,
    r.finished_at,
    r.cleared,
    r.handed_over,
    r.repaired,
    r.synced,
    r.failed,
    r.slots_recycled,
    r.unknown_ids,
    r.access_levels_checked,
    r.salto_calls,
    r.details,
    r.errors
  from integration.cleanup_runs as r;

comment on view public.cleanup_reports is
  'Nightly cleanup report per building and local date: cleared (finished bookings'' permissions removed from SALTO), handed_over (given to the next waiting booking), repaired (SALTO edited by hand, put back), synced, failed; details lists each, errors each failed attempt. Managers see their buildings.';
comment on column public.cleanup_reports.local_date is 'The building-local date whose midnight the cleanup followed.';
comment on column public.cleanup_reports.status is 'running | completed | failed or unreachable (retried by the next call, every five minutes)';
comment on column public.cleanup_reports.cleared is 'Permissions of finished or cancelled bookings removed from SALTO.';
comment on column public.cleanup_reports.handed_over is 'Permissions of finished bookings given to the next waiting booking of the same apartment and facility.';
comment on column public.cleanup_reports.repaired is 'Permissions that SALTO had lost, or that were changed or added by hand in SALTO for a facility''s zone, put back as the bookings say.';
comment on column public.cleanup_reports.synced is 'Booking changes not yet in SALTO that the cleanup wrote.';
comment on column public.cleanup_reports.failed is 'Access levels or permissions that could not be brought in line; details.failed says why.';
comment on column public.cleanup_reports.slots_recycled is 'SALTO timetable slots freed for reuse.';
comment on column public.cleanup_reports.unknown_ids is 'Zone IDs and Access Control IDs SALTO did not know (see unknown_salto_ids).';
comment on column public.cleanup_reports.salto_calls is 'SHIP requests the cleanup sent to the building''s SALTO server.';

revoke all on public.cleanup_reports from anon, authenticated;
grant select on public.cleanup_reports to authenticated, service_role;

grant select on integration.unknown_salto_ids to authenticated;

create policy "Managers can read unknown SALTO IDs of their buildings"
  on integration.unknown_salto_ids for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create view public.unknown_salto_ids
with (security_invoker = true)
as
  select u.building_id, u.kind, u.salto_id, u.facility_id, u.apartment_id, u.first_seen_at, u.last_checked_at
  from integration.unknown_salto_ids as u;

comment on view public.unknown_salto_ids is
  'Facilities whose Access Control Facility ID is not a Zone ID in SALTO (kind zone), and apartments whose Access Control ID is not a User Access Level EXT ID in SALTO (kind access_level), as of the last nightly check. Managers see their buildings.';

revoke all on public.unknown_salto_ids from anon, authenticated;
grant select on public.unknown_salto_ids to authenticated, service_role;

/*
 * What managers and residents may see of the integration, through the API: each booking's SALTO access
 * state, and the alerts of their building.
 *
 * The views are security_invoker, so row-level security on the integration tables decides the rows:
 * a manager sees their buildings', a resident their apartment's bookings. The integration schema
 * itself stays out of the API's exposed schemas; only these views are reachable.
 */

grant usage on schema integration to authenticated;

-- Residents and managers read access states; nobody but the integration writes them.
grant select on integration.booking_access to authenticated;

create policy "Managers can read access states of their buildings' bookings"
  on integration.booking_access for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create policy "Residents can read access states of their apartment's bookings"
  on integration.booking_access for select to authenticated
  using (apartment_id = any (array(select private.resident_apartment_ids())));

create view public.booking_access_states
with (security_invoker = true)
as
  select
    ba.booking_id,
    ba.building_id,
    ba.apartment_id,
    ba.facility_id,
    ba.state,
    ba.reason,
    ba.access_level_id,
    ba.zone_id,
    ba.window_start as access_starts_at,
    ba.window_end as access_ends_at,
    ba.period_start,
    ba.period_end,
    ba.timetable_id,
    ba.exact,
    ba.write_at as written_from,
    ba.holder_booking_ids as waiting_for_booking_ids,
    ba.written_at,
    ba.updated_at
  from integration.booking_access as ba;

comment on view public.booking_access_states is
  'SALTO access of each booking: waiting (another booking of the same apartment and facility holds the one permission SALTO allows; written_from says when it will be written), scheduled (being written), active (in SALTO), released (finished or cancelled), failed (reason says what to fix). Managers see their buildings, residents their apartment.';
comment on column public.booking_access_states.state is 'waiting | scheduled | active | released | failed';
comment on column public.booking_access_states.reason is 'Why the booking is waiting or failed, or what SALTO cannot express exactly, in words a manager can act on.';
comment on column public.booking_access_states.access_level_id is 'The SALTO User Access Level EXT ID (the apartment''s Access Control ID) the permission is written to.';
comment on column public.booking_access_states.zone_id is 'The SALTO Zone ID (the facility''s Access Control Facility ID) the permission opens.';
comment on column public.booking_access_states.access_starts_at is 'When the key cards start to open the zone: the booking start minus the facility''s before-buffer (joined with touching bookings served by the same permission).';
comment on column public.booking_access_states.access_ends_at is 'When the key cards stop opening the zone.';
comment on column public.booking_access_states.period_start is 'First date of the SALTO Period written, in the building''s time zone.';
comment on column public.booking_access_states.period_end is 'Last date of the SALTO Period written, in the building''s time zone.';
comment on column public.booking_access_states.timetable_id is 'The SALTO Timetable (TimezoneTableID) written; 0 means always.';
comment on column public.booking_access_states.written_from is 'For a waiting booking: when the booking holding the permission finishes and this one is written.';

revoke all on public.booking_access_states from anon, authenticated;
grant select on public.booking_access_states to authenticated, service_role;

grant select on integration.alerts to authenticated;

create policy "Managers can read alerts of their buildings"
  on integration.alerts for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create view public.access_alerts
with (security_invoker = true)
as
  select a.id, a.building_id, a.kind, a.booking_id, a.details, a.created_at
  from integration.alerts as a;

comment on view public.access_alerts is
  'Alerts for building managers: double_booking, access_not_in_place, unknown_salto_id, salto_unreachable. Managers see their buildings'' alerts.';

revoke all on public.access_alerts from anon, authenticated;
grant select on public.access_alerts to authenticated, service_role;

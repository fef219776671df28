/*
 * Row-level security and API grants for the data model.
 *
 * Who may do what (roles as PostgREST sets them from the caller's JWT):
 * - anon: nothing. No grants, no policies: every table answers "permission denied".
 * - service_role (the edge functions, the connecX backend): every row. It bypasses RLS on hosted
 *   Supabase (and in the local stand-in); it is granted table privileges explicitly here.
 * - authenticated, as a manager (building_managers): reads their buildings and may edit a building's
 *   name and time zone (not create or delete buildings); reads and edits the booking policy of their
 *   buildings; reads, creates, edits and deletes apartments, facilities and bookings of their
 *   buildings, beyond the booking policy; reads the managers of their buildings; adds and removes
 *   residents of their apartments. Nothing moves between buildings. (Who receives alert emails is in
 *   public.alert_email_settings, for managers only: 80_alerts_and_email.sql.)
 * - authenticated, as a resident (apartment_residents): reads their apartment(s), their building, its
 *   facilities, its booking policy and their apartment's bookings; books for their own apartment in
 *   their own name, within the booking policy; cancels their apartment's bookings (status ->
 *   cancelled) but changes nothing else and deletes nothing; reads their own apartment_residents rows.
 * A user can be both (e.g. a manager living in the building); permissive policies add up.
 *
 * Form, following Supabase's RLS performance guidance: every policy is `to authenticated`; membership
 * is read through security definer helpers in `private` (they bypass RLS on the membership tables,
 * which would otherwise recurse into these policies), called once per statement as
 * `col = any (array(select private.helper()))`; auth.uid() is wrapped in a select for the same reason;
 * every column a policy filters on is the leading column of an index.
 */
/*
 * Membership helpers
 */
create function private.managed_building_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select bm.building_id
  from public.building_managers as bm
  where bm.user_id = (select auth.uid())
$$;
comment on function private.managed_building_ids() is
  'Ids of the buildings the calling user manages (empty for anon and the service role).';
revoke execute on function private.managed_building_ids() from public;
grant execute on function private.managed_building_ids() to authenticated, service_role;

create function private.managed_apartment_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select a.id
  from public.apartments as a
  where a.building_id in (
    select bm.building_id from public.building_managers as bm where bm.user_id = (select auth.uid())
  )
$$;
comment on function private.managed_apartment_ids() is
  'Ids of the apartments in the buildings the calling user manages.';
revoke execute on function private.managed_apartment_ids() from public;
grant execute on function private.managed_apartment_ids() to authenticated, service_role;

create function private.resident_apartment_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select ar.apartment_id
  from public.apartment_residents as ar
  where ar.user_id = (select auth.uid())
$$;
comment on function private.resident_apartment_ids() is
  'Ids of the apartments the calling user lives in.';
revoke execute on function private.resident_apartment_ids() from public;
grant execute on function private.resident_apartment_ids() to authenticated, service_role;

create function private.resident_building_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select distinct a.building_id
  from public.apartment_residents as ar
  join public.apartments as a on a.id = ar.apartment_id
  where ar.user_id = (select auth.uid())
$$;
comment on function private.resident_building_ids() is
  'Ids of the buildings the calling user lives in.';
revoke execute on function private.resident_building_ids() from public;
grant execute on function private.resident_building_ids() to authenticated, service_role;

create function private.is_building_manager(building_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select from public.building_managers as bm
    where bm.building_id = is_building_manager.building_id
      and bm.user_id = (select auth.uid())
  )
$$;
comment on function private.is_building_manager(uuid) is
  'Whether the calling user manages the given building. For triggers; policies use managed_building_ids().';
revoke execute on function private.is_building_manager(uuid) from public;
grant execute on function private.is_building_manager(uuid) to authenticated, service_role;

/*
 * What a resident may change in a booking
 */
-- Row-level security decides which rows a resident may update (their apartment's bookings), not which
-- columns: one policy cannot tell a cancellation from a change of time. This trigger does. It applies
-- only to API users (current_user authenticated) who do not manage the booking's building; the service
-- role, Studio (postgres) and triggers of security definer functions are trusted writers. A cancelled
-- booking is not re-confirmed by a resident: that would take a permission slot without a new booking.
create function private.bookings_restrict_resident_changes()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user <> 'authenticated' or private.is_building_manager(old.building_id) then
    return new;
  end if;

  if (new.facility_id, new.apartment_id, new.starts_at, new.ends_at, new.building_id, new.created_by, new.created_at)
       is distinct from
     (old.facility_id, old.apartment_id, old.starts_at, old.ends_at, old.building_id, old.created_by, old.created_at)
     or (new.status <> old.status and new.status <> 'cancelled') then
    raise exception using
      errcode = 'insufficient_privilege',
      message = 'Residents can only cancel a booking.',
      detail = 'Changing its time, facility or apartment, or confirming it again, is for the building''s managers.',
      hint = 'Cancel this booking and make a new one, or ask your building manager.',
      schema = 'public', table = 'bookings';
  end if;

  return new;
end;
$$;
comment on function private.bookings_restrict_resident_changes() is
  'Trigger: lets a resident (an authenticated user who does not manage the building) change only a '
  'booking''s status, and only to cancelled.';
revoke execute on function private.bookings_restrict_resident_changes() from public;
create trigger restrict_resident_changes
  before update on public.bookings
  for each row execute function private.bookings_restrict_resident_changes();

/*
 * Policies: buildings
 */
create policy "Managers can view their buildings"
  on public.buildings for select to authenticated
  using (id = any (array(select private.managed_building_ids())));

create policy "Residents can view their building"
  on public.buildings for select to authenticated
  using (id = any (array(select private.resident_building_ids())));

create policy "Managers can update their buildings"
  on public.buildings for update to authenticated
  using (id = any (array(select private.managed_building_ids())))
  with check (id = any (array(select private.managed_building_ids())));

/*
 * Policies: building_managers
 */
create policy "Managers can view the managers of their buildings"
  on public.building_managers for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

/*
 * Policies: apartments
 */
create policy "Managers can view apartments of their buildings"
  on public.apartments for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can create apartments in their buildings"
  on public.apartments for insert to authenticated
  with check (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can update apartments of their buildings"
  on public.apartments for update to authenticated
  using (building_id = any (array(select private.managed_building_ids())))
  with check (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can delete apartments of their buildings"
  on public.apartments for delete to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create policy "Residents can view their apartments"
  on public.apartments for select to authenticated
  using (id = any (array(select private.resident_apartment_ids())));

/*
 * Policies: apartment_residents
 */
create policy "Managers can view the residents of their apartments"
  on public.apartment_residents for select to authenticated
  using (apartment_id = any (array(select private.managed_apartment_ids())));

create policy "Managers can add residents to their apartments"
  on public.apartment_residents for insert to authenticated
  with check (apartment_id = any (array(select private.managed_apartment_ids())));

create policy "Managers can remove residents from their apartments"
  on public.apartment_residents for delete to authenticated
  using (apartment_id = any (array(select private.managed_apartment_ids())));

create policy "Residents can view their own residencies"
  on public.apartment_residents for select to authenticated
  using (user_id = (select auth.uid()));

/*
 * Policies: facilities
 */
create policy "Managers can view facilities of their buildings"
  on public.facilities for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can create facilities in their buildings"
  on public.facilities for insert to authenticated
  with check (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can update facilities of their buildings"
  on public.facilities for update to authenticated
  using (building_id = any (array(select private.managed_building_ids())))
  with check (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can delete facilities of their buildings"
  on public.facilities for delete to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create policy "Residents can view the facilities of their building"
  on public.facilities for select to authenticated
  using (building_id = any (array(select private.resident_building_ids())));

/*
 * Policies: booking_policies (rows are created with the building; nobody inserts or deletes them
 * through the API)
 */
create policy "Managers can view the booking policy of their buildings"
  on public.booking_policies for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can update the booking policy of their buildings"
  on public.booking_policies for update to authenticated
  using (building_id = any (array(select private.managed_building_ids())))
  with check (building_id = any (array(select private.managed_building_ids())));

-- So the app can show residents the limits before they book.
create policy "Residents can view their building's booking policy"
  on public.booking_policies for select to authenticated
  using (building_id = any (array(select private.resident_building_ids())));

/*
 * Policies: bookings
 */
create policy "Managers can view bookings of their buildings"
  on public.bookings for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

-- created_by must be the caller: a booking's author is not forgeable through the API.
create policy "Managers can create bookings in their buildings"
  on public.bookings for insert to authenticated
  with check (
    building_id = any (array(select private.managed_building_ids()))
    and created_by = (select auth.uid())
  );

create policy "Managers can update bookings of their buildings"
  on public.bookings for update to authenticated
  using (building_id = any (array(select private.managed_building_ids())))
  with check (building_id = any (array(select private.managed_building_ids())));

create policy "Managers can delete bookings of their buildings"
  on public.bookings for delete to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

create policy "Residents can view their apartment's bookings"
  on public.bookings for select to authenticated
  using (apartment_id = any (array(select private.resident_apartment_ids())));

create policy "Residents can book for their apartment"
  on public.bookings for insert to authenticated
  with check (
    apartment_id = any (array(select private.resident_apartment_ids()))
    and created_by = (select auth.uid())
  );

-- Which columns may change is restricted by the restrict_resident_changes trigger: only status, to cancelled.
create policy "Residents can cancel their apartment's bookings"
  on public.bookings for update to authenticated
  using (apartment_id = any (array(select private.resident_apartment_ids())))
  with check (apartment_id = any (array(select private.resident_apartment_ids())));

/*
 * Bookings: an apartment's use of a facility for a time window. A confirmed booking is what the
 * integration turns into a SALTO zone permission on the apartment's access level.
 *
 * building_id is derived from the facility (never chosen by the writer) and is what row-level security
 * filters on. Composite foreign keys (facility_id, building_id) and (apartment_id, building_id) make
 * "facility and apartment in one building" a guarantee of the database; the check_row trigger explains
 * a violation in words before those keys would reject it.
 *
 * Row-level security is enabled with API grants revoked; policies and grants are in 20261129000400.
 */

create table public.bookings (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null,
  facility_id uuid not null,
  apartment_id uuid not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  status text not null default 'confirmed',
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint bookings_ends_after_start check (ends_at > starts_at),
  constraint bookings_status_valid check (status in ('confirmed', 'cancelled')),
  -- Restrict: a facility or apartment with bookings is not deleted by accident; delete (or keep) its
  -- bookings first, which also lets the integration withdraw their SALTO permissions.
  constraint bookings_facility_in_building_fkey foreign key (facility_id, building_id)
    references public.facilities (id, building_id) on delete restrict,
  constraint bookings_apartment_in_building_fkey foreign key (apartment_id, building_id)
    references public.apartments (id, building_id) on delete restrict
);
alter table public.bookings enable row level security;
revoke all on table public.bookings from anon, authenticated;

-- Managers' policies and building-wide views filter by building; residents' by apartment; the
-- integration looks up a facility's bookings by time. Each index also covers its foreign key.
create index bookings_building_id_starts_at_idx on public.bookings (building_id, starts_at);
create index bookings_apartment_id_starts_at_idx on public.bookings (apartment_id, starts_at);
create index bookings_facility_id_starts_at_idx on public.bookings (facility_id, starts_at);
create index bookings_created_by_idx on public.bookings (created_by);

comment on table public.bookings is
  'A booking of a facility by an apartment. While confirmed, the apartment''s key cards get access to the facility''s SALTO zone for starts_at to ends_at, widened by the facility''s access buffers. Cancel by setting status to cancelled.';
comment on column public.bookings.building_id is
  'The building of the facility, filled in automatically; the apartment must be in the same building. Cannot change.';
comment on column public.bookings.starts_at is 'When the booking starts (stored as an instant; shown in the building''s time zone).';
comment on column public.bookings.ends_at is 'When the booking ends; must be after starts_at.';
comment on column public.bookings.status is
  'confirmed: the apartment gets access for the booking''s time. cancelled: the booking no longer gives access (the permission is withdrawn from SALTO).';
comment on column public.bookings.created_by is
  'The user who made the booking (auth.users.id); null when made by the connecX backend with the service role.';

-- Runs as the table owner (security definer) so that deriving the building and comparing it with the
-- apartment's does not depend on what the writer can see: authorization is row-level security's job,
-- which still checks the finished row afterwards. It reveals nothing beyond what the foreign keys'
-- own errors would.
create function private.bookings_check_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  facility_building_id uuid;
  apartment_building_id uuid;
begin
  select f.building_id into facility_building_id from public.facilities as f where f.id = new.facility_id;
  if facility_building_id is null then
    raise exception using
      errcode = 'foreign_key_violation',
      message = pg_catalog.format('There is no facility with id %s.', new.facility_id),
      schema = 'public', table = 'bookings', column = 'facility_id', constraint = 'bookings_facility_in_building_fkey';
  end if;

  select a.building_id into apartment_building_id from public.apartments as a where a.id = new.apartment_id;
  if apartment_building_id is null then
    raise exception using
      errcode = 'foreign_key_violation',
      message = pg_catalog.format('There is no apartment with id %s.', new.apartment_id),
      schema = 'public', table = 'bookings', column = 'apartment_id', constraint = 'bookings_apartment_in_building_fkey';
  end if;

  if tg_op = 'UPDATE' and (facility_building_id <> old.building_id or new.building_id is distinct from old.building_id) then
    raise exception using
      errcode = 'check_violation',
      message = 'A booking cannot be moved to another building.',
      detail = pg_catalog.format('The booking is in building %s; the requested change would put it in building %s.',
        old.building_id, case when new.building_id is distinct from old.building_id then new.building_id else facility_building_id end),
      hint = 'Choose a facility and an apartment of the booking''s own building, or cancel it and book in the other building.',
      schema = 'public', table = 'bookings', column = 'building_id';
  end if;

  if tg_op = 'INSERT' and new.building_id is not null and new.building_id <> facility_building_id then
    raise exception using
      errcode = 'check_violation',
      message = 'The building of a booking must be the building of its facility.',
      detail = pg_catalog.format('Facility %s is in building %s, not %s.', new.facility_id, facility_building_id, new.building_id),
      hint = 'Leave building_id out: it is filled in from the facility.',
      schema = 'public', table = 'bookings', column = 'building_id';
  end if;

  if apartment_building_id <> facility_building_id then
    raise exception using
      errcode = 'check_violation',
      message = 'The facility and the apartment of a booking must be in the same building.',
      detail = pg_catalog.format('Facility %s is in building %s; apartment %s is in building %s.',
        new.facility_id, facility_building_id, new.apartment_id, apartment_building_id),
      hint = 'Book a facility of the apartment''s own building.',
      schema = 'public', table = 'bookings', column = 'apartment_id', constraint = 'bookings_apartment_in_building_fkey';
  end if;

  if new.ends_at <= new.starts_at then
    raise exception using
      errcode = 'check_violation',
      message = 'A booking must end after it starts.',
      detail = pg_catalog.format('starts_at is %s and ends_at is %s.', new.starts_at, new.ends_at),
      hint = 'Set ends_at to a later time than starts_at.',
      schema = 'public', table = 'bookings', column = 'ends_at', constraint = 'bookings_ends_after_start';
  end if;

  if new.status not in ('confirmed', 'cancelled') then
    raise exception using
      errcode = 'check_violation',
      message = pg_catalog.format('%L is not a booking status.', new.status),
      hint = 'Use confirmed or cancelled.',
      schema = 'public', table = 'bookings', column = 'status', constraint = 'bookings_status_valid';
  end if;

  new.building_id := facility_building_id;
  return new;
end;
$$;
comment on function private.bookings_check_row() is
  'Trigger: fills bookings.building_id from the facility, keeps it fixed, and explains in words a booking that the constraints would reject (facility and apartment in different buildings, end not after start, unknown status).';

create trigger check_row
  before insert or update on public.bookings
  for each row execute function private.bookings_check_row();

create trigger set_updated_at
  before update on public.bookings
  for each row execute function private.set_updated_at();

-- Functions are executable by PUBLIC by default; the trigger needs no grant to fire.
revoke execute on all functions in schema private from public;

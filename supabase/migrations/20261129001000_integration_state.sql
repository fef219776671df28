/*
 * The integration's own state: where each building's SALTO server is, which SALTO access levels must
 * be brought in line (the durable outbox), what this project last wrote to SALTO, the timetable slots
 * it uses, the access state of every booking, and alerts for managers.
 *
 * Lives in the `integration` schema, which is not exposed through the API. Managers reach what they
 * need through views in public (20261129001400) that row-level security scopes to their building.
 * RLS is enabled on every table here anyway, with no policy unless one is needed, as a second fence.
 */

create schema if not exists integration;
comment on schema integration is
  'State of the connecX -> SALTO integration (outbox, written permissions, timetable slots, booking access states, alerts). Not exposed through the API.';
revoke all on schema integration from public;

grant usage on schema integration to service_role;

/*
 * Clock
 */

-- The integration reads time through integration.now(), never now() directly, so that tests and the
-- demo can move time forward ("the first booking has ended") instead of waiting for hours. In
-- production the offset row never exists and integration.now() is exactly now().
create table integration.clock_offset (
  id boolean primary key default true check (id),
  shift interval not null
);
alter table integration.clock_offset enable row level security;
comment on table integration.clock_offset is
  'Tests and demos only: moves the integration''s clock forward by `shift`. Absent in production.';

create function integration.now()
returns timestamptz
language sql
stable
set search_path = ''
as $$
  select pg_catalog.now() + coalesce((select c.shift from integration.clock_offset as c), interval '0')
$$;
comment on function integration.now() is
  'The time the integration acts on: now(), plus the test/demo clock offset when one is set.';

/*
 * SALTO servers
 */

-- One SALTO ProAccess SPACE server per building, reached over the internet (HTTPS with the Custom key
-- is the usual setup) or TCP/STP. The credential itself is a Vault secret, never a column.
create table integration.salto_servers (
  building_id uuid primary key references public.buildings (id) on delete cascade,
  transport text not null default 'https' check (transport in ('http', 'https', 'stp')),
  host text not null check (host <> ''),
  port integer not null check (port between 1 and 65535),
  auth_mode text not null default 'key' check (auth_mode in ('none', 'basic', 'key')),
  basic_user text,
  -- Name of the Vault secret holding the SHIP key (auth_mode key) or the Basic password.
  credential_secret_name text,
  -- The numbered timetable slots SALTO reserves for this integration (site configuration).
  timetable_first integer not null default 200,
  timetable_last integer not null default 254,
  connect_timeout_ms integer not null default 5000 check (connect_timeout_ms > 0),
  reply_timeout_ms integer not null default 15000 check (reply_timeout_ms > 0),
  constraint salto_servers_timetable_range check (timetable_first between 1 and timetable_last),
  constraint salto_servers_credential check (auth_mode = 'none' or credential_secret_name is not null),
  constraint salto_servers_basic_user check (auth_mode <> 'basic' or basic_user is not null)
);
alter table integration.salto_servers enable row level security;
comment on table integration.salto_servers is
  'How to reach each building''s SALTO ProAccess SPACE (SHIP over HTTPS or TCP/STP) and which timetable slots the integration may use there. The credential is the Vault secret named in credential_secret_name.';

/*
 * The outbox: access levels to bring in line with the bookings
 */

-- One row per SALTO access level whose zone permissions may differ from what the bookings ask for.
-- Written by triggers in the transaction that changed the bookings (a rollback leaves no row, a commit
-- is never forgotten) and by the minute job when time moves a permission on. The sync function claims
-- rows, reconciles, and deletes a row only if nobody asked again meanwhile (generation unchanged).
create table integration.access_level_work (
  building_id uuid not null references public.buildings (id) on delete cascade,
  access_level_id text not null,
  generation bigint not null default 1,
  requested_at timestamptz not null default now(),
  -- Backoff after a transient failure: not claimed before this time.
  not_before timestamptz not null default '-infinity',
  attempts integer not null default 0,
  last_error text,
  constraint access_level_work_pkey primary key (building_id, access_level_id)
);
alter table integration.access_level_work enable row level security;
create index access_level_work_due_idx on integration.access_level_work (not_before);
comment on table integration.access_level_work is
  'Durable outbox: SALTO access levels (by building and ExtGroupID) whose zone permissions must be reconciled with the bookings. Safe to repeat: the sync is level-triggered.';

-- Calls to one building's SALTO server are serialised: an invocation holds the building's lease while
-- it talks to that server. A crashed invocation's lease simply expires.
create table integration.building_leases (
  building_id uuid primary key references public.buildings (id) on delete cascade,
  leased_by uuid not null,
  leased_until timestamptz not null
);
alter table integration.building_leases enable row level security;
comment on table integration.building_leases is
  'Which sync invocation is talking to a building''s SALTO server, until when. Expired leases are free.';

/*
 * What this project wrote to SALTO
 */

-- The zone permissions this project last wrote, per access level and zone. It tells which zone
-- permissions of an access level are ours to change (every other one is permanent and untouched),
-- lets a changed Zone ID remove the permission from the old zone, and shows which timetable slots are in use.
create table integration.written_permissions (
  building_id uuid not null references public.buildings (id) on delete cascade,
  access_level_id text not null,
  zone_id text not null,
  timetable_id integer not null,
  period_start date not null,
  period_end date not null,
  written_at timestamptz not null default now(),
  constraint written_permissions_pkey primary key (building_id, access_level_id, zone_id)
);
alter table integration.written_permissions enable row level security;
comment on table integration.written_permissions is
  'Zone permissions this project has written to SALTO (one per access level and zone, as SALTO holds them).';

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
alter table integration.timetable_slots enable row level security;
comment on table integration.timetable_slots is
  'Contents of the SALTO timetable slots this project uses, per building; written_at null means not yet written to SALTO.';

/*
 * Booking access states
 */

-- What each booking's access looks like, for managers and residents: waiting for another booking of
-- the same apartment and facility to finish, scheduled (to be written), active in SALTO, released,
-- or failed with the reason a manager can act on.
create table integration.booking_access (
  booking_id uuid primary key references public.bookings (id) on delete cascade,
  building_id uuid not null,
  apartment_id uuid not null,
  facility_id uuid not null,
  state text not null check (state in ('waiting', 'scheduled', 'active', 'released', 'failed')),
  reason text,
  access_level_id text,
  zone_id text,
  -- The access window of the permission serving this booking (its own window widened by the
  -- facility's buffers, joined with the bookings it is served together with).
  window_start timestamptz,
  window_end timestamptz,
  period_start date,
  period_end date,
  timetable_id integer,
  -- False when SALTO cannot express the window exactly (see reason): whole days are granted.
  exact boolean,
  -- Waiting: when the permission will be written (the holder finishes).
  write_at timestamptz,
  -- The bookings currently holding the permission this one waits for.
  holder_booking_ids uuid[],
  written_at timestamptz,
  updated_at timestamptz not null default now()
);
alter table integration.booking_access enable row level security;
create index booking_access_building_id_idx on integration.booking_access (building_id);
create index booking_access_apartment_id_idx on integration.booking_access (apartment_id);
create index booking_access_write_at_idx on integration.booking_access (write_at) where state = 'waiting';
comment on table integration.booking_access is
  'Access state of each booking: waiting, scheduled, active (in SALTO), released, or failed with a reason.';

/*
 * Alerts
 */

-- Facts a building manager must hear about. One row per fact (dedupe_key), so repeating the same
-- situation never repeats the alert; the email outbox (alerts issue) sends them.
create table integration.alerts (
  id uuid primary key default gen_random_uuid(),
  building_id uuid not null references public.buildings (id) on delete cascade,
  kind text not null check (kind in ('double_booking', 'access_not_in_place', 'unknown_salto_id', 'salto_unreachable')),
  booking_id uuid references public.bookings (id) on delete set null,
  details jsonb not null default '{}',
  dedupe_key text not null unique,
  created_at timestamptz not null default now()
);
alter table integration.alerts enable row level security;
create index alerts_building_id_created_at_idx on integration.alerts (building_id, created_at desc);
create index alerts_booking_id_idx on integration.alerts (booking_id);
comment on table integration.alerts is
  'Alerts for building managers (double booking, access not in place, unknown SALTO ID, SALTO unreachable), one per fact.';

grant select, insert, update, delete on all tables in schema integration to service_role;

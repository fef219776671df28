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
  constraint salto_servers_basic_user check (auth_mode <> 'basic' or basic_user is not null),
  -- 'shadow': the sync reads SALTO and records the writes it would make, sending none; 'live': it
  -- writes. A newly connected server starts in shadow (docs/decisions/0026).
  writes text not null default 'shadow' constraint salto_servers_writes_valid check (writes in ('shadow', 'live'))
);
comment on table integration.salto_servers is
  'How to reach each building''s SALTO ProAccess SPACE (SHIP over HTTPS or TCP/STP) and which '
  'timetable slots the integration may use there. The credential is the Vault secret named in '
  'credential_secret_name.';
comment on column integration.salto_servers.writes is
  'shadow: the sync computes and records the writes it would make (integration.salto_traffic, '
  'sent = false) without sending them; live: it writes. New servers start in shadow until a manager '
  'switches the building live (public.switch_salto_live).';
grant select, insert, update, delete on table integration.salto_servers to service_role;
alter table integration.salto_servers enable row level security;

-- Calls to one building's SALTO server are serialised: an invocation holds the building's lease while
-- it talks to that server. A crashed invocation's lease simply expires.
create table integration.building_leases (
  building_id uuid primary key references public.buildings (id) on delete cascade,
  leased_by uuid not null,
  leased_until timestamptz not null
);
comment on table integration.building_leases is
  'Which sync invocation is talking to a building''s SALTO server, until when. Expired leases are free.';
grant select, insert, update, delete on table integration.building_leases to service_role;
alter table integration.building_leases enable row level security;

/*
 * A sync round (integration.take_work) folds booking changes, leases the buildings with due work and
 * returns each with its context and first due access levels, read in the transaction that leased it.
 * The sync then reads SALTO for the first access level while the database computes its desired
 * permissions and the building's timetable slots: neither waits for the other.
 *
 * integration.building_context and integration.building_timetables are the two reads of one building,
 * as JSON, shared by the round, the nightly cleanup and the operator CLI (one mapping in
 * src/shared/sync/store.ts). Functions on the booking's path to SALTO are PL/pgSQL, which keeps their
 * plans for the connection; a SQL function that cannot be inlined is planned at every call.
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
        'reply_timeout_ms', s.reply_timeout_ms) end,
      'writes', s.writes)
    from public.buildings as b
    left join integration.salto_servers as s on s.building_id = b.id
    where b.id = p_building_id);
end;
$$;
comment on function integration.building_context(uuid) is
  'The building''s time zone, reserved timetable slots and SALTO server with its decrypted '
  'credential (salto_server null when none is configured), and whether writes are live or shadow, '
  'as JSON; null when the building does not exist.';
revoke execute on function integration.building_context(uuid) from public;
grant execute on function integration.building_context(uuid) to service_role;

/*
 * The building's SALTO server: one talker at a time
 */
-- Takes one building's lease (integration.building_leases, shared with the sync) unless another
-- invocation holds it. The cleanup holds it while it talks to the building's SALTO server, so it never
-- writes an access level at the same time as a sync invocation.
create function integration.take_building_lease(p_building_id uuid, p_invocation uuid, p_lease interval)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with taken as (
    insert into integration.building_leases as l (building_id, leased_by, leased_until)
    values (p_building_id, p_invocation, pg_catalog.clock_timestamp() + p_lease)
    on conflict (building_id) do update set leased_by = excluded.leased_by, leased_until = excluded.leased_until
      where l.leased_until < pg_catalog.clock_timestamp() or l.leased_by = excluded.leased_by
    returning 1
  )
  select exists (select from taken)
$$;
comment on function integration.take_building_lease(uuid, uuid, interval) is
  'Takes a building''s SALTO lease for an invocation unless another live invocation holds it.';
revoke execute on function integration.take_building_lease(uuid, uuid, interval) from public;
grant execute on function integration.take_building_lease(uuid, uuid, interval) to service_role;

-- Extends a lease the caller still holds; false when it was lost (expired and taken by another).
create function integration.renew_lease(p_building_id uuid, p_invocation uuid, p_lease interval)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with renewed as (
    update integration.building_leases as l set leased_until = pg_catalog.clock_timestamp() + p_lease
    where l.building_id = p_building_id and l.leased_by = p_invocation
    returning 1
  )
  select exists (select from renewed)
$$;
revoke execute on function integration.renew_lease(uuid, uuid, interval) from public;
grant execute on function integration.renew_lease(uuid, uuid, interval) to service_role;

create function integration.release_lease(p_building_id uuid, p_invocation uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  delete from integration.building_leases as l
  where l.building_id = p_building_id and l.leased_by = p_invocation
$$;
revoke execute on function integration.release_lease(uuid, uuid) from public;
grant execute on function integration.release_lease(uuid, uuid) to service_role;

-- Leases the buildings with due work that no live invocation holds (up to p_limit), once their booking
-- changes are folded: an access level is then read and written once with all its bookings' changes,
-- and a building that is still folding a backlog never holds back another one.
create function integration.lease_buildings(p_invocation uuid, p_lease interval, p_limit integer default 100)
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
      select w.building_id, pg_catalog.min(w.requested_at) as waiting_since
      from integration.access_level_work as w
      where w.not_before <= (select integration.now())
        and not exists (select from integration.booking_changes as c where c.building_id = w.building_id)
      group by w.building_id
    ) as due
    left join integration.building_leases as held on held.building_id = due.building_id
    where held.building_id is null or held.leased_until < pg_catalog.clock_timestamp()
    -- The building waiting longest first: with more buildings due than a pass writes at once, none
    -- is passed over again and again.
    order by due.waiting_since, due.building_id
    limit p_limit
    on conflict (building_id) do update set leased_by = excluded.leased_by, leased_until = excluded.leased_until
      where l.leased_until < pg_catalog.clock_timestamp()
    returning l.building_id;
end;
$$;
comment on function integration.lease_buildings(uuid, interval, integer) is
  'Leases up to p_limit buildings with due access level work whose booking changes are all folded, '
  'the longest waiting first; returns their ids.';
revoke execute on function integration.lease_buildings(uuid, interval, integer) from public;
grant execute on function integration.lease_buildings(uuid, interval, integer) to service_role;

create function integration.take_work(
  p_invocation uuid,
  p_lease interval,
  p_limit integer,
  p_due_batch integer,
  out leased_buildings jsonb,
  out changes_left boolean,
  out seconds_until_due double precision
)
language plpgsql
security definer
set search_path = ''
-- Runs on every round: its plan is kept for the connection.
set plan_cache_mode = force_generic_plan
as $$
declare
  at timestamptz := integration.now();
  leased uuid[];
  folded integer;
begin
  -- Changes are left when this batch was full, or took some while others wait (a batch takes at
  -- most fold_batch_per_building() of a building's). A batch that took none leaves the rest to the
  -- folds holding them, and the caller does not ask again at once.
  folded := integration.apply_booking_changes();
  changes_left := folded >= integration.fold_batch()
    or (folded > 0 and exists (select from integration.booking_changes));
  leased := case when p_limit > 0
    then array(select integration.lease_buildings(p_invocation, p_lease, p_limit))
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
  into leased_buildings
  from pg_catalog.unnest(leased) as l (building_id);
  -- 0 when work is due now (held by another invocation's lease), null when there is none.
  select case when min(w.not_before) is not null
      then extract(epoch from greatest(min(w.not_before), at) - at)::double precision end
  into seconds_until_due
  from integration.access_level_work as w;
end;
$$;
comment on function integration.take_work(uuid, interval, integer, integer) is
  'One round of the sync: folds a batch of booking changes, leases buildings with due work (up to '
  'p_limit), and returns each leased building with its context and first p_due_batch due access '
  'levels (JSON), whether changes remain and the seconds until the next work falls due (null: '
  'none).';
revoke execute on function integration.take_work(uuid, interval, integer, integer) from public;
grant execute on function integration.take_work(uuid, interval, integer, integer) to service_role;

/*
 * SALTO traffic log and shadow mode
 */
-- The SHIP requests and replies of each building's sync, kept for support: the latest few hundred per
-- building (integration.record_salto_traffic trims on every write). Bodies only: the SHIP key and Basic
-- credentials travel in HTTP headers, never here, and any value equal to the building's credential is
-- redacted before a row is written. In shadow mode the writes the sync would send are recorded with
-- sent = false and no reply.
create table integration.salto_traffic (
  id bigint generated always as identity primary key,
  building_id uuid not null references public.buildings (id) on delete cascade,
  at timestamptz not null default now(),
  request_name text not null check (length(request_name) <= 100),
  request text not null check (length(request) <= 20000),
  reply text check (length(reply) <= 20000),
  error text check (length(error) <= 2000),
  sent boolean not null,
  duration_ms bigint check (duration_ms >= 0)
);
comment on table integration.salto_traffic is
  'The latest SHIP requests and replies of each building''s sync (bounded per building, secrets '
  'redacted), and in shadow mode the writes it would have sent (sent = false). For support: '
  '`connecx-salto traffic --building <name>` exports it.';
grant select, insert, delete on table integration.salto_traffic to service_role;
grant select on table integration.salto_traffic to authenticated;
alter table integration.salto_traffic enable row level security;
create index salto_traffic_building_id_id_idx on integration.salto_traffic (building_id, id);
create policy "Managers can read the SALTO traffic of their buildings"
  on integration.salto_traffic for select to authenticated
  using (building_id = any (array(select private.managed_building_ids())));

-- Appends entries ([{request_name, request, reply, error, sent, duration_ms, at}]) and keeps the
-- building's latest p_keep. Values equal to the building's credential are replaced by [redacted].
create function integration.record_salto_traffic(p_building_id uuid, p_entries jsonb, p_keep integer default 500)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_secret text := (
    select v.decrypted_secret from integration.salto_servers as s
    join vault.decrypted_secrets as v on v.name = s.credential_secret_name
    where s.building_id = p_building_id);
begin
  if pg_catalog.jsonb_typeof(p_entries) is distinct from 'array' then
    raise exception 'p_entries must be a JSON array' using errcode = '22023';
  end if;
  insert into integration.salto_traffic (building_id, at, request_name, request, reply, error, sent, duration_ms)
  select p_building_id,
    coalesce((e ->> 'at')::timestamptz, pg_catalog.now()),
    pg_catalog.left(e ->> 'request_name', 100),
    pg_catalog.left(integration.redact(e ->> 'request', v_secret), 20000),
    pg_catalog.left(integration.redact(e ->> 'reply', v_secret), 20000),
    pg_catalog.left(integration.redact(e ->> 'error', v_secret), 2000),
    coalesce((e ->> 'sent')::boolean, true),
    greatest(0, (e ->> 'duration_ms')::bigint)
  from pg_catalog.jsonb_array_elements(p_entries) as e;
  delete from integration.salto_traffic as t
  where t.building_id = p_building_id
    and t.id <= (select t2.id from integration.salto_traffic as t2 where t2.building_id = p_building_id
                 order by t2.id desc offset greatest(p_keep, 1) limit 1);
end;
$$;
comment on function integration.record_salto_traffic(uuid, jsonb, integer) is
  'Appends SHIP traffic of a building (secrets redacted) and keeps its latest p_keep entries.';
revoke execute on function integration.record_salto_traffic(uuid, jsonb, integer) from public;
grant execute on function integration.record_salto_traffic(uuid, jsonb, integer) to service_role;

-- Every occurrence of p_secret (when it is one worth hiding) replaced by [redacted].
create function integration.redact(p_text text, p_secret text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_text is null or p_secret is null or length(p_secret) < 4 then p_text
    else pg_catalog.replace(p_text, p_secret, '[redacted]') end
$$;
comment on function integration.redact(text, text) is
  'p_text with every occurrence of p_secret (4 characters or more) replaced by [redacted].';
revoke execute on function integration.redact(text, text) from public;
grant execute on function integration.redact(text, text) to service_role;

-- A manager (or the service role) switches a building's SALTO writes from shadow to live: every access
-- level with work is due at once, so the next pass writes what shadow mode planned.
create function public.switch_salto_live(p_building_id uuid)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if auth.role() is distinct from 'service_role'
    and not (p_building_id = any (array(select private.managed_building_ids()))) then
    raise exception 'not a manager of this building' using errcode = '42501';
  end if;
  update integration.salto_servers set writes = 'live' where building_id = p_building_id;
  if not found then
    raise exception 'the building has no SALTO server' using errcode = 'P0002';
  end if;
  update integration.access_level_work
  set not_before = '-infinity', attempts = 0, last_error = null
  where building_id = p_building_id;
  perform integration.wake_sync();
  return 'live';
end;
$$;
comment on function public.switch_salto_live(uuid) is
  'Switches a building''s SALTO writes from shadow to live (managers of the building, or the service '
  'role) and makes all its access level work due, so the next pass writes what shadow mode planned.';
revoke execute on function public.switch_salto_live(uuid) from public, anon;
grant execute on function public.switch_salto_live(uuid) to authenticated, service_role;

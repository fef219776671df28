/*
 * Helpers for the pgTAP suites in supabase/tests/database. NOT a migration, and never left in a
 * database: every test file includes this file right after its `begin;` (`\ir ../../helpers.sql`), so
 * the schema `tests` and everything in it exist only inside that file's transaction, and its
 * `rollback;` removes them again (`npm test` checks that no schema `tests` is left afterwards).
 *
 * 1. Acting as users, after usebasejump/supabase-test-helpers: tests.create_supabase_user(),
 *    tests.get_supabase_uid(), tests.authenticate_as(), tests.authenticate_as_service_role(),
 *    tests.clear_authentication(). They set the role and the
 *    `request.jwt.claims` setting transaction-locally, as PostgREST does for each request, so policies
 *    and auth.uid() see exactly what they see in production.
 * 2. A fixture for this project: tests.create_two_buildings() and name lookups.
 * 3. The sync's side: tests.written_to_salto().
 *
 * Signed-in users and the service role may execute the helpers (a test switches users and names rows
 * while acting as one); anon may not, nor may anyone through PUBLIC: once a test has become anon it runs
 * plain SQL only, and `reset role;` before it calls a helper again.
 *
 * Nothing here depends on pgTAP: each test file creates it inside its own transaction too
 * (`create extension if not exists pgtap with schema extensions`), so the rollback removes it again.
 * Left installed, pgTAP's functions in `extensions` would fail `supabase db lint`, which checks them
 * without `extensions` on the search_path.
 */

create schema if not exists tests;
revoke all on schema tests from public, anon;
grant usage on schema tests to authenticated, service_role;

/*
 * Acting as users
 */

-- Creates an auth user remembered by a short identifier (stored in raw_user_meta_data).
create or replace function tests.create_supabase_user(identifier text, email text default null, metadata jsonb default null)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  user_id uuid := gen_random_uuid();
begin
  insert into auth.users (id, email, raw_user_meta_data, raw_app_meta_data)
  values (
    user_id,
    coalesce(email, identifier || '@test.example'),
    jsonb_build_object('test_identifier', identifier) || coalesce(metadata, '{}'::jsonb),
    '{"provider": "email", "providers": ["email"]}'::jsonb
  );
  return user_id;
end;
$$;

create or replace function tests.get_supabase_uid(identifier text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  user_id uuid;
begin
  select u.id into user_id from auth.users as u where u.raw_user_meta_data ->> 'test_identifier' = identifier;
  if user_id is null then
    raise exception 'No test user with identifier %', identifier;
  end if;
  return user_id;
end;
$$;

-- Becomes the user for the rest of the transaction: role authenticated plus their JWT claims.
create or replace function tests.authenticate_as(identifier text)
returns void
language plpgsql
as $$
declare
  user_id uuid := tests.get_supabase_uid(identifier);
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims', json_build_object(
    'sub', user_id,
    'role', 'authenticated',
    'aud', 'authenticated',
    'email', identifier || '@test.example',
    'app_metadata', json_build_object('provider', 'email'),
    'user_metadata', json_build_object('test_identifier', identifier),
    'exp', extract(epoch from now() + interval '1 hour')::bigint
  )::text, true);
end;
$$;

-- Acts as the connecX backend / edge functions: role service_role, no user.
create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'service_role', true);
  perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
end;
$$;

-- Acts as a caller without a user session: role anon.
create or replace function tests.clear_authentication()
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'anon', true);
  perform set_config('request.jwt.claims', '{"role": "anon"}', true);
end;
$$;

revoke execute on all functions in schema tests from public, anon;
grant execute on all functions in schema tests to authenticated, service_role;

/*
 * Fixture: two buildings, each with a manager, two apartments with one resident each, a gym and one
 * booking per apartment; plus a user who belongs nowhere. Names are distinct across buildings so the
 * lookups below can find rows by name. Both buildings use the SALTO IDs APT-101, APT-102 and GYM:
 * IDs are unique per building, not globally.
 *
 *   Alpha Towers (Australia/Sydney)         Beta Court (Australia/Perth)
 *     manager_alpha                           manager_beta
 *     A-101  APT-101  resident_a101           B-101  APT-101  resident_b101
 *     A-102  APT-102  resident_a102           B-102  APT-102  resident_b102
 *     Alpha gym  GYM                          Beta gym  GYM
 *   outsider: no building, no apartment
 */
create or replace function tests.create_two_buildings()
returns void
language plpgsql
as $$
declare
  alpha uuid;
  beta uuid;
begin
  perform tests.create_supabase_user(u)
  from unnest(array['manager_alpha', 'manager_beta', 'resident_a101', 'resident_a102',
                    'resident_b101', 'resident_b102', 'outsider']) as u;

  insert into public.buildings (name, timezone)
  values ('Alpha Towers', 'Australia/Sydney')
  returning id into alpha;
  insert into public.buildings (name, timezone)
  values ('Beta Court', 'Australia/Perth')
  returning id into beta;
  update integration.email_settings set alert_emails = '{manager@alpha.example}' where building_id = alpha;
  update integration.email_settings set alert_emails = '{manager@beta.example}' where building_id = beta;

  insert into public.building_managers (building_id, user_id)
  values (alpha, tests.get_supabase_uid('manager_alpha')),
         (beta, tests.get_supabase_uid('manager_beta'));

  insert into public.apartments (building_id, label, access_control_id)
  values (alpha, 'A-101', 'APT-101'), (alpha, 'A-102', 'APT-102'),
         (beta, 'B-101', 'APT-101'), (beta, 'B-102', 'APT-102');

  insert into public.apartment_residents (apartment_id, user_id)
  values (tests.apartment_id('A-101'), tests.get_supabase_uid('resident_a101')),
         (tests.apartment_id('A-102'), tests.get_supabase_uid('resident_a102')),
         (tests.apartment_id('B-101'), tests.get_supabase_uid('resident_b101')),
         (tests.apartment_id('B-102'), tests.get_supabase_uid('resident_b102'));

  insert into public.facilities (building_id, name, access_control_facility_id, access_buffer_before)
  values (alpha, 'Alpha gym', 'GYM', interval '10 minutes'),
         (beta, 'Beta gym', 'GYM', interval '0');

  insert into public.bookings (facility_id, apartment_id, starts_at, ends_at, created_by)
  values
    (tests.facility_id('Alpha gym'), tests.apartment_id('A-101'), '2030-06-01 09:00 Australia/Sydney', '2030-06-01 10:00 Australia/Sydney', tests.get_supabase_uid('resident_a101')),
    (tests.facility_id('Alpha gym'), tests.apartment_id('A-102'), '2030-06-01 11:00 Australia/Sydney', '2030-06-01 12:00 Australia/Sydney', tests.get_supabase_uid('resident_a102')),
    (tests.facility_id('Beta gym'), tests.apartment_id('B-101'), '2030-06-01 09:00 Australia/Perth', '2030-06-01 10:00 Australia/Perth', tests.get_supabase_uid('resident_b101')),
    (tests.facility_id('Beta gym'), tests.apartment_id('B-102'), '2030-06-01 11:00 Australia/Perth', '2030-06-01 12:00 Australia/Perth', tests.get_supabase_uid('resident_b102'));
end;
$$;
revoke execute on function tests.create_two_buildings() from public, anon, authenticated, service_role;

-- Lookups by name, readable by signed-in users and the service role (security definer: they ignore
-- row-level security, so a test can name a row its current user must not see). Strict: a name matching no row or several
-- (say, a clash with the demo data) fails the test loudly instead of picking one.
create or replace function tests.building_id(building_name text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found_id uuid;
begin
  select b.id into strict found_id from public.buildings as b where b.name = building_name;
  return found_id;
end;
$$;

create or replace function tests.apartment_id(apartment_label text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found_id uuid;
begin
  select a.id into strict found_id from public.apartments as a where a.label = apartment_label;
  return found_id;
end;
$$;

create or replace function tests.facility_id(facility_name text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found_id uuid;
begin
  select f.id into strict found_id from public.facilities as f where f.name = facility_name;
  return found_id;
end;
$$;

-- The apartment's fixture booking (its earliest one).
create or replace function tests.booking_of(apartment_label text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select bk.id
  from public.bookings as bk
  join public.apartments as a on a.id = bk.apartment_id
  where a.label = apartment_label
  order by bk.starts_at
  limit 1
$$;

-- Counts rows whatever the current role may see, e.g. to prove a denied delete left the row.
create or replace function tests.row_exists(table_name text, row_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found_it boolean;
begin
  execute format('select exists (select from public.%I where id = $1)', table_name) into found_it using row_id;
  return found_it;
end;
$$;

/*
 * The sync's side
 */
-- What the sync records once SALTO accepted a booking's permission, as its window stands now
-- (integration.record_reconciled_level, timetable 200): the booking's access state becomes active.
create or replace function tests.written_to_salto(p_booking_id uuid)
returns void
language sql
as $$
  select integration.record_reconciled_level(ba.building_id, ba.access_level_id, 0,
    pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'zone_id', ba.zone_id, 'timetable_id', 200,
      'period_start', ba.window_start::date, 'period_end', ba.window_end::date,
      'booking_ids', pg_catalog.jsonb_build_array(ba.booking_id),
      'window_start', pg_catalog.date_trunc('milliseconds', ba.window_start),
      'window_end', pg_catalog.date_trunc('milliseconds', ba.window_end),
      'exact', true, 'reason', null)),
    '[]'::jsonb, '[]'::jsonb)
  from integration.booking_access as ba where ba.booking_id = p_booking_id
$$;
revoke execute on function tests.written_to_salto(uuid) from public, anon, authenticated, service_role;

revoke execute on function
  tests.building_id(text), tests.apartment_id(text), tests.facility_id(text), tests.booking_of(text),
  tests.row_exists(text, uuid)
  from public, anon;
grant execute on function
  tests.building_id(text), tests.apartment_id(text), tests.facility_id(text), tests.booking_of(text),
  tests.row_exists(text, uuid)
  to authenticated, service_role;

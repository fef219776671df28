-- The data model explains itself to Studio users and indexes every column a policy filters on.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(11);

select is_empty(
  $$ select c.relname from pg_class as c
     where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
       and obj_description(c.oid, 'pg_class') is null $$,
  'every table has a comment for Studio users'
);
select matches(
  col_description('public.apartments'::regclass, (select attnum from pg_attribute where attrelid = 'public.apartments'::regclass and attname = 'access_control_id')),
  '^Access Control ID: must exactly equal the User Access Level EXT ID .* changing this value moves the apartment''s live booking permissions',
  'the Access Control ID comment says what it must match in SALTO and that changing it moves live permissions'
);
select matches(
  col_description('public.facilities'::regclass, (select attnum from pg_attribute where attrelid = 'public.facilities'::regclass and attname = 'access_control_facility_id')),
  '^Access Control Facility ID: must exactly equal the Zone ID .* changing this value moves the live permissions',
  'the Access Control Facility ID comment says what it must match in SALTO and that changing it moves live permissions'
);

-- Policies filter on these columns; each is the leading column of an index.
select has_index('public', 'building_managers', 'building_managers_user_id_idx', array['user_id'], 'building_managers is indexed by user');
select has_index('public', 'building_managers', 'building_managers_pkey', array['building_id', 'user_id'], 'building_managers is indexed by building');
select has_index('public', 'apartment_residents', 'apartment_residents_user_id_idx', array['user_id'], 'apartment_residents is indexed by user');
select has_index('public', 'apartments', 'apartments_label_unique_in_building', array['building_id', 'label'], 'apartments are indexed by building');
select has_index('public', 'facilities', 'facilities_name_unique_in_building', array['building_id', 'name'], 'facilities are indexed by building');
select has_index('public', 'bookings', 'bookings_building_id_starts_at_idx', array['building_id', 'starts_at'], 'bookings are indexed by building');
select has_index('public', 'bookings', 'bookings_apartment_id_starts_at_idx', array['apartment_id', 'starts_at'], 'bookings are indexed by apartment');
-- The booking policy counts an apartment's unfinished bookings at every resident's booking.
select has_index('public', 'bookings', 'bookings_unfinished_by_apartment_idx', array['apartment_id', 'ends_at', 'facility_id'], 'an apartment''s unfinished bookings are counted from an index');

select * from finish();
rollback;

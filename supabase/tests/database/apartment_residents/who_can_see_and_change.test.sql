-- Who can see and change who lives where: a manager adds and removes residents of their buildings'
-- apartments only; a resident sees their own residency and cannot change any; anon gets nothing.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(17);

select tests.create_two_buildings();

select tests.authenticate_as('manager_alpha');
select results_eq(
  $$ select user_id from apartment_residents order by user_id $$,
  $$ select unnest(array[tests.get_supabase_uid('resident_a101'), tests.get_supabase_uid('resident_a102')]) order by 1 $$,
  'a manager sees the residents of their building''s apartments only'
);
select results_eq(
  $$ insert into apartment_residents (apartment_id, user_id)
     values (tests.apartment_id('A-102'), tests.get_supabase_uid('outsider')) returning apartment_id $$,
  $$ values (tests.apartment_id('A-102')) $$,
  'a manager can add a resident to an apartment of their building'
);
select throws_ok(
  $$ insert into apartment_residents (apartment_id, user_id) values (tests.apartment_id('B-101'), tests.get_supabase_uid('resident_a101')) $$,
  '42501',
  'new row violates row-level security policy for table "apartment_residents"',
  'a manager cannot add a resident to another building''s apartment'
);
select throws_ok(
  $$ update apartment_residents set apartment_id = tests.apartment_id('B-101') where user_id = tests.get_supabase_uid('resident_a101') $$,
  '42501',
  'permission denied for table apartment_residents',
  'a residency is never edited in place (remove and add instead), so it cannot move to another building'
);
select results_eq(
  $$ delete from apartment_residents where apartment_id = tests.apartment_id('A-102') and user_id = tests.get_supabase_uid('outsider') returning user_id $$,
  $$ values (tests.get_supabase_uid('outsider')) $$,
  'a manager can remove a resident from an apartment of their building'
);
select is_empty(
  $$ delete from apartment_residents where apartment_id = tests.apartment_id('B-101') returning user_id $$,
  'a manager cannot remove residents from another building''s apartment'
);
select is_empty(
  $$ select user_id from apartment_residents where apartment_id = tests.apartment_id('B-102') $$,
  'a manager cannot read who lives in another building'
);

select tests.authenticate_as('manager_beta');
select results_eq(
  $$ select user_id from apartment_residents where apartment_id = tests.apartment_id('B-101') $$,
  $$ values (tests.get_supabase_uid('resident_b101')) $$,
  'the other manager still sees their resident after the first manager''s denied delete'
);

select tests.authenticate_as('resident_a101');
select results_eq(
  $$ select apartment_id, user_id from apartment_residents $$,
  $$ values (tests.apartment_id('A-101'), tests.get_supabase_uid('resident_a101')) $$,
  'a resident sees only their own residency'
);
select throws_ok(
  $$ insert into apartment_residents (apartment_id, user_id) values (tests.apartment_id('A-102'), tests.get_supabase_uid('resident_a101')) $$,
  '42501',
  'new row violates row-level security policy for table "apartment_residents"',
  'a resident cannot make themselves a resident of a neighbour''s apartment'
);
select throws_ok(
  $$ insert into apartment_residents (apartment_id, user_id) values (tests.apartment_id('A-101'), tests.get_supabase_uid('outsider')) $$,
  '42501',
  'new row violates row-level security policy for table "apartment_residents"',
  'a resident cannot add someone to their own apartment'
);
select is_empty(
  $$ delete from apartment_residents where user_id = tests.get_supabase_uid('resident_a101') returning user_id $$,
  'a resident cannot remove their own residency'
);

select tests.authenticate_as('resident_b102');
select is_empty(
  $$ select user_id from apartment_residents where user_id <> tests.get_supabase_uid('resident_b102') $$,
  'a resident cannot see their neighbours'
);

select tests.clear_authentication();
select throws_ok(
  $$ select user_id from apartment_residents $$,
  '42501',
  'permission denied for table apartment_residents',
  'anon cannot read apartment_residents'
);

-- anon may not use the test helpers: back to the session's own role before calling one.
reset role;
select tests.authenticate_as_service_role();
select results_eq(
  $$ select count(*)::int from apartment_residents
     where apartment_id in (select id from apartments where building_id in (tests.building_id('Alpha Towers'), tests.building_id('Beta Court'))) $$,
  $$ values (4) $$,
  'the service role sees every residency; the denied deletes removed nothing'
);
select lives_ok(
  $$ insert into apartment_residents (apartment_id, user_id) values (tests.apartment_id('B-102'), tests.get_supabase_uid('outsider')) $$,
  'the service role can add a resident anywhere'
);
select results_eq(
  $$ delete from apartment_residents where user_id = tests.get_supabase_uid('outsider') returning apartment_id $$,
  $$ values (tests.apartment_id('B-102')) $$,
  'the service role can remove a resident anywhere'
);

select * from finish();
rollback;

-- Demo data for the local stack: the building of the SALTO demo site (local/demo/salto-site.json),
-- loaded after the migrations. Never loaded by hosted projects. Idempotent: safe on every start.
--
-- Fixed ids, so demos, scripts and tests can refer to them:
--   building  Harbour View Residences   10000000-0000-4000-8000-000000000001
--   users     manager (manager@harbourview.example)     20000000-0000-4000-8000-000000000001
--             resident of 501/56 (resident.501@harbourview.example)  20000000-0000-4000-8000-000000000501
--             resident of 502/56 (resident.502@harbourview.example)  20000000-0000-4000-8000-000000000502
--   apartments 501/56, 502/56, 601/56, 602/56   30000000-0000-4000-8000-000000000<label number>
--   facilities Gym, Pool room, BBQ area          40000000-0000-4000-8000-00000000000<1, 2, 3>
-- The Access Control IDs and Access Control Facility IDs equal the demo site's access level EXT IDs
-- (APT-501-56 ...) and zone IDs (GYM, POOL, BBQ).

insert into auth.users (id, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
values
  ('20000000-0000-4000-8000-000000000001', 'manager@harbourview.example', now(),
   '{"provider": "email", "providers": ["email"]}', '{"name": "Harbour View building manager"}'),
  ('20000000-0000-4000-8000-000000000501', 'resident.501@harbourview.example', now(),
   '{"provider": "email", "providers": ["email"]}', '{"name": "Resident of 501/56"}'),
  ('20000000-0000-4000-8000-000000000502', 'resident.502@harbourview.example', now(),
   '{"provider": "email", "providers": ["email"]}', '{"name": "Resident of 502/56"}')
on conflict do nothing;

-- Set up well before today, so that its nightly cleanup is due from today's local midnight on (a
-- building is first cleaned after its first local midnight) and `npm run demo` can show it.
insert into public.buildings (id, name, timezone, created_at)
values ('10000000-0000-4000-8000-000000000001', 'Harbour View Residences', 'Australia/Sydney', '2026-01-01 00:00 Australia/Sydney')
on conflict (id) do update set created_at = least(public.buildings.created_at, excluded.created_at);

-- Who receives alert emails besides the managers (the building's email settings row is made with it).
update integration.email_settings
set alert_emails = '{manager@harbourview.example}'
where building_id = '10000000-0000-4000-8000-000000000001';

insert into public.building_managers (building_id, user_id)
values ('10000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000001')
on conflict do nothing;

insert into public.facilities (id, building_id, name, access_control_facility_id, access_buffer_before, access_buffer_after)
values
  ('40000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', 'Gym', 'GYM',
   interval '10 minutes', interval '5 minutes'),
  ('40000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000001', 'Pool room', 'POOL',
   interval '0', interval '0'),
  ('40000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000001', 'BBQ area', 'BBQ',
   interval '0', interval '0')
on conflict do nothing;

insert into public.apartments (id, building_id, label, access_control_id)
values
  ('30000000-0000-4000-8000-000000000501', '10000000-0000-4000-8000-000000000001', '501/56', 'APT-501-56'),
  ('30000000-0000-4000-8000-000000000502', '10000000-0000-4000-8000-000000000001', '502/56', 'APT-502-56'),
  ('30000000-0000-4000-8000-000000000601', '10000000-0000-4000-8000-000000000001', '601/56', 'APT-601-56'),
  ('30000000-0000-4000-8000-000000000602', '10000000-0000-4000-8000-000000000001', '602/56', 'APT-602-56')
on conflict do nothing;

insert into public.apartment_residents (apartment_id, user_id)
values
  ('30000000-0000-4000-8000-000000000501', '20000000-0000-4000-8000-000000000501'),
  ('30000000-0000-4000-8000-000000000502', '20000000-0000-4000-8000-000000000502')
on conflict do nothing;

-- A setting the constraints refuse is explained in words, with where to fix it, not by the
-- constraint's name.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(8);

select tests.create_two_buildings();
select tests.authenticate_as('manager_alpha');

select throws_ok(
  $$ update alert_email_settings set enabled_kinds = '{double_booking,salto_down}' $$,
  '23514', '''salto_down'' is not an alert kind.',
  'an unknown alert kind is named'
);
select throws_like(
  $$ update alert_email_settings set access_lead_time = interval '30 days' $$,
  '%must be from 1 minute to 7 days, not 30 days.',
  'a lead time out of range says the range'
);
select throws_like(
  $$ update alert_email_settings set unreachable_after = interval '0' $$,
  '%must be from 1 second to 7 days, not 00:00:00.',
  'a threshold out of range says the range'
);
select throws_ok(
  $$ update alert_email_settings set quiet_hours_start = '22:00' $$,
  '23514', 'Quiet hours need both a start and a different end, or neither.',
  'half a quiet-hours pair says what is missing'
);
select lives_ok(
  $$ update alert_email_settings set quiet_hours_start = '22:00', quiet_hours_end = '07:00',
       enabled_kinds = '{double_booking,salto_unreachable}' $$,
  'valid settings are saved'
);

-- The hint names the Studio table and column.
create function pg_temp.hint_of(statement text) returns text language plpgsql as $$
declare
  hint text;
begin
  execute statement;
  return null;
exception when check_violation then
  get stacked diagnostics hint = pg_exception_hint;
  return hint;
end;
$$;
select matches(
  pg_temp.hint_of($$ update alert_email_settings set enabled_kinds = '{typo}' $$),
  'double_booking, access_not_in_place, unknown_salto_id and salto_unreachable.*Studio: table public\.alert_email_settings, column enabled_kinds',
  'the hint lists the kinds and names the Studio table and column'
);
select matches(
  pg_temp.hint_of($$ update alert_email_settings set access_lead_time = interval '0' $$),
  'Studio: table public\.alert_email_settings, column access_lead_time',
  'the lead time hint names its column'
);
select matches(
  pg_temp.hint_of($$ update alert_email_settings set alert_emails = '{"not an address"}' $$),
  'Studio: table public\.alert_email_settings, column alert_emails',
  'the address hint names its column'
);

select * from finish();
rollback;

-- A sender leases due alert emails fairly: urgent kinds first, then the building served least
-- recently, each building's oldest first, so one building's queue never holds another building's email
-- back by more than the emails already leased. A leased email is not leased again until its lease ends.
begin;
\ir ../../helpers.sql
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(3);

select tests.create_two_buildings();

-- Alpha Towers has three double-booking emails queued, then Beta Court one, then Alpha an urgent one.
insert into integration.email_outbox (building_id, kind, recipients, next_attempt_at, idempotency_key)
values
  (tests.building_id('Alpha Towers'), 'double_booking', '{a@alpha.example}', clock_timestamp() - interval '10 seconds', 'test-lease:alpha-1'),
  (tests.building_id('Alpha Towers'), 'double_booking', '{a@alpha.example}', clock_timestamp() - interval '9 seconds', 'test-lease:alpha-2'),
  (tests.building_id('Alpha Towers'), 'unknown_salto_id', '{a@alpha.example}', clock_timestamp() - interval '8 seconds', 'test-lease:alpha-3'),
  (tests.building_id('Beta Court'), 'double_booking', '{b@beta.example}', clock_timestamp() - interval '1 second', 'test-lease:beta-1'),
  (tests.building_id('Alpha Towers'), 'access_not_in_place', '{a@alpha.example}', clock_timestamp() - interval '0.5 seconds', 'test-lease:alpha-urgent'),
  (tests.building_id('Beta Court'), 'double_booking', '{b@beta.example}', clock_timestamp() + interval '1 hour', 'test-lease:beta-later');

create temporary table leased (n serial, idempotency_key text) on commit drop;
do $$
begin
  for i in 1..6 loop
    insert into leased (idempotency_key)
    select idempotency_key from integration.lease_alert_emails(1, interval '2 minutes');
  end loop;
end;
$$;

select results_eq(
  $$ select idempotency_key from leased order by n $$,
  $$ values ('test-lease:alpha-urgent'), ('test-lease:beta-1'), ('test-lease:alpha-1'), ('test-lease:alpha-2'), ('test-lease:alpha-3') $$,
  'urgent first, then the building served least recently: Beta''s only email goes right after Alpha''s urgent one, not behind Alpha''s queue'
);
select is(
  (select count(*)::int from integration.email_outbox where idempotency_key like 'test-lease:%' and status = 'sending'),
  5,
  'each due email is leased once; the one not yet due is not leased'
);
update integration.email_outbox set leased_until = clock_timestamp() - interval '1 second'
where idempotency_key = 'test-lease:beta-1';
select results_eq(
  $$ select idempotency_key from integration.lease_alert_emails(10, interval '2 minutes') $$,
  $$ values ('test-lease:beta-1') $$,
  'an email whose lease ended (its sender died) is leased again'
);

select * from finish();
rollback;

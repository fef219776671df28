-- Extensions the integration relies on, enabled the way hosted Supabase expects:
-- pg_cron wakes the sync function every minute and runs the nightly cleanup schedule;
-- pg_net lets triggers and cron jobs wake edge functions after commit.
-- (Locally, pg_net is the stand-in from local/standins/pg_net, installed by the local stack.)
create extension if not exists pg_cron with schema pg_catalog;

create extension if not exists pg_net with schema extensions;

/*
 * Buildings and their managers.
 *
 * A building is the tenant of this product: every other row belongs to exactly one building, and
 * row-level security (20261129000400) scopes each manager to the buildings listed for them in
 * building_managers.
 *
 * Also creates the `private` schema: helpers that policies, triggers and check constraints call.
 * It is not in the API's exposed schemas (config.toml [api] schemas), so nothing in it is reachable
 * over PostgREST; callers get only the execute grants given explicitly.
 *
 * Tables are created with row-level security enabled and every API grant revoked, so no migration
 * boundary ever leaves them open; 20261129000400 grants back what each role needs, with the policies.
 */
create schema if not exists private;

comment on schema private is
  'Internals of the data model (validation, triggers, row-level security helpers). Not exposed through the API.';

revoke all on schema private from public;

-- Triggers and check constraints run as the writing role, which therefore needs to reach the helpers
-- they call. anon writes nothing and gets nothing here.
grant usage on schema private to authenticated, service_role;

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
 * What managers and residents may see of the integration, through the API: each booking's SALTO access
 * state, and the alerts of their building.
 *
 * The views are security_invoker, so row-level security on the integration tables decides the rows:
 * a manager sees their buildings', a resident their apartment's bookings. The integration schema
 * itself stays out of the API's exposed schemas; only these views are reachable.
 */
grant usage on schema integration to authenticated;

/*
 * Replay-proof calls from the database to the edge functions.
 *
 * Until now the wake-ups carried the function secret itself as a bearer token: anyone who saw one
 * request (a proxy log, a leaked pg_net response row) could call the functions forever. Now the
 * secret never travels. Every call carries
 *
 *   Authorization: Bearer v1.<unix seconds>.<nonce>.<hex HMAC-SHA256(secret, "<unix seconds>.<nonce>")>
 *
 * and the functions (src/shared/functions/auth.ts) refuse a wrong signature, a timestamp more than
 * five minutes off, and a nonce they have seen before: they remember accepted nonces in
 * integration.used_request_nonces until the token would be refused as expired anyway.
 */
create extension if not exists pgcrypto with schema extensions;

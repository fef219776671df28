/*
 * Extensions and schemas.
 *
 * pg_cron runs the minute job (sync and alerts) and the nightly cleanup's schedule; pg_net lets
 * triggers and cron jobs wake edge functions after commit; pgcrypto signs the wake-ups' tokens.
 * All three are enabled the way hosted Supabase expects (locally, pg_net is the stand-in from
 * local/standins/pg_net).
 */
create extension if not exists pg_cron with schema pg_catalog;

create extension if not exists pg_net with schema extensions;

create extension if not exists pgcrypto with schema extensions;

/*
 * `private`: helpers that policies, triggers and check constraints call. It is not in the API's
 * exposed schemas (config.toml [api] schemas), so nothing in it is reachable over PostgREST; callers
 * get only the execute privileges given beside each function.
 */
create schema if not exists private;

comment on schema private is
  'Internals of the data model (validation, triggers, row-level security helpers). Not exposed '
  'through the API.';

revoke all on schema private from public;

-- Triggers and check constraints run as the writing role, which therefore needs to reach the helpers
-- they call. anon writes nothing and gets nothing here.
grant usage on schema private to authenticated, service_role;

/*
 * `integration`: the integration's own state: each building's SALTO server, the access levels to
 * bring in line (access level work), what this project last wrote to SALTO, the timetable slots it
 * uses, the access state of every booking, alerts and their email outbox.
 *
 * Not exposed through the API. Managers and residents read what they need through security-invoker
 * views in public, which row-level security on these tables scopes to their building or apartment
 * (hence `authenticated` needs usage). Row-level security is enabled on every table here, with no
 * policy unless one is needed, as a second fence.
 */
create schema if not exists integration;

comment on schema integration is
  'State of the connecX -> SALTO integration (access level work, written permissions, timetable '
  'slots, booking access states, alerts, email outbox). Not exposed through the API.';

revoke all on schema integration from public;

grant usage on schema integration to authenticated, service_role;

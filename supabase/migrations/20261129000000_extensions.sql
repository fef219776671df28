-- Extensions the integration relies on, enabled the way hosted Supabase expects:
-- pg_cron wakes the sync function every minute and runs the nightly cleanup schedule;
-- pg_net lets triggers and cron jobs wake edge functions after commit.
-- (Locally, pg_net is the stand-in from local/standins/pg_net, installed by the local stack.)

create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists pg_net with schema extensions;

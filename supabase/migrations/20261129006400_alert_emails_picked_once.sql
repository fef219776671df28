/*
 * A sender's due alert emails are picked once, then claimed by key.
 *
 * As an `id in (pick)` subquery, the pick (limit, for update skip locked) may be planned as the inner
 * side of a nested loop and run again for every row of the outbox: statistics of a queue lag behind
 * its size (the booking changes' fold took 10 s per building that way, 20261129006200). Same claim as
 * in 20261129003000.
 */
create or replace function integration.claim_alert_emails(p_limit integer, p_lease interval)
returns setof integration.email_outbox
language sql
security definer
set search_path = ''
as $$
  with picked as materialized (
    select c.id from integration.email_outbox as c
    where (c.status = 'pending' and c.next_attempt_at <= pg_catalog.clock_timestamp())
      or (c.status = 'sending' and c.locked_until < pg_catalog.clock_timestamp())
    order by c.next_attempt_at, c.created_at
    limit p_limit
    for update skip locked
  )
  update integration.email_outbox as o
  set status = 'sending', locked_until = pg_catalog.clock_timestamp() + p_lease
  from picked
  where o.id = picked.id
  returning o.*
$$;

/*
 * The sync's two calls per round keep their plans (benchmark 2, booking to SALTO latency).
 *
 * integration.take_work (the fold and the lease) and integration.due_work_plans (the due access levels
 * with their desired windows) run their statements with arrays whose length PostgreSQL cannot know
 * when it plans; left to choose, it planned the fold's large statement anew at every call (0.6 ms of
 * server time for the one pair a booking changes, about as much as running it). With a generic plan,
 * planned once per connection, a booking's round is ~1 ms shorter and a burst's rounds are no slower
 * (benchmark 4). Only these two: the nightly cleanup folds and plans a whole building at once, where a
 * plan made for the actual arrays is three times faster than the generic one.
 */
alter function integration.take_work(uuid, interval, integer, integer) set plan_cache_mode = force_generic_plan;
alter function integration.due_work_plans(uuid, integer) set plan_cache_mode = force_generic_plan;

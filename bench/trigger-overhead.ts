// Benchmark 1: what the integration's triggers add to the app's booking transactions.
import type { Sql } from 'postgres';
import {
  type BenchResult,
  bookAsApp,
  createBuildings,
  DAY,
  dropBuildings,
  futureBase,
  HOUR,
  ms,
  ratio,
  withDispatcherHeld,
  withoutWakeUps,
} from './support.ts';

const TRANSACTIONS = Number(process.env.BENCH_TRIGGER_TX ?? 20_000); // per side
const ROUNDS = 10;
const CONNECTIONS = 4;

/**
 * The same table without the integration: bench.bookings has public.bookings' columns, defaults,
 * constraints, indexes, foreign keys and its own triggers (the booking rules), and not the two
 * sync_salto_access triggers. Nothing is disabled on the real table.
 */
async function createScratchTable(sql: Sql) {
  await sql`drop schema if exists bench cascade`;
  await sql`create schema bench`;
  await sql`create table bench.bookings (like public.bookings including all)`;
  const foreignKeys = await sql<{ name: string; definition: string }[]>`
    select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
    where conrelid = 'public.bookings'::regclass and contype = 'f'`;
  for (const fk of foreignKeys)
    await sql.unsafe(`alter table bench.bookings add constraint ${fk.name} ${fk.definition}`);
  const triggers = await sql<{ definition: string }[]>`
    select pg_get_triggerdef(oid) as definition from pg_trigger
    where tgrelid = 'public.bookings'::regclass and not tgisinternal and tgname not like 'sync_salto_access%'`;
  for (const t of triggers) await sql.unsafe(t.definition.replace(' ON public.bookings ', ' ON bench.bookings '));
  await sql`alter table bench.bookings enable row level security`;
  await sql`grant usage on schema bench to service_role`;
  await sql`grant select, insert on bench.bookings to service_role`;
  return triggers.length;
}

export async function triggerOverhead(sql: Sql): Promise<BenchResult> {
  // 1,000 apartments x 20 facilities: every booking its own apartment and facility, as most are (a
  // second unfinished booking of the same pair is a double booking, the exception).
  const [building] = await createBuildings(sql, 1, 1_000, 20, { withSalto: false });
  const copiedTriggers = await createScratchTable(sql);
  try {
    const base = futureBase();
    const pairs = building!.apartments.flatMap((a) =>
      building!.facilities.map((f) => ({ apartmentId: a.id, facilityId: f.id })),
    );
    const booking = (i: number) => {
      const pair = pairs[i % pairs.length]!;
      const startsAt = new Date(base + (i % 5) * DAY + (8 + (i % 10)) * HOUR);
      return { ...pair, startsAt, endsAt: new Date(startsAt.getTime() + HOUR) };
    };
    const perRound = TRANSACTIONS / ROUNDS;
    // The wake-ups are still queued by the triggers (net.http_post, part of the cost measured) but
    // go nowhere: the sync function's own work after commit is not the transaction's, and on this
    // small machine it would compete with both sides for the same cores. For the same reason the local
    // pg_net stand-in sends them only after each measured stretch (withDispatcherHeld), except on the
    // 'sending' side, which shows what it costs here.
    return await withoutWakeUps(sql, async () => {
      type Side = 'with' | 'without' | 'quiet' | 'sending';
      const time: Record<Side, number> = { with: 0, without: 0, quiet: 0, sending: 0 };
      const latencies: Record<Side, number[]> = { with: [], without: [], quiet: [], sending: [] };
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which side goes first, so drift in the machine's speed falls on both.
        // 'quiet': the triggers with the wake-up skipped (as if the transaction had already sent one),
        // to show what the wake-up itself costs; 'sending': the triggers while the stand-in sends each
        // wake-up at once. A third of the transactions each, from other bookings.
        const order: Side[] =
          round % 2 === 0 ? ['with', 'without', 'quiet', 'sending'] : ['sending', 'quiet', 'without', 'with'];
        for (const side of order) {
          const table = side === 'without' ? 'bench.bookings' : 'public.bookings';
          const offset = { with: 0, without: 0, quiet: TRANSACTIONS, sending: 2 * TRANSACTIONS }[side];
          const share = side === 'quiet' || side === 'sending' ? 3 : 1;
          let next = offset + Math.floor((round * perRound) / share);
          const end = next + Math.floor(perRound / share);
          const stretch = async () => {
            const started = performance.now();
            await Promise.all(
              Array.from({ length: CONNECTIONS }, async () => {
                for (let i = next++; i < end; i = next++) {
                  const t0 = performance.now();
                  await bookAsApp(sql, table, booking(i), { wakeUp: side !== 'quiet' });
                  latencies[side].push(performance.now() - t0);
                }
              }),
            );
            time[side] += performance.now() - started;
          };
          await (side === 'sending' ? stretch() : withDispatcherHeld(sql, stretch));
        }
      }
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      const overhead = time.with / time.without;
      const quiet = mean(latencies.quiet) / mean(latencies.without);
      const sending = mean(latencies.sending) / mean(latencies.without);
      return {
        name: '1. Trigger overhead',
        figure: `${ratio(overhead)} (${ms(mean(latencies.with))} vs ${ms(mean(latencies.without))} per transaction)`,
        goal: 'at most 1.30x',
        met: overhead <= 1.3,
        method:
          `${TRANSACTIONS.toLocaleString('en')} single-booking INSERT transactions per side through postgres.js as the app writes them ` +
          `(service role claims set in the transaction, ${CONNECTIONS} connections), into public.bookings with the integration's triggers ` +
          `and into bench.bookings, a scratch copy of the table (columns, constraints, indexes, foreign keys and the ${copiedTriggers} ` +
          `booking-rule triggers) without them; 1,000 apartments x 20 facilities, one booking per pair on either side (the two smaller sides below book the same pairs again); the wake-ups are queued (net.http_post) but ` +
          `sent nowhere, so the sync function's work after commit does not compete for the machine, and the local pg_net stand-in (a Node process; hosted, ` +
          `pg_net is a C worker in the database server) sends them after each measured stretch, not during it. ${ROUNDS} rounds of ` +
          `${perRound.toLocaleString('en')} per side, the order alternating; figure = total time with / without.`,
        details: [
          `wall time with triggers ${(time.with / 1000).toFixed(1)} s, without ${(time.without / 1000).toFixed(1)} s`,
          `the same triggers with the wake-up skipped (${latencies.quiet.length.toLocaleString('en')} transactions): ${ms(mean(latencies.quiet))} per transaction = ${ratio(quiet)}; ` +
            `the rest is the wake-up (net.http_post queues a row; pgcrypto signs its token)`,
          `the same triggers while the local pg_net stand-in sends each wake-up at once on the same cores (${latencies.sending.length.toLocaleString('en')} transactions): ` +
            `${ms(mean(latencies.sending))} per transaction = ${ratio(sending)}`,
        ],
      };
    });
  } finally {
    await sql`drop schema if exists bench cascade`;
    await dropBuildings(sql, [building!]);
  }
}

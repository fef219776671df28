// Benchmark 10: what one fold costs as one apartment's unfinished bookings of one facility grow, up to
// the most any writer may hold (private.max_unfinished_per_pair, 500).
import type { Sql } from 'postgres';
import { type BenchResult, createBuildings, dropBuildings, futureBase, HOUR, median, ms, ratio } from './support.ts';

const SIZES = [5, 50, 500];
const REPEATS = 9;

/**
 * One measurement, all in one transaction that is rolled back (nothing commits, so no sync runs): the
 * pair gets `size` - 1 hour-long bookings two hours apart (each its own time group: the first holds the
 * permission, every later one waits), they are folded, then one booking is made and the fold of that
 * one change (the pair's `size`th booking) is timed. `where` = 'last': after all of them (one state changes); 'first': before all of
 * them (every state changes: each waiting booking now waits for another holder).
 */
async function timedFold(
  sql: Sql,
  buildingId: string,
  apartmentId: string,
  facilityId: string,
  size: number,
  where: 'first' | 'last',
) {
  const base = new Date(futureBase() + 2 * HOUR);
  let elapsed = 0;
  await sql
    .begin(async (tx) => {
      await tx`
        insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
        select ${facilityId}, ${apartmentId}, ${base}::timestamptz + (i * 2) * interval '1 hour',
          ${base}::timestamptz + (i * 2 + 1) * interval '1 hour'
        from generate_series(1, ${size - 1}::int) as i`;
      await tx`select integration.apply_booking_changes(null, ${buildingId})`;
      const slot = where === 'first' ? 0 : size * 2;
      await tx`
        insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
        values (${facilityId}, ${apartmentId}, ${base}::timestamptz + ${slot}::int * interval '1 hour',
          ${base}::timestamptz + ${slot}::int * interval '1 hour' + interval '30 minutes')`;
      const t0 = performance.now();
      await tx`select integration.apply_booking_changes(null, ${buildingId})`;
      elapsed = performance.now() - t0;
      throw new RollBack();
    })
    .catch((e) => {
      if (!(e instanceof RollBack)) throw e;
    });
  return elapsed;
}

class RollBack extends Error {}

export async function foldCost(sql: Sql): Promise<BenchResult> {
  const [building] = await createBuildings(sql, 1, 1, 1, { withSalto: false });
  try {
    const apartmentId = building!.apartments[0]!.id;
    const facilityId = building!.facilities[0]!.id;
    const times: Record<string, number[]> = {};
    for (let r = 0; r < REPEATS + 1; r++) {
      for (const size of SIZES) {
        for (const where of ['last', 'first'] as const) {
          const t = await timedFold(sql, building!.id, apartmentId, facilityId, size, where);
          if (r === 0) continue; // the first round warms the caches
          const key = `${size}:${where}`;
          times[key] = [...(times[key] ?? []), t];
        }
      }
    }
    const at = (size: number, where: string) => median(times[`${size}:${where}`]!);
    const appendRatio = at(500, 'last') / at(5, 'last');
    const shiftRatio = at(500, 'first') / at(5, 'first');
    return {
      name: '10. Fold of one full pair',
      figure:
        `500th booking last: ${ms(at(500, 'last'))} = ${ratio(appendRatio)} of the 5th; ` +
        `500th booking first (every state changes): ${ms(at(500, 'first'))} = ${ratio(shiftRatio)} of the 5th`,
      goal: '500th last within 3.00x of the 5th last; 500th first bounded (at most 500 states rewritten)',
      met: appendRatio <= 3,
      method:
        'One apartment and facility (a bench building without SALTO), in a transaction rolled back after each measurement ' +
        '(nothing commits, so no sync runs): N - 1 hour-long bookings two hours apart are made and folded, then the Nth is made ' +
        'and `integration.apply_booking_changes` of that single change is timed. Each booking is its own time group, so the first holds ' +
        'the permission and every later one waits. "last": the Nth booking comes after all the others, and only its own state is new; ' +
        '"first": it comes first, takes the permission, and every other waiting state changes its holder. N = 5, 50, 500 (500 is the ' +
        `most unfinished bookings any writer may hold of one facility: private.max_unfinished_per_pair); ${REPEATS} rounds after one warm-up, medians. ` +
        'The old yardstick, before the one-permission rule became window functions: one change of a pair of 1,000 bookings took 744 ms, ' +
        'of 3,000 18.6 s and of 10,000 190 s (the planner joined the pair with itself in a nested loop).',
      details: SIZES.flatMap((size) => [`N = ${size}: last ${ms(at(size, 'last'))}, first ${ms(at(size, 'first'))}`]),
    };
  } finally {
    await dropBuildings(sql, [building!]);
  }
}

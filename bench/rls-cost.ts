// Benchmark 6: what row-level security costs a manager reading their building's booking access states.
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import { type BenchResult, createBuildings, dropBuildings, futureBase, median, ms, ratio } from './support.ts';

const BUILDINGS = 20;
const PER_BUILDING = 5_000; // 100,000 bookings in all
const ITERATIONS = 60;

export async function rlsCost(sql: Sql): Promise<BenchResult> {
  const buildings = await createBuildings(sql, BUILDINGS, 250, 20, { withSalto: false });
  const managerId = randomUUID();
  try {
    // 100,000 bookings loaded in bulk: the per-row sync triggers are switched off inside each loading
    // transaction only (nothing leaks), and the access states are written set-based as they would be.
    for (const building of buildings) {
      await sql.begin(async (tx) => {
        await tx`alter table public.bookings disable trigger sync_salto_access`;
        await tx`
          insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
          select f.id, a.id, ${new Date(futureBase())}::timestamptz + (g.i % 5) * interval '1 day' + (8 + g.i % 10) * interval '1 hour',
            ${new Date(futureBase())}::timestamptz + (g.i % 5) * interval '1 day' + (9 + g.i % 10) * interval '1 hour'
          from generate_series(0, ${PER_BUILDING - 1}) as g(i)
          join lateral (select id from public.apartments where building_id = ${building.id} order by id offset (g.i % 250) limit 1) as a on true
          join lateral (select id from public.facilities where building_id = ${building.id} order by id offset (g.i / 250) limit 1) as f on true`;
        await tx`alter table public.bookings enable trigger sync_salto_access`;
        await tx`
          insert into integration.booking_access (booking_id, building_id, apartment_id, facility_id, state, access_level_id, zone_id, window_start, window_end)
          select b.id, b.building_id, b.apartment_id, b.facility_id, 'active', a.access_control_id, f.access_control_facility_id, b.starts_at, b.ends_at
          from public.bookings as b join public.apartments as a on a.id = b.apartment_id join public.facilities as f on f.id = b.facility_id
          where b.building_id = ${building.id}`;
      });
    }
    await sql`analyze public.bookings`;
    await sql`analyze integration.booking_access`;
    const target = buildings[0]!;
    await sql`insert into auth.users (id, email) values (${managerId}, ${`bench-manager-${managerId.slice(0, 8)}@example.test`})`;
    await sql`insert into public.building_managers (building_id, user_id) values (${target.id}, ${managerId})`;
    const [total] = await sql<{ n: number }[]>`select count(*)::int as n from integration.booking_access`;

    const asManager = () =>
      sql.begin(async (tx) => {
        await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ sub: managerId, role: 'authenticated' })}, true)`;
        return tx`select * from public.booking_access_states`;
      });
    const asServiceRole = () =>
      sql.begin(async (tx) => {
        await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true)`;
        return tx`select * from public.booking_access_states where building_id = ${target.id}`;
      });
    const times = { manager: [] as number[], service: [] as number[] };
    let rows = { manager: 0, service: 0 };
    for (let i = 0; i < ITERATIONS + 5; i++) {
      const order = i % 2 === 0 ? (['manager', 'service'] as const) : (['service', 'manager'] as const);
      for (const who of order) {
        const t0 = performance.now();
        const result = await (who === 'manager' ? asManager() : asServiceRole());
        const elapsed = performance.now() - t0;
        if (i >= 5) times[who].push(elapsed); // the first rounds warm the caches
        rows = { ...rows, [who]: result.length };
      }
    }
    if (rows.manager !== rows.service)
      throw new Error(`the manager read ${rows.manager} rows, the service role ${rows.service}`);
    const cost = median(times.manager) / median(times.service);
    return {
      name: '6. RLS cost',
      figure: `${ratio(cost)} (${ms(median(times.manager))} vs ${ms(median(times.service))} for ${rows.manager.toLocaleString('en')} rows)`,
      goal: 'at most 1.50x',
      met: cost <= 1.5,
      method:
        `${total!.n.toLocaleString('en')} booking access states in the database (${BUILDINGS} bench buildings x ${PER_BUILDING.toLocaleString('en')}, plus whatever else the stack holds). ` +
        `A manager of one building runs \`select * from public.booking_access_states\` (role authenticated, JWT claims set, row-level security picks their building) ` +
        `vs. the service role running the same view with \`where building_id = <that building>\`; each a transaction through postgres.js; ` +
        `${ITERATIONS} alternating runs each after 5 warm-ups; figure = median / median.`,
    };
  } finally {
    await dropBuildings(sql, buildings);
    await sql`delete from auth.users where id = ${managerId}`;
  }
}

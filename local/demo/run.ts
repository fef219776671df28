// `npm run demo`: the product as a building manager meets it, narrated, against the running local
// stack and its demo building (Harbour View Residences, Sydney). Each step checks that what it says
// happened did happen, and the demo exits non-zero if one does not. It touches the demo building only:
// it resets that building's bookings and SALTO work before and after (saying what it deletes), never
// another building's rows, and never moves the clock (integration.clock_offset, which tests use): what
// happens later in a booking's life it shows with what happens now (a cancellation hands the
// permission on; the nightly cleanup is asked for today's date). Decision 0030.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { createSaltoClient } from '../../src/shared/salto/index.ts';
import {
  formatLocalDate,
  instantAtLocal,
  localDateTimeAt,
  parseLocalDateTime,
} from '../../src/shared/time/local-time.ts';
import { paths, readEnvFile, repoRoot } from '../config.ts';
import { callFunction } from '../functions-client.ts';
import { DEMO_BUILDING_ID } from '../postgres.ts';

const TZ = 'Australia/Sydney';
const GYM_ID = '40000000-0000-4000-8000-000000000001';
const BBQ_ID = '40000000-0000-4000-8000-000000000003';
const APARTMENT_501 = '30000000-0000-4000-8000-000000000501';
const RESIDENT_501 = '20000000-0000-4000-8000-000000000501';
const MANAGER = '20000000-0000-4000-8000-000000000001';
const ACCESS_LEVEL_501 = 'APT-501-56';
const PERMANENT_ZONES = ['MAIN-ENTRANCE', 'LIFTS', 'CAR-PARK'];

const env = readEnvFile(paths.envFile);
if (!env.DATABASE_URL) {
  process.stderr.write('The local stack is not running: start it with `npm start` (or `npm run stack:up`) first.\n');
  process.exit(1);
}
const sql = postgres(env.DATABASE_URL, { max: 3, onnotice: () => {} });
const simulatorUrl = env.SALTO_SIMULATOR_HTTP_URL!;
const mailUrl = env.MAIL_CAPTURE_URL!;

const say = (text: string) => process.stdout.write(`${text}\n`);
let stepNumber = 0;
function step(title: string) {
  stepNumber += 1;
  say(`\n${stepNumber}. ${title}`);
}
const check = (ok: boolean, what: string) => {
  if (!ok) throw new Error(`Expected: ${what}`);
  say(`   ✓ ${what}`);
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Waited ${timeoutMs / 1000} s and still not: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface SimPermission {
  zoneId: string;
  timetableId: number;
  usePeriod: boolean;
  period?: { startDate: string; endDate: string };
}
async function simulatorPermissions(accessLevel: string): Promise<SimPermission[]> {
  const state = (await (await fetch(`${simulatorUrl}/_simulator/state`)).json()) as {
    accessLevels: { id: string; zonePermissions: SimPermission[] }[];
  };
  return state.accessLevels.find((l) => l.id === accessLevel)?.zonePermissions ?? [];
}
async function mayOpen(zone: string, at: Date): Promise<boolean> {
  const query = new URLSearchParams({ accessLevel: ACCESS_LEVEL_501, zone, at: at.toISOString() });
  return ((await (await fetch(`${simulatorUrl}/_simulator/may-open?${query}`)).json()) as { open: boolean }).open;
}
async function accessState(bookingId: string) {
  const [row] = await sql<
    {
      state: string;
      reason: string | null;
      written_from: Date | null;
      period_start: string | null;
      timetable_id: number | null;
    }[]
  >`
    select state, reason, written_from, period_start::text, timetable_id from public.booking_access_states where booking_id = ${bookingId}`;
  return row;
}

/** As the connecX app does it: in a transaction with the user's JWT claims (PostgREST sets these). */
async function asUser<T>(userId: string, work: (tx: Sql) => Promise<T>): Promise<T> {
  return (await sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: 'authenticated' })}, true)`;
    return work(tx as unknown as Sql);
  })) as T;
}

const local = (date: string, time: string) => instantAtLocal(parseLocalDateTime(`${date}T${time}`), TZ);
const showLocal = (instant: Date) => {
  const l = localDateTimeAt(instant, TZ);
  return `${formatLocalDate(l)} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
};

/**
 * Puts the demo building and the stack's SALTO simulator (which serves the demo building only) back as
 * the stack created them, and says what it removed. Other buildings' rows and the clock are left alone.
 */
async function resetDemo(when: 'before' | 'after') {
  const [building] = await sql<{ name: string }[]>`select name from public.buildings where id = ${DEMO_BUILDING_ID}`;
  if (!building) {
    throw new Error('The demo building is missing: `npm run stack:up` loads it again (local/demo/seed.sql).');
  }
  const removed = await sql.begin(async (tx) => {
    const bookings = await tx`delete from public.bookings where building_id = ${DEMO_BUILDING_ID} returning id`;
    await tx`update public.facilities set access_control_facility_id = 'GYM' where id = ${GYM_ID}`;
    await tx`update integration.salto_servers set writes = 'live' where building_id = ${DEMO_BUILDING_ID}`;
    await tx`delete from integration.access_level_work where building_id = ${DEMO_BUILDING_ID}`;
    await tx`delete from integration.written_permissions where building_id = ${DEMO_BUILDING_ID}`;
    await tx`delete from integration.timetable_slots where building_id = ${DEMO_BUILDING_ID}`;
    const runs =
      await tx`delete from integration.cleanup_runs where building_id = ${DEMO_BUILDING_ID} returning local_date`;
    return { bookings: bookings.length, cleanups: runs.length };
  });
  const reset = await fetch(`${simulatorUrl}/_simulator/reset`, { method: 'POST' });
  if (!reset.ok) throw new Error(`The SALTO simulator did not reset: ${reset.status}`);
  say(
    `${when === 'before' ? 'Resetting' : '\nReset again'} the demo building, ${building.name}, only: deleted its ${removed.bookings} booking(s) and ${removed.cleanups} cleanup record(s), the Gym's Zone ID back to GYM, its SALTO server live, the stack's SALTO simulator (the demo site) back to its seed. Nothing of any other building is touched, and the clock is not moved.`,
  );
}

async function main() {
  say('connecX -> SALTO: a walk through the product with the demo building, Harbour View Residences (Sydney).');
  say('SALTO here is the simulator of the local stack; emails go to the local mail capture.');
  await resetDemo('before');

  const today = formatLocalDate(localDateTimeAt(new Date(), TZ));
  const tomorrow = formatLocalDate(localDateTimeAt(new Date(Date.now() + 24 * 3600_000), TZ));
  const nextWeek = formatLocalDate(localDateTimeAt(new Date(Date.now() + 8 * 24 * 3600_000), TZ));

  step('A resident of apartment 501/56 books the Gym for tomorrow, 18:00 to 19:00.');
  const first = await asUser(RESIDENT_501, async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      values (${GYM_ID}, ${APARTMENT_501}, ${local(tomorrow, '18:00:00')}, ${local(tomorrow, '19:00:00')}) returning id`;
    return row!.id;
  });
  const gymPermission = await until('the Gym permission in SALTO', async () =>
    (await simulatorPermissions(ACCESS_LEVEL_501)).find((p) => p.zoneId === 'GYM'),
  );
  say(
    `   SALTO now holds, on access level ${ACCESS_LEVEL_501}: zone GYM, period ${gymPermission.period?.startDate} .. ${gymPermission.period?.endDate}, timetable ${gymPermission.timetableId}.`,
  );
  check(
    !(await mayOpen('GYM', local(tomorrow, '17:49:00'))),
    'the card does not open the Gym at 17:49 (the Gym opens 10 minutes early)',
  );
  check(await mayOpen('GYM', local(tomorrow, '17:50:00')), 'the card opens the Gym from 17:50');
  check(await mayOpen('GYM', local(tomorrow, '19:04:00')), 'and until 19:05 (5 minutes after)');
  check(!(await mayOpen('GYM', local(tomorrow, '19:05:00'))), 'but not at 19:05');
  check(
    (await until('state active', async () => ((await accessState(first))?.state === 'active' ? true : undefined))) ===
      true,
    'the booking\'s access state is "active"',
  );

  step(
    'The same resident books the Gym again for next week, same time: SALTO allows one permission per apartment and zone.',
  );
  const mailBefore = ((await (await fetch(`${mailUrl}/_capture/messages`)).json()) as unknown[]).length;
  const second = await asUser(RESIDENT_501, async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      values (${GYM_ID}, ${APARTMENT_501}, ${local(nextWeek, '18:00:00')}, ${local(nextWeek, '19:00:00')}) returning id`;
    return row!.id;
  });
  const pending = await accessState(second);
  if (pending?.state === 'pending') say(`   At first its access state is "pending": ${pending.reason}`);
  const waiting = await until('state waiting', async () => {
    const state = await accessState(second);
    return state?.state === 'pending' ? undefined : state;
  });
  check(waiting?.state === 'waiting', 'the second booking waits');
  say(
    `   It will be written automatically at ${showLocal(waiting!.written_from!)}, when the first booking's access ends.`,
  );
  const email = await until('the double-booking email', async () => {
    const messages = (await (await fetch(`${mailUrl}/_capture/messages`)).json()) as {
      subject: string;
      to: string[];
      text: string | null;
    }[];
    return messages.slice(mailBefore).find((m) => /double booking/i.test(m.subject) || /501\/56/.test(m.subject));
  });
  say(`   Email to ${email.to.join(', ')}: "${email.subject}"`);
  for (const line of (email.text ?? '')
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, 8))
    say(`   | ${line}`);
  check(
    (email.text ?? '').includes('18:00') && (email.text ?? '').includes('19:05'),
    "the email gives both bookings' times and when the second is written, in Sydney time",
  );
  say(`   (Every captured email: ${mailUrl}/)`);

  step("The resident cancels tomorrow's booking: next week's booking takes the one permission SALTO allows.");
  await asUser(RESIDENT_501, (tx) => tx`update public.bookings set status = 'cancelled' where id = ${first}`);
  const handedOver = await until('the second booking written', async () => {
    const p = (await simulatorPermissions(ACCESS_LEVEL_501)).find((x) => x.zoneId === 'GYM');
    return p?.period?.startDate.startsWith(nextWeek) ? p : undefined;
  });
  say(
    `   SALTO now holds zone GYM for period ${handedOver.period?.startDate} .. ${handedOver.period?.endDate}: next week's booking, with no one acting.`,
  );
  check(await mayOpen('GYM', local(nextWeek, '18:30:00')), 'the card opens the Gym next week at 18:30');
  check(!(await mayOpen('GYM', local(tomorrow, '18:30:00'))), 'and no longer tomorrow at 18:30');
  check(
    (await until('released', async () => ((await accessState(first))?.state === 'released' ? true : undefined))) ===
      true,
    'the cancelled booking is "released"',
  );
  say(
    '   (A booking that ends hands its permission on the same way, within a minute: pg_cron runs integration.tick().)',
  );

  step(
    'A SALTO administrator renumbers the Gym zone to GYM-2; the manager updates the Access Control Facility ID in Studio.',
  );
  const salto = createSaltoClient({
    transport: 'http',
    host: '127.0.0.1',
    port: Number(new URL(simulatorUrl).port),
    auth: { mode: 'key', key: env.SALTO_SHIP_KEY! },
  });
  await salto.upsertZone({ id: 'GYM-2', name: 'Gym' });
  await salto.close();
  await asUser(
    MANAGER,
    (tx) => tx`update public.facilities set access_control_facility_id = 'GYM-2' where id = ${GYM_ID}`,
  );
  await until('the permission on GYM-2', async () =>
    (await simulatorPermissions(ACCESS_LEVEL_501)).some((p) => p.zoneId === 'GYM-2') ? true : undefined,
  );
  const afterMove = await simulatorPermissions(ACCESS_LEVEL_501);
  check(!afterMove.some((p) => p.zoneId === 'GYM'), 'the permission moved from zone GYM to zone GYM-2');
  check(
    PERMANENT_ZONES.every((zone) => afterMove.some((p) => p.zoneId === zone)),
    `the permanent permissions (${PERMANENT_ZONES.join(', ')}) are untouched`,
  );

  step('Someone removes the Gym permission by hand in SALTO; the nightly cleanup puts it back.');
  const bySalto = createSaltoClient({
    transport: 'http',
    host: '127.0.0.1',
    port: Number(new URL(simulatorUrl).port),
    auth: { mode: 'key', key: env.SALTO_SHIP_KEY! },
  });
  const level = await bySalto.readAccessLevel(ACCESS_LEVEL_501);
  await bySalto.replaceZonePermissions(
    ACCESS_LEVEL_501,
    level.zonePermissions.filter((p) => p.zoneId !== 'GYM-2'),
  );
  await bySalto.close();
  check(
    !(await simulatorPermissions(ACCESS_LEVEL_501)).some((p) => p.zoneId === 'GYM-2'),
    'SALTO no longer holds the Gym permission of 501/56',
  );
  say(
    `   The cleanup runs by itself once per local date, just after midnight in Sydney; the demo asks for today's (${today}) now.`,
  );
  await sql`delete from integration.cleanup_runs where building_id = ${DEMO_BUILDING_ID} and local_date = ${today}`;
  await callFunction(env, 'salto-cleanup', { query: 'wait=true', body: { building_ids: [DEMO_BUILDING_ID] } });
  const report = await until('the cleanup report', async () => {
    const [row] = await sql<
      { local_date: string; status: string; cleared: number; handed_over: number; repaired: number; failed: number }[]
    >`
      select local_date::text, status, cleared, handed_over, repaired, failed from public.cleanup_reports
      where building_id = ${DEMO_BUILDING_ID} and local_date = ${today} and status = 'completed'`;
    return row;
  });
  check(report.status === 'completed', `the cleanup report for ${report.local_date} is "completed"`);
  say(
    `   Report: cleared ${report.cleared}, handed over ${report.handed_over}, repaired ${report.repaired}, failed ${report.failed}.`,
  );
  check(report.repaired >= 1, 'it repaired the permission changed by hand');
  const afterCleanup = await simulatorPermissions(ACCESS_LEVEL_501);
  check(
    afterCleanup.some((p) => p.zoneId === 'GYM-2'),
    "SALTO holds next week's Gym permission again",
  );
  check(
    PERMANENT_ZONES.every((zone) => afterCleanup.some((p) => p.zoneId === zone)),
    'the permanent permissions are still there',
  );

  step(
    'Connecting a building to its real SALTO safely: in shadow mode the sync plans its writes and sends none, until a manager switches the building live.',
  );
  await sql`update integration.salto_servers set writes = 'shadow' where building_id = ${DEMO_BUILDING_ID}`;
  say('   (A newly connected SALTO server starts in shadow mode; the demo puts its building back in it.)');
  const bbq = await asUser(RESIDENT_501, async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      insert into public.bookings (facility_id, apartment_id, starts_at, ends_at)
      values (${BBQ_ID}, ${APARTMENT_501}, ${local(tomorrow, '12:00:00')}, ${local(tomorrow, '13:00:00')}) returning id`;
    return row!.id;
  });
  const planned = await until('the BBQ booking planned in shadow mode', async () => {
    const state = await accessState(bbq);
    return state?.reason?.startsWith('Shadow mode') ? state : undefined;
  });
  say(`   The booking's access state: ${planned.state}: ${planned.reason}`);
  check(
    !(await simulatorPermissions(ACCESS_LEVEL_501)).some((p) => p.zoneId === 'BBQ'),
    'SALTO is unchanged: no BBQ permission on APT-501-56',
  );
  const [unsent] = await sql<{ n: number }[]>`
    select count(*)::int as n from integration.salto_traffic
    where building_id = ${DEMO_BUILDING_ID} and not sent and request_name = 'SaltoDBGroup.Update'`;
  check(unsent!.n >= 1, 'the write it would have sent is in the SHIP traffic log, marked not sent');
  const plan = spawnSync(
    process.execPath,
    [join(repoRoot, 'bin', 'connecx-salto.mjs'), 'plan', '--building', DEMO_BUILDING_ID],
    {
      env: { ...process.env, DATABASE_URL: env.DATABASE_URL },
      encoding: 'utf8',
    },
  );
  say('   npx connecx-salto plan --building <the demo building> prints:');
  for (const line of plan.stdout.trimEnd().split('\n')) say(`     ${line}`);
  check(plan.status === 0 && plan.stdout.includes('+ BBQ'), 'plan lists the BBQ permission the next pass would add');
  check(
    !(await simulatorPermissions(ACCESS_LEVEL_501)).some((p) => p.zoneId === 'BBQ'),
    'and plan wrote nothing to SALTO',
  );
  await asUser(MANAGER, (tx) => tx`select public.switch_salto_live(${DEMO_BUILDING_ID})`);
  say('   The manager switches the building live: select public.switch_salto_live(<building id>).');
  const bbqPermission = await until('the BBQ permission in SALTO', async () =>
    (await simulatorPermissions(ACCESS_LEVEL_501)).find((p) => p.zoneId === 'BBQ'),
  );
  check(bbqPermission !== undefined, 'SALTO now holds the BBQ permission: the planned write was sent');

  say('\nThe demo passed. Try it yourself: book in Studio (table bookings), watch public.booking_access_states,');
  say(`and the SALTO simulator at ${simulatorUrl}/_simulator/state. \`npx connecx-salto status\` shows each building.`);
}

main()
  .catch((error: Error) => {
    process.stderr.write(`\nThe demo FAILED: ${error.message}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await resetDemo('after').catch(() => {});
    await sql.end({ timeout: 5 });
  });

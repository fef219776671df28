/**
 * How the connecX app talks to this project's tables with supabase-js, typed by the generated types
 * src/shared/database.types.ts: a resident books the gym, reads its SALTO access state, and cancels it.
 * Everything else (writing to SALTO, double-booking emails) happens in the database and the edge
 * functions; the app only writes bookings. Residents may book and cancel; moving a booking (changing
 * its times) is for the building's managers and the connecX backend (`moveBooking`).
 *
 * Run it against a hosted project (Node 22+, or Node 20 with `--experimental-websocket`, which gives
 * supabase-js the WebSocket it needs):
 *   SUPABASE_URL=... SUPABASE_ANON_KEY=... RESIDENT_EMAIL=... RESIDENT_PASSWORD=... \
 *   FACILITY_ID=... APARTMENT_ID=... node --experimental-websocket --import tsx examples/connecx-app.ts
 * (or RESIDENT_ACCESS_TOKEN=<the resident's JWT> instead of the email and password). `npm test` runs
 * it exactly so on Node 20 against the local stack (tests/examples/connecx-app.test.ts).
 */
import { createClient, type SupabaseClient, type SupabaseClientOptions } from '@supabase/supabase-js';
import type { Database } from '../src/shared/database.ts';

type Connecx = SupabaseClient<Database>;
export type BookingAccessState = Database['public']['Views']['booking_access_states']['Row'];

export async function bookFacility(
  supabase: Connecx,
  booking: { facilityId: string; apartmentId: string; startsAt: Date; endsAt: Date },
) {
  const { data, error } = await supabase
    .from('bookings')
    .insert({
      facility_id: booking.facilityId,
      apartment_id: booking.apartmentId,
      starts_at: booking.startsAt.toISOString(),
      ends_at: booking.endsAt.toISOString(),
    })
    .select('id')
    .single();
  // Constraint errors arrive as sentences ("A booking must end after it starts." ...) in error.message.
  if (error) throw new Error(error.message);
  return data.id;
}

/**
 * Moving a booking is an update of its times; its SALTO permission is rewritten automatically. For the
 * building's managers (and the service role): a resident gets "Residents can only cancel a booking."
 */
export async function moveBooking(supabase: Connecx, bookingId: string, startsAt: Date, endsAt: Date) {
  const { error } = await supabase
    .from('bookings')
    .update({ starts_at: startsAt.toISOString(), ends_at: endsAt.toISOString() })
    .eq('id', bookingId);
  if (error) throw new Error(error.message);
}

/** Cancelling sets the status; the permission is removed from SALTO (or handed to the next booking). */
export async function cancelBooking(supabase: Connecx, bookingId: string) {
  const { error } = await supabase.from('bookings').update({ status: 'cancelled' }).eq('id', bookingId);
  if (error) throw new Error(error.message);
}

/** The states a booking's access can be in: a union, from the enum public.booking_access_state. */
export type AccessStateName = Database['public']['Enums']['booking_access_state'];

/**
 * pending | waiting | scheduled | active | released | failed, with the reason (for managers) and the
 * SALTO IDs, and resident_summary: the sentence to show the resident ("Your key card opens the Gym on
 * Thu 3 Dec, 17:50-19:10.").
 */
export async function accessState(supabase: Connecx, bookingId: string): Promise<BookingAccessState | null> {
  const { data, error } = await supabase
    .from('booking_access_states')
    .select('*')
    .eq('booking_id', bookingId)
    .maybeSingle();
  if (error) throw new Error(error.message);
  return data;
}

/**
 * Polls the booking's access state until `done` says so (the state is `pending` for the few seconds
 * until the database has folded the change; then it moves as the sync writes SALTO).
 */
export async function waitForAccessState(
  supabase: Connecx,
  bookingId: string,
  done: (state: BookingAccessState) => boolean,
  timeoutMs = 60_000,
): Promise<BookingAccessState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await accessState(supabase, bookingId);
    if (state && done(state)) return state;
    if (Date.now() > deadline) {
      throw new Error(`The booking's access state is still ${state?.state ?? 'missing'} after ${timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * A supabase-js client for the app. supabase-js needs a WebSocket for Realtime even when it is not
 * used: Node 22+ and browsers have one; Node 20 has it behind `--experimental-websocket`.
 */
export function connecxClient(
  url: string,
  key: string,
  options: Omit<SupabaseClientOptions<'public'>, 'realtime'> = {},
): Connecx {
  const transport = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (!transport) {
    throw new Error('This Node.js has no WebSocket: use Node.js 22+, or run Node.js 20 with --experimental-websocket.');
  }
  return createClient<Database>(url, key, {
    ...options,
    realtime: { transport: transport as NonNullable<SupabaseClientOptions<'public'>['realtime']>['transport'] },
  });
}

/** What a resident does: books the facility, reads the access state, cancels, reads it again. */
export async function residentBooksAndCancels(
  supabase: Connecx,
  booking: { facilityId: string; apartmentId: string; startsAt: Date; endsAt: Date },
  log: (line: string) => void = console.log,
) {
  const id = await bookFacility(supabase, booking);
  log(`booked: ${id}`);
  const booked = await waitForAccessState(supabase, id, (s) => s.state !== 'pending' && s.state !== 'scheduled');
  const state: AccessStateName | null = booked.state;
  // resident_summary: the sentence the app shows the resident ("Your key card opens the Gym on ...").
  log(`after booking: ${state}: ${booked.resident_summary}`);
  await cancelBooking(supabase, id);
  const cancelled = await waitForAccessState(supabase, id, (s) => s.state === 'released' || s.state === 'failed');
  log(`after cancelling: ${cancelled.state}${cancelled.reason ? ` (${cancelled.reason})` : ''}`);
  return { id, booked, cancelled };
}

async function main() {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const token = process.env.RESIDENT_ACCESS_TOKEN;
  // With a JWT the app already holds, supabase-js sends it (accessToken); otherwise the resident signs in.
  const supabase = connecxClient(
    need('SUPABASE_URL'),
    need('SUPABASE_ANON_KEY'),
    token ? { accessToken: async () => token } : {},
  );
  if (!token) {
    const { error } = await supabase.auth.signInWithPassword({
      email: need('RESIDENT_EMAIL'),
      password: need('RESIDENT_PASSWORD'),
    });
    if (error) throw new Error(error.message);
  }

  const tomorrow = new Date(Date.now() + 24 * 3600_000);
  tomorrow.setMinutes(0, 0, 0);
  await residentBooksAndCancels(supabase, {
    facilityId: need('FACILITY_ID'),
    apartmentId: need('APARTMENT_ID'),
    startsAt: tomorrow,
    endsAt: new Date(tomorrow.getTime() + 3600_000),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}

/**
 * How the connecX app talks to this project's tables with supabase-js, typed by the generated types
 * src/shared/database.types.ts: a resident books the gym, moves the booking, reads its SALTO access
 * state, and cancels it. Everything else (writing to SALTO, double-booking emails) happens in the
 * database and the edge functions; the app only writes bookings.
 *
 * Type-checked by `npm test` (tsc). To run it against a hosted project:
 *   SUPABASE_URL=... SUPABASE_ANON_KEY=... RESIDENT_EMAIL=... RESIDENT_PASSWORD=... \
 *   FACILITY_ID=... APARTMENT_ID=... npx tsx examples/connecx-app.ts
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
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

/** Moving a booking is an update of its times; its SALTO permission is rewritten automatically. */
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

async function main() {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const supabase = createClient<Database>(need('SUPABASE_URL'), need('SUPABASE_ANON_KEY'));
  const { error } = await supabase.auth.signInWithPassword({
    email: need('RESIDENT_EMAIL'),
    password: need('RESIDENT_PASSWORD'),
  });
  if (error) throw new Error(error.message);

  const tomorrow6pm = new Date(Date.now() + 24 * 3600_000);
  tomorrow6pm.setMinutes(0, 0, 0);
  const id = await bookFacility(supabase, {
    facilityId: need('FACILITY_ID'),
    apartmentId: need('APARTMENT_ID'),
    startsAt: tomorrow6pm,
    endsAt: new Date(tomorrow6pm.getTime() + 3600_000),
  });
  await new Promise((r) => setTimeout(r, 3000));
  const booked = await accessState(supabase, id);
  const state: AccessStateName | null = booked?.state ?? null;
  console.log('after booking:', state, booked?.resident_summary);
  await moveBooking(
    supabase,
    id,
    new Date(tomorrow6pm.getTime() + 3600_000),
    new Date(tomorrow6pm.getTime() + 2 * 3600_000),
  );
  await new Promise((r) => setTimeout(r, 3000));
  console.log('after moving:', await accessState(supabase, id));
  await cancelBooking(supabase, id);
  await new Promise((r) => setTimeout(r, 3000));
  console.log('after cancelling:', await accessState(supabase, id));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}

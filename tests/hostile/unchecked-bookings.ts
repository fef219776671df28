// Bookings stored past the database's checks, as data stored before a check existed (or one a check
// missed) would be: for tests of what the sync and the cleanup do with a booking they cannot serve.
// The booking change is recorded as the booking trigger records it, so the fold and the sync see it
// as they see any booking.
import type { Sql } from 'postgres';

export interface UncheckedBooking {
  facilityId: string;
  apartmentId: string;
  /** Any timestamptz text PostgreSQL reads: 'infinity', '294276-06-01T00:00:00Z', ... */
  startsAt: string;
  endsAt: string;
}

/** The checks every booking must pass: the ones the sync relies on (a booking ends after it starts). */
const KEPT = ['bookings_ends_after_start', 'bookings_status_valid'];

/** Check constraints put back NOT VALID (validated again by restoreBookingChecks). */
const unvalidated = new Set<string>();

/**
 * Inserts the bookings (one transaction), returning their IDs in order. Check constraints other than
 * KEPT are dropped for the insert and put back NOT VALID in the same transaction; triggers (the
 * check_row trigger among them) are skipped (session_replication_role = replica), so the booking
 * change the booking trigger would record is recorded here.
 */
export async function insertUnchecked(sql: Sql, bookings: UncheckedBooking[]): Promise<string[]> {
  // Dropping a check waits for every transaction on public.bookings, and every query on it waits
  // behind the drop: a lock not had at once is let go and asked for again, rather than stalling the
  // stack (the sync among them) behind a long transaction of another test.
  for (let attempt = 1; ; attempt++) {
    try {
      return await insertOnce(sql, bookings);
    } catch (error) {
      if ((error as { code?: string }).code !== '55P03' || attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
}

async function insertOnce(sql: Sql, bookings: UncheckedBooking[]): Promise<string[]> {
  return (await sql.begin(async (tx) => {
    await tx`set local lock_timeout = '200ms'`;
    const checks = await tx<{ name: string; definition: string }[]>`
      select conname as name, pg_catalog.pg_get_constraintdef(oid) as definition
      from pg_catalog.pg_constraint
      where conrelid = 'public.bookings'::regclass and contype = 'c' and not (conname = any (${KEPT}::text[]))`;
    for (const check of checks) await tx`alter table public.bookings drop constraint ${tx(check.name)}`;
    await tx`set local session_replication_role = replica`;
    const ids: string[] = [];
    for (const b of bookings) {
      const [row] = await tx<{ id: string }[]>`
        insert into public.bookings (building_id, facility_id, apartment_id, starts_at, ends_at)
        select f.building_id, f.id, ${b.apartmentId}, ${b.startsAt}::text::timestamptz, ${b.endsAt}::text::timestamptz
        from public.facilities as f where f.id = ${b.facilityId}
        returning id`;
      ids.push(row!.id);
      await tx`
        insert into integration.booking_changes (building_id, apartment_id, facility_id, booking_id)
        select building_id, apartment_id, facility_id, id from public.bookings where id = ${row!.id}`;
    }
    await tx`set local session_replication_role = origin`;
    for (const check of checks) {
      const definition = check.definition.endsWith(' NOT VALID') ? check.definition : `${check.definition} NOT VALID`;
      await tx.unsafe(`alter table public.bookings add constraint "${check.name.replaceAll('"', '""')}" ${definition}`);
      unvalidated.add(check.name);
    }
    await tx`select integration.wake_sync()`;
    return ids;
  })) as string[];
}

/** Validates the checks insertUnchecked put back, once the unchecked bookings are gone. */
export async function restoreBookingChecks(sql: Sql) {
  for (const name of unvalidated) {
    try {
      await sql`alter table public.bookings validate constraint ${sql(name)}`;
      unvalidated.delete(name);
    } catch (error) {
      console.warn(`check ${name} of public.bookings stays NOT VALID: ${(error as Error).message}`);
    }
  }
}

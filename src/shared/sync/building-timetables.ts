/**
 * A building's reserved SALTO timetable slots as the sync and the cleanup see them while they hold the
 * building's lease: what each slot holds, and which slots each access level's written permissions
 * use. Read once per building pass and kept current by the pass itself: under the lease it is the
 * only writer of integration.timetable_slots and written_permissions, so the database need not be
 * asked again for every access level.
 *
 * Who uses each slot matters only when a timetable must take a slot (a slot is recycled only when no
 * other access level uses it), and reading it means going through all the building's written
 * permissions: the sync reads it on demand (`users` a loader), the cleanup up front.
 */
import type { TimetableSlotRange } from '../access/index.ts';
import type { TimetableSlotRow } from './store.ts';

/** Which access level's written permissions use which slot. */
export type SlotUsers = readonly { accessLevelId: string; slot: number }[];

export class BuildingTimetables {
  readonly #slots = new Map<number, TimetableSlotRow>();
  /** The slots of access levels whose permissions this pass recorded: newer than anything read. */
  readonly #recorded = new Map<string, ReadonlySet<number>>();
  /** The slots of every access level as read from the database, once read. */
  #read: Promise<Map<string, Set<number>>> | undefined;
  readonly #readUsers: () => Promise<SlotUsers>;

  constructor(slots: readonly TimetableSlotRow[], users: SlotUsers | (() => Promise<SlotUsers>)) {
    for (const row of slots) this.#slots.set(row.slot, { ...row });
    this.#readUsers = typeof users === 'function' ? users : () => Promise.resolve(users);
  }

  /** Slots SALTO is known to hold (a slot recorded but never confirmed written may hold anything). */
  writtenSlots(): { slot: number; key: string }[] {
    return [...this.#slots.values()].filter((s) => s.written).map(({ slot, key }) => ({ slot, key }));
  }

  /** Timetable contents that permissions of other access levels of the building use in SALTO. */
  async keysUsedByOthers(accessLevelId: string): Promise<string[]> {
    // What this pass recorded replaces what was read.
    const slotsOfLevel = new Map<string, ReadonlySet<number>>([...(await this.#users()), ...this.#recorded]);
    const keys = new Set<string>();
    for (const [level, slots] of slotsOfLevel) {
      if (level === accessLevelId) continue;
      for (const slot of slots) {
        const key = this.#slots.get(slot)?.key;
        if (key !== undefined) keys.add(key);
      }
    }
    return [...keys];
  }

  /**
   * Mirrors integration.save_timetable_slot: another slot recorded with the same timetable is
   * forgotten when SALTO never confirmed it or it is outside the reserved range (which can move).
   */
  saveSlot(slot: number, key: string, written: boolean, range: TimetableSlotRange) {
    for (const other of this.#slots.values()) {
      const outside = other.slot < range.first || other.slot > range.last;
      if (other.key === key && other.slot !== slot && (!other.written || outside)) this.#slots.delete(other.slot);
    }
    this.#slots.set(slot, { slot, key, written });
  }

  /** The access level's written permissions are now exactly these (integration.record_reconciled). */
  recordWritten(accessLevelId: string, timetableIds: readonly number[]) {
    this.#recorded.set(accessLevelId, new Set(timetableIds));
  }

  /** The access level's written permissions are gone. */
  forget(accessLevelId: string) {
    this.#recorded.set(accessLevelId, new Set());
  }

  /** Read once; a failed read is tried again by the next caller. */
  #users(): Promise<Map<string, Set<number>>> {
    this.#read ??= this.#readUsers().then(
      (users) => {
        const slotsOf = new Map<string, Set<number>>();
        for (const { accessLevelId, slot } of users) {
          let slots = slotsOf.get(accessLevelId);
          if (!slots) {
            slots = new Set();
            slotsOf.set(accessLevelId, slots);
          }
          slots.add(slot);
        }
        return slotsOf;
      },
      (error: unknown) => {
        this.#read = undefined;
        throw error;
      },
    );
    return this.#read;
  }
}

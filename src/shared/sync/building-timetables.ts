/**
 * A building's reserved SALTO timetable slots as the sync and the cleanup see them while they hold the
 * building's lease: what each slot holds, and which slots each access level's written permissions
 * use. Read once per building pass (SyncStore.timetables) and kept current by the pass itself: under
 * the lease it is the only writer of integration.timetable_slots and written_permissions, so the
 * database need not be asked again for every access level.
 */
import type { TimetableSlotRange } from '../access/index.ts';
import type { TimetableSlotRow } from './store.ts';

export class BuildingTimetables {
  readonly #slots = new Map<number, TimetableSlotRow>();
  readonly #slotsOfLevel = new Map<string, Set<number>>();

  constructor(slots: readonly TimetableSlotRow[], used: readonly { accessLevelId: string; slot: number }[]) {
    for (const row of slots) this.#slots.set(row.slot, { ...row });
    for (const { accessLevelId, slot } of used) this.#levelSlots(accessLevelId).add(slot);
  }

  /** Slots SALTO is known to hold (a slot recorded but never confirmed written may hold anything). */
  writtenSlots(): { slot: number; key: string }[] {
    return [...this.#slots.values()].filter((s) => s.written).map(({ slot, key }) => ({ slot, key }));
  }

  /** Timetable contents that permissions of other access levels of the building use in SALTO. */
  keysUsedByOthers(accessLevelId: string): string[] {
    const keys = new Set<string>();
    for (const [level, slots] of this.#slotsOfLevel) {
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
    this.#slotsOfLevel.set(accessLevelId, new Set(timetableIds));
  }

  /** The access level's written permissions are gone. */
  forget(accessLevelId: string) {
    this.#slotsOfLevel.delete(accessLevelId);
  }

  #levelSlots(accessLevelId: string): Set<number> {
    let slots = this.#slotsOfLevel.get(accessLevelId);
    if (!slots) this.#slotsOfLevel.set(accessLevelId, (slots = new Set()));
    return slots;
  }
}

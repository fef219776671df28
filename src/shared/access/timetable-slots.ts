/**
 * Allocating timetables to the building's reserved pool of SALTO timetable slots.
 *
 * Why: SALTO timetables are a small fixed pool of numbered slots that clients overwrite, and only a
 * reserved range of them belongs to this integration (site configuration, e.g. 200..254). Naive
 * integrations exhaust the pool, so: a timetable already in a slot is reused; a slot whose timetable
 * nobody needs any more is recycled; a new timetable takes the lowest free slot; and when none is left
 * the result says which timetables got no slot (an alert for the manager), it never throws.
 *
 * Pure and deterministic: needed keys are handled in sorted order, so the same input always gives the
 * same slots.
 *
 * Safety contract for the caller: `needed` must contain every key still referenced by a permission in
 * SALTO that will not be removed before the new timetables are written. A slot whose key is missing
 * from `needed` counts as unused and may be overwritten, which would change the hours of any permission
 * still pointing at it.
 */

export interface TimetableSlotRange {
  /** First slot of the reserved range, inclusive. */
  first: number;
  /** Last slot of the reserved range, inclusive. */
  last: number;
}

export interface TimetableSlotContent {
  slot: number;
  /** `timetableKey` of the timetable the slot holds. */
  key: string;
}

export interface TimetableSlotAllocationInput {
  range: TimetableSlotRange;
  /** Slots holding a timetable now. Slots outside `range` are not ours and are ignored. */
  inUse: readonly TimetableSlotContent[];
  /** Keys of the timetables the desired permissions need. Duplicates are fine. */
  needed: readonly string[];
}

export interface TimetableSlotAssignment {
  key: string;
  slot: number;
  /** True when the slot already holds this timetable: nothing to write. */
  reused: boolean;
}

export interface TimetableSlotWrite {
  slot: number;
  key: string;
  /** The timetable being overwritten (a recycled slot), or null for a slot not in use. */
  previousKey: string | null;
}

export type TimetableSlotAllocation = {
  /** One per needed key that got a slot, sorted by key. */
  assignments: TimetableSlotAssignment[];
  /** Slots to (over)write with their new timetable before any permission refers to them; by slot. */
  writes: TimetableSlotWrite[];
  /** In-use slots whose timetable is no longer needed and that got no new one: free now; ascending. */
  released: number[];
  /** Needed keys that got no slot because the pool is full (or the range is empty); sorted. */
  exhausted: string[];
};

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function allocateTimetableSlots(input: TimetableSlotAllocationInput): TimetableSlotAllocation {
  const { first, last } = input.range;
  const validRange = Number.isInteger(first) && Number.isInteger(last) && first <= last;
  const needed = [...new Set(input.needed)].sort(compareKeys);
  if (!validRange) {
    return { assignments: [], writes: [], released: [], exhausted: needed };
  }

  // What each slot of the range holds now; for a slot listed twice the last entry wins.
  const contentBySlot = new Map<number, string>();
  for (const { slot, key } of input.inUse) {
    if (Number.isInteger(slot) && slot >= first && slot <= last) contentBySlot.set(slot, key);
  }

  const slotOfKey = new Map<string, number>();
  const neededSet = new Set(needed);
  for (const [slot, key] of [...contentBySlot].sort((a, b) => a[0] - b[0])) {
    // Reuse the lowest slot holding a needed timetable; a second copy of it is recycled.
    if (neededSet.has(key) && !slotOfKey.has(key)) slotOfKey.set(key, slot);
  }
  const taken = new Set(slotOfKey.values());

  const assignments: TimetableSlotAssignment[] = [];
  const writes: TimetableSlotWrite[] = [];
  const exhausted: string[] = [];
  let candidate = first;
  for (const key of needed) {
    const existing = slotOfKey.get(key);
    if (existing !== undefined) {
      assignments.push({ key, slot: existing, reused: true });
      continue;
    }
    while (candidate <= last && taken.has(candidate)) candidate += 1;
    if (candidate > last) {
      exhausted.push(key);
      continue;
    }
    taken.add(candidate);
    assignments.push({ key, slot: candidate, reused: false });
    writes.push({ slot: candidate, key, previousKey: contentBySlot.get(candidate) ?? null });
  }

  const released = [...contentBySlot.keys()].filter((slot) => !taken.has(slot)).sort((a, b) => a - b);
  writes.sort((a, b) => a.slot - b.slot);
  return { assignments, writes, released, exhausted };
}

import { describe, expect, it } from 'vitest';
import {
  allocateTimetableSlots,
  canonicalTimetable,
  periodAndTimetable,
  type Timetable,
  timetableKey,
} from '../../src/shared/access/index.ts';

const RANGE = { first: 200, last: 254 };

describe('timetable identity', () => {
  it('two bookings with the same hours on the same weekday share one timetable, whatever the date', () => {
    const thisMonday = periodAndTimetable(
      { start: new Date('2026-05-04T18:00:00+10:00'), end: new Date('2026-05-04T19:00:00+10:00') },
      'Australia/Sydney',
    );
    const nextMonday = periodAndTimetable(
      { start: new Date('2026-05-11T18:00:00+10:00'), end: new Date('2026-05-11T19:00:00+10:00') },
      'Australia/Sydney',
    );
    expect(timetableKey(thisMonday.timetable)).toBe(timetableKey(nextMonday.timetable));
    expect(timetableKey(thisMonday.timetable)).toBe('18:00:00-19:00:00 Monday');
  });

  it('timetables that open at the same times have the same key however their intervals are written', () => {
    const split: Timetable = {
      kind: 'intervals',
      intervals: [
        { start: '12:00:00', end: '24:00:00', days: ['Tuesday'] },
        { start: '00:00:00', end: '12:00:00', days: ['Tuesday', 'Monday'] },
        { start: '12:00:00', end: '24:00:00', days: ['Monday'] },
      ],
    };
    const whole: Timetable = {
      kind: 'intervals',
      intervals: [{ start: '00:00:00', end: '24:00:00', days: ['Monday', 'Tuesday'] }],
    };
    expect(timetableKey(split)).toBe(timetableKey(whole));
    expect(canonicalTimetable(split)).toEqual(whole);
  });

  it('different hours or different days give different keys', () => {
    const monday: Timetable = {
      kind: 'intervals',
      intervals: [{ start: '18:00:00', end: '19:00:00', days: ['Monday'] }],
    };
    const tuesday: Timetable = {
      kind: 'intervals',
      intervals: [{ start: '18:00:00', end: '19:00:00', days: ['Tuesday'] }],
    };
    const later: Timetable = {
      kind: 'intervals',
      intervals: [{ start: '18:00:00', end: '19:30:00', days: ['Monday'] }],
    };
    expect(new Set([timetableKey(monday), timetableKey(tuesday), timetableKey(later)]).size).toBe(3);
    expect(timetableKey({ kind: 'always' })).toBe('always');
  });

  it('rejects times that are not HH:mm:ss within a day', () => {
    expect(() =>
      timetableKey({ kind: 'intervals', intervals: [{ start: '7:00', end: '24:00:00', days: ['Monday'] }] }),
    ).toThrow(RangeError);
    expect(() =>
      timetableKey({ kind: 'intervals', intervals: [{ start: '07:00:00', end: '24:00:01', days: ['Monday'] }] }),
    ).toThrow(RangeError);
  });
});

describe('timetable slots of the building', () => {
  it('a timetable already in a slot is reused without writing it again', () => {
    const allocation = allocateTimetableSlots({
      range: RANGE,
      inUse: [{ slot: 203, key: 'gym monday evening' }],
      needed: ['gym monday evening', 'gym monday evening'],
    });
    expect(allocation).toEqual({
      assignments: [{ key: 'gym monday evening', slot: 203, reused: true }],
      writes: [],
      released: [],
      exhausted: [],
    });
  });

  it('a new timetable takes the lowest free slot of the reserved range', () => {
    const allocation = allocateTimetableSlots({
      range: RANGE,
      inUse: [
        { slot: 200, key: 'a' },
        { slot: 202, key: 'b' },
      ],
      needed: ['a', 'b', 'c', 'd'],
    });
    expect(allocation.assignments).toEqual([
      { key: 'a', slot: 200, reused: true },
      { key: 'b', slot: 202, reused: true },
      { key: 'c', slot: 201, reused: false },
      { key: 'd', slot: 203, reused: false },
    ]);
    expect(allocation.writes).toEqual([
      { slot: 201, key: 'c', previousKey: null },
      { slot: 203, key: 'd', previousKey: null },
    ]);
  });

  it('a slot whose timetable nobody needs any more is recycled for a new one, or released', () => {
    const allocation = allocateTimetableSlots({
      range: RANGE,
      inUse: [
        { slot: 200, key: 'last week' },
        { slot: 201, key: 'still needed' },
        { slot: 205, key: 'also over' },
      ],
      needed: ['still needed', 'new'],
    });
    expect(allocation.writes).toEqual([{ slot: 200, key: 'new', previousKey: 'last week' }]);
    expect(allocation.released).toEqual([205]);
  });

  it('a second copy of the same timetable is freed', () => {
    const allocation = allocateTimetableSlots({
      range: RANGE,
      inUse: [
        { slot: 210, key: 'same' },
        { slot: 207, key: 'same' },
      ],
      needed: ['same'],
    });
    expect(allocation.assignments).toEqual([{ key: 'same', slot: 207, reused: true }]);
    expect(allocation.released).toEqual([210]);
  });

  it('when the pool is full the timetables without a slot are reported, not thrown', () => {
    const allocation = allocateTimetableSlots({
      range: { first: 200, last: 201 },
      inUse: [{ slot: 200, key: 'kept' }],
      needed: ['kept', 'new 1', 'new 2', 'new 3'],
    });
    expect(allocation.assignments.map((a) => [a.key, a.slot])).toEqual([
      ['kept', 200],
      ['new 1', 201],
    ]);
    expect(allocation.exhausted).toEqual(['new 2', 'new 3']);
  });

  it('slots outside the reserved range belong to the site and are never touched', () => {
    const allocation = allocateTimetableSlots({
      range: RANGE,
      inUse: [{ slot: 12, key: 'site timetable' }],
      needed: ['site timetable'],
    });
    expect(allocation.assignments).toEqual([{ key: 'site timetable', slot: 200, reused: false }]);
    expect(allocation.released).toEqual([]);
  });

  it('an empty or invalid range reports every timetable as without a slot', () => {
    expect(allocateTimetableSlots({ range: { first: 255, last: 200 }, inUse: [], needed: ['b', 'a'] })).toEqual({
      assignments: [],
      writes: [],
      released: [],
      exhausted: ['a', 'b'],
    });
  });

  it('gives the same slots whatever order the timetables are asked for in', () => {
    const inUse = [{ slot: 201, key: 'x' }];
    const one = allocateTimetableSlots({ range: RANGE, inUse, needed: ['q', 'x', 'm', 'c'] });
    const other = allocateTimetableSlots({ range: RANGE, inUse, needed: ['c', 'm', 'x', 'q'] });
    expect(other).toEqual(one);
  });
});

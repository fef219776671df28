// Test helpers: read a computed permission the way a door would, with a local-time conversion written
// independently of src/shared/time/local-time.ts (a different Intl formatter), so the tests do not
// check the code against itself.
import { opensAt, type PeriodAndTimetable } from '../../src/shared/access/index.ts';
import { parseLocalDateTime } from '../../src/shared/time/local-time.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `{ date: 'YYYY-MM-DD', time: 'HH:mm:ss' }` on the building's wall clock at an instant. */
export function wallClock(instantMs: number, timeZone: string): { date: string; time: string } {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  const [date, time] = formatter.format(new Date(instantMs)).split(' ');
  return { date: date!, time: time! };
}

/** Does the door of a zone with this permission open at this instant (weekday day types)? */
export function doorOpens(permission: PeriodAndTimetable, instantMs: number, timeZone: string): boolean {
  const { date, time } = wallClock(instantMs, timeZone);
  return opensAt(permission, parseLocalDateTime(`${date}T${time}`));
}

/** Instants (step apart, plus the edges of `window` and one ms either side) where the door disagrees. */
export function disagreements(
  permission: PeriodAndTimetable,
  timeZone: string,
  window: { start: Date; end: Date },
  around: { fromMs: number; toMs: number; stepMs: number },
): string[] {
  const start = window.start.getTime();
  const end = window.end.getTime();
  const instants = new Set<number>();
  for (let at = around.fromMs; at < around.toMs; at += around.stepMs) instants.add(at);
  for (const edge of [start, end]) for (const delta of [-60_000, -1, 0, 1, 59_999]) instants.add(edge + delta);
  const wrong: string[] = [];
  for (const at of [...instants].sort((a, b) => a - b)) {
    const expected = start <= at && at < end;
    if (doorOpens(permission, at, timeZone) !== expected) {
      const local = wallClock(at, timeZone);
      wrong.push(
        `${new Date(at).toISOString()} (${local.date} ${local.time}): expected ${expected ? 'open' : 'closed'}`,
      );
    }
  }
  return wrong;
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Check every minute from a day before to a day after the window. */
export function everyMinuteAround(window: { start: Date; end: Date }) {
  return { fromMs: window.start.getTime() - DAY, toMs: window.end.getTime() + DAY, stepMs: MINUTE };
}

export function windowOf(start: string, end: string) {
  return { start: new Date(start), end: new Date(end) };
}

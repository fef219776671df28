// Alert emails state every time in the building's local time (the time on the building's clocks and
// in SALTO), never the reader's or the server's. Intl only: runs in Deno and Node alike.

const partsFormat = (timeZone: string) =>
  new Intl.DateTimeFormat('en-AU', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  });

interface LocalParts {
  date: string;
  time: string;
  zone: string;
}

function localParts(instant: Date | string, timeZone: string): LocalParts {
  const parts = partsFormat(timeZone).formatToParts(new Date(instant));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    date: `${get('weekday')} ${get('day')} ${get('month')} ${get('year')}`,
    time: `${get('hour')}:${get('minute')}`,
    zone: get('timeZoneName'),
  };
}

/** "Tue 8 Dec 2026, 18:00 AEDT" */
export function formatLocalDateTime(instant: Date | string, timeZone: string): string {
  const p = localParts(instant, timeZone);
  return `${p.date}, ${p.time} ${p.zone}`;
}

/** "Tue 8 Dec 2026" */
export function formatLocalDate(instant: Date | string, timeZone: string): string {
  return localParts(instant, timeZone).date;
}

/**
 * "Tue 8 Dec 2026, 18:00–19:00 AEDT", or with both dates when the window crosses midnight:
 * "Tue 8 Dec 2026, 23:00 AEDT – Wed 9 Dec 2026, 01:00 AEDT". An end at exactly local midnight is
 * written 24:00 of the start day, as people (and SALTO periods) say it.
 */
export function formatLocalRange(start: Date | string, end: Date | string, timeZone: string): string {
  const a = localParts(start, timeZone);
  const b = localParts(end, timeZone);
  if (a.date === b.date && a.zone === b.zone) return `${a.date}, ${a.time}–${b.time} ${a.zone}`;
  const endedAtMidnight =
    b.time === '00:00' && localParts(new Date(new Date(end).getTime() - 1), timeZone).date === a.date;
  if (endedAtMidnight && a.zone === b.zone) return `${a.date}, ${a.time}–24:00 ${a.zone}`;
  return `${a.date}, ${a.time} ${a.zone} – ${b.date}, ${b.time} ${b.zone}`;
}

/** "2 hours", "90 minutes", "1 day": for lead times and outage durations. */
export function formatDuration(minutes: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes % 1440 === 0 && minutes > 0) return plural(minutes / 1440, 'day');
  if (minutes % 60 === 0 && minutes > 0) return plural(minutes / 60, 'hour');
  return plural(Math.round(minutes), 'minute');
}

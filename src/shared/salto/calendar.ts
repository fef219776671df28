/**
 * SALTO calendars: which dates are holidays or special days. A site holds numbered calendars
 * (SaltoDBCalendar: CalendarID, Name, Description); each year of a calendar is a SaltoDBYearCalendar
 * with one string per month, `Month1`..`Month12`, one character per day of the month.
 *
 * The month strings are 31 characters whatever the month's length (seen: a public client writes 31
 * `1`s for every month of a plain year). What each character means is not public; this project
 * infers, and the simulator follows: `1` (or `0`) an ordinary day (its weekday's day type), `2` Holiday,
 * `3` Special1, `4` Special2; characters past the month's last day are ignored.
 */
import type { SpecialDayType } from '../access/timetable.ts';

export const MONTH_DAYS = 31;

const TYPE_OF_CHAR: Record<string, SpecialDayType | undefined> = {
  '0': undefined,
  '1': undefined,
  '2': 'Holiday',
  '3': 'Special1',
  '4': 'Special2',
};
const CHAR_OF_TYPE: Record<SpecialDayType, string> = { Holiday: '2', Special1: '3', Special2: '4' };

/** A calendar of the site (SaltoDBCalendar). */
export interface Calendar {
  readonly id: number;
  readonly name: string;
  readonly description: string;
}

/** One year of a calendar: local date (`yyyy-MM-dd`) -> its special day type; ordinary dates absent. */
export interface YearCalendar {
  readonly calendarId: number;
  readonly year: number;
  readonly marks: ReadonlyMap<string, SpecialDayType>;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The marks of one month string; throws Error on a string this project cannot read. */
export function decodeMonth(year: number, month: number, text: string): [string, SpecialDayType][] {
  if (text.length !== MONTH_DAYS && text.length !== daysIn(year, month)) {
    throw new Error(`Month${month} of ${year} has ${text.length} day characters, expected ${MONTH_DAYS}`);
  }
  const marks: [string, SpecialDayType][] = [];
  for (let day = 1; day <= daysIn(year, month); day++) {
    const char = text[day - 1]!;
    if (!(char in TYPE_OF_CHAR))
      throw new Error(`Month${month} of ${year}: unknown day character ${JSON.stringify(char)}`);
    const type = TYPE_OF_CHAR[char];
    if (type) marks.push([`${pad(year, 4)}-${pad(month)}-${pad(day)}`, type]);
  }
  return marks;
}

/** The month string for `month` (1..12) of `year` from a date -> day type lookup. */
export function encodeMonth(year: number, month: number, typeOf: (date: string) => SpecialDayType | undefined): string {
  let text = '';
  for (let day = 1; day <= MONTH_DAYS; day++) {
    const type = day <= daysIn(year, month) ? typeOf(`${pad(year, 4)}-${pad(month)}-${pad(day)}`) : undefined;
    text += type ? CHAR_OF_TYPE[type] : '1';
  }
  return text;
}

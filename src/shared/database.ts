/**
 * The database types the app and this project's code use: the generated ones
 * (database.types.ts, `npm run gen:types`) with what generation cannot know.
 *
 * bookings.building_id is `not null` without a default, so the generator makes it required on insert;
 * a trigger fills it from the facility (the writer never chooses it), so for writers it is optional.
 */
import type { Database as Generated } from './database.types.ts';

type GeneratedPublic = Generated['public'];
type Bookings = GeneratedPublic['Tables']['bookings'];

export type Database = Omit<Generated, 'public'> & {
  public: Omit<GeneratedPublic, 'Tables'> & {
    Tables: Omit<GeneratedPublic['Tables'], 'bookings'> & {
      bookings: Omit<Bookings, 'Insert'> & {
        Insert: Omit<Bookings['Insert'], 'building_id'> & { building_id?: string };
      };
    };
  };
};

export type { Json } from './database.types.ts';

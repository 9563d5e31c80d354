import { Initial1764270000000 } from './1764270000000-Initial';

/** Every migration, in order. New ones are appended here. */
export const MIGRATIONS = [Initial1764270000000];

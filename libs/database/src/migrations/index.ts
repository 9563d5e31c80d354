import { Initial1764270000000 } from './1764270000000-Initial';
import { UserManagementAndWebhooks1764280000000 } from './1764280000000-UserManagementAndWebhooks';

/** Every migration, in order. New ones are appended here. */
export const MIGRATIONS = [Initial1764270000000, UserManagementAndWebhooks1764280000000];

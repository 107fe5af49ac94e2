/**
 * Side-effect import, first in the CLIs (keys, seed, migrate): with DATABASE_URL unset, they use the database of
 * the running `npm run dev` (scripts/lib/dev-database.ts). Imported first so it runs before the config is read.
 */
import { useRunningDevDatabase } from './dev-database.js';

useRunningDevDatabase();

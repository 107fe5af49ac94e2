import './lib/use-dev-database.js';
import { closePool, db } from '../lib/db/client.js';
import { seedDemoData } from './lib/seed.js';

/** `npm run db:seed`: demo festival and ticket types into DATABASE_URL (re-runnable). */
try {
  const { event, ticketTypes } = await seedDemoData(db);
  console.log(`seeded ${event.name} (${event.slug}) with ${ticketTypes.length} ticket types`);
} catch (error) {
  console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await closePool();
}

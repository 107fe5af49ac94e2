import { foldRollups, rebuildRollups } from '../lib/analytics/fold-rollups.js';
import { closePool } from '../lib/db/client.js';

/**
 * `npm run analytics:rebuild`: recomputes the hourly rollups from the ledger and the count deltas
 * (against DATABASE_URL / POSTGRES_URL), in one transaction (reports keep answering from the old
 * rollups until it commits), and says how long it took. `-- --fold` only folds the new rows (what
 * the cron does).
 */
const foldOnly = process.argv.includes('--fold');
try {
  const result = foldOnly ? await foldRollups() : await rebuildRollups();
  process.stdout.write(
    `${foldOnly ? 'folded' : 'rebuilt'} analytics rollups in ${(result.ms / 1000).toFixed(2)} s: ` +
      `${result.moneyRows} ledger rows, ${result.countRows} count deltas (watermark ${result.watermark})\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = 0;
} catch (error) {
  process.stderr.write(`analytics:rebuild failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await closePool();
}

import { transaction } from '../db/client.js';
import { clearRollupsInTx, foldRollupsInTx } from '../db/queries/analytics-fold.js';

/**
 * The cron's fold: adds the source rows written since the last fold into the hourly rollups (and
 * the daily ones, in each event's time zone) and
 * moves the watermark, in one transaction (a report sees either the old rollups and the old
 * watermark or the new ones, never a mix). The new watermark is the oldest transaction still
 * running (pg_snapshot_xmin): every source row below it is committed and visible, so a row
 * committed late (a long transaction) is never skipped; it is simply folded by a later run.
 * Two folds at once queue on the watermark row.
 */

export interface FoldResult {
  /** Ledger rows and count deltas folded by this run. */
  moneyRows: number;
  countRows: number;
  watermark: string;
  ms: number;
}

export async function foldRollups(): Promise<FoldResult> {
  const started = performance.now();
  const result = await transaction((tx) => foldRollupsInTx(tx));
  return { ...result, ms: Math.round(performance.now() - started) };
}

/** Recomputes every rollup from the ledger and the count deltas (`npm run analytics:rebuild`). */
export async function rebuildRollups(): Promise<FoldResult> {
  const started = performance.now();
  const result = await transaction(async (tx) => {
    await clearRollupsInTx(tx);
    return await foldRollupsInTx(tx);
  });
  return { ...result, ms: Math.round(performance.now() - started) };
}

import { db, type Queryable } from '../db/client.js';
import { findLedgerMismatches, type LedgerMismatch } from '../db/models/money-ledger.js';

/**
 * The ledger invariant, for the health and reconciliation code: every payment's ledger rows add up
 * to what its books say was kept (captured - refunded - lost disputes), and its fee rows to its fee.
 * `balanced: false` names the first payments that differ.
 */
export interface LedgerCheck {
  balanced: boolean;
  mismatches: LedgerMismatch[];
}

/** `since`: only payments changed since then (health looks at the last day; reconciliation at all). */
export async function checkLedger(options: { since?: Date; limit?: number } = {}, q: Queryable = db): Promise<LedgerCheck> {
  const mismatches = await findLedgerMismatches(q, undefined, options.limit ?? 20, options.since);
  return { balanced: mismatches.length === 0, mismatches };
}

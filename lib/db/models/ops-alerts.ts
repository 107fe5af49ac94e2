import type { Queryable, Tx } from '../client.js';
import { NOT_MISMATCH_CLASSES } from '../../reconciliation/types.js';

/** ops_alerts: one row per alert key (migration 0031), its state and when it was raised, notified, resolved. */

/** Every alert lib/ops/evaluate-alerts.ts evaluates (and the API document lists). */
export const ALERT_KEYS = [
  'failed_payments_hour',
  'success_rate_last_100',
  'dead_webhook',
  'inbox_backlog',
  'reconciliation_mismatch',
  'checkout_error_rate',
  'webhook_error_rate',
  'email_backlog',
] as const;
export type AlertKey = (typeof ALERT_KEYS)[number];

export interface OpsAlertRow {
  key: string;
  status: 'firing' | 'resolved';
  firedAt: Date;
  notifiedAt: Date | null;
}

interface AlertState {
  key: string;
  value: number;
  threshold: number;
  message: string;
}

/** Every alert row, locked (two overlapping evaluations cannot both raise the same alert). */
export async function lockOpsAlerts<R extends OpsAlertRow>(tx: Tx): Promise<R[]> {
  return await tx.queryMany<R>(
    `SELECT key, status, fired_at AS "firedAt", notified_at AS "notifiedAt" FROM ops_alerts ORDER BY key FOR UPDATE`,
  );
}

export async function raiseOpsAlert(tx: Tx, alert: AlertState, at: Date): Promise<void> {
  await tx.query(
    `INSERT INTO ops_alerts (key, status, value, threshold, message, fired_at, notified_at, resolved_at)
     VALUES ($1, 'firing', $2, $3, $4, $5, NULL, NULL)
     ON CONFLICT (key) DO UPDATE SET status = 'firing', value = $2, threshold = $3, message = $4, fired_at = $5,
       notified_at = NULL, resolved_at = NULL`,
    [alert.key, alert.value, alert.threshold, alert.message, at],
  );
}

export async function updateFiringAlert(tx: Tx, alert: AlertState): Promise<void> {
  await tx.query(`UPDATE ops_alerts SET value = $2, message = $3 WHERE key = $1`, [alert.key, alert.value, alert.message]);
}

export async function resolveOpsAlert(tx: Tx, alert: AlertState, at: Date): Promise<void> {
  await tx.query(`UPDATE ops_alerts SET status = 'resolved', resolved_at = $2, value = $3 WHERE key = $1`, [
    alert.key,
    at,
    alert.value,
  ]);
}

/** The start of this firing was notified (a later firing of the same key is notified again). */
export async function markAlertNotified(q: Queryable, key: string, firedAt: Date): Promise<void> {
  await q.query(`UPDATE ops_alerts SET notified_at = now() WHERE key = $1 AND status = 'firing' AND fired_at = $2`, [
    key,
    firedAt,
  ]);
}

/** The latest completed reconciliation run of each provider (by day, then completion) and its mismatched lines (NOT_MISMATCH_CLASSES apart). */
export async function latestReconciliationMismatches(
  q: Queryable,
): Promise<{ provider: string; day: string; mismatches: number }[]> {
  return await q.queryMany<{ provider: string; day: string; mismatches: number }>(
    `SELECT r.provider, to_char(r.day, 'YYYY-MM-DD') AS day,
            (SELECT count(*)::int FROM reconciliation_lines l
              WHERE l.run_id = r.id AND l.class <> ALL($1::text[])) AS mismatches
       FROM (SELECT DISTINCT ON (provider) id, provider, day FROM reconciliation_runs
              WHERE status = 'completed' ORDER BY provider, day DESC, completed_at DESC) r
      ORDER BY r.provider`,
    [NOT_MISMATCH_CLASSES],
  );
}

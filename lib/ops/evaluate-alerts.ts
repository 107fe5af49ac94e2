import { getConfig } from '../config.js';
import { db, type Queryable, transaction } from '../db/client.js';
import { log } from '../log.js';
import {
  type AlertKey,
  latestReconciliationMismatches,
  lockOpsAlerts,
  markAlertNotified,
  raiseOpsAlert,
  resolveOpsAlert,
  updateFiringAlert,
} from '../db/models/ops-alerts.js';
import { deleteRequestOutcomesBefore } from '../db/models/request-outcomes.js';
import { outboxFigures, paymentFigures, webhookFigures } from '../db/queries/operational-metrics.js';
import { type RecentErrorShare, recentErrorShare } from './request-figures.js';

/**
 * The operator's alerts, evaluated by GET /api/cron/evaluate-alerts every five minutes. Defaults are
 * the WitchCityRope design's thresholds, configurable (ALERT_* in .env.example):
 * - failed_payments_hour: more than ALERT_FAILED_PAYMENTS_PER_HOUR payment failures in the last hour;
 * - success_rate_last_100: success under ALERT_MIN_SUCCESS_RATE_PERCENT over the last 100 outcomes;
 * - dead_webhook: any dead inbox event;
 * - inbox_backlog: an unprocessed inbox event older than ALERT_INBOX_BACKLOG_MINUTES.
 * - reconciliation_mismatch: the latest completed reconciliation run of a provider (migrations/0070, the
 *   daily report of GET /api/reconciliation) has lines that are not `matched`. It clears when a newer run
 *   (or a re-run of that day) has none.
 * - checkout_error_rate / webhook_error_rate: more than ALERT_MAX_ERROR_RATE_PERCENT of 5xx answers among the
 *   last ALERT_ERROR_RATE_REQUESTS answers of the checkout routes (checkout-session, paypal-capture) / the
 *   webhook receivers, counted by lib/ops/request-metrics.ts (whole minutes of the last hour, newest first);
 *   no verdict under ALERT_ERROR_RATE_MIN_REQUESTS answers in the hour. 4xx answers never count.
 * - email_backlog: a dead email nobody resent, an uncertain one (its sender died mid-send), or a due email older than ALERT_EMAIL_BACKLOG_MINUTES.
 *
 * The cron also drops request outcome minutes older than eight days (REQUEST_OUTCOMES_KEEP_DAYS).
 *
 * Each alert is one ops_alerts row: notified once when it starts (retried until the notification
 * succeeds), not again while it lasts, and once when it clears. Notification: a JSON POST to
 * ALERT_WEBHOOK_URL when set, and always an `alert raised` / `alert cleared` log line.
 */

export interface AlertFigures {
  failuresLastHour: number;
  last100: { outcomes: number; successRate: number | null };
  deadWebhooks: number;
  oldestUnprocessedAgeSeconds: number | null;
  /** The latest completed reconciliation run per provider, with its lines that are not `matched`. */
  reconciliation: { provider: string; day: string; mismatches: number }[];
  /** 5xx among the newest answers of the checkout routes / the webhook receivers (lib/ops/request-figures.ts). */
  checkoutRequests: RecentErrorShare;
  webhookRequests: RecentErrorShare;
  /** The email outbox: dead messages nobody resent, and how long the oldest due one has waited. */
  email: { deadNotResent: number; uncertain: number; oldestDueAgeSeconds: number | null };
}

/** Request outcome minutes are kept this long (the metrics show 24 hours; a week more for looking back by SQL). */
export const REQUEST_OUTCOMES_KEEP_DAYS = 8;

export interface AlertCondition {
  key: AlertKey;
  firing: boolean;
  value: number;
  threshold: number;
  message: string;
}

/** The latest completed run of each provider (by day, then completion) and its unmatched lines. */
export async function reconciliationFigures(q: Queryable = db): Promise<AlertFigures['reconciliation']> {
  return await latestReconciliationMismatches(q);
}

export async function readAlertFigures(): Promise<AlertFigures> {
  const payments = await paymentFigures(db);
  const webhooks = await webhookFigures(db);
  const reconciliation = await reconciliationFigures(db);
  const checkoutRequests = await recentErrorShare(db, 'checkout');
  const webhookRequests = await recentErrorShare(db, 'webhook');
  const outbox = await outboxFigures(db);
  return {
    failuresLastHour: payments.lastHour.failures,
    last100: { outcomes: payments.last100.outcomes, successRate: payments.last100.successRate },
    deadWebhooks: webhooks.byStatus.dead,
    oldestUnprocessedAgeSeconds: webhooks.oldestUnprocessedAgeSeconds,
    reconciliation,
    checkoutRequests,
    webhookRequests,
    email: {
      deadNotResent: outbox.deadNotResent,
      uncertain: outbox.byStatus.uncertain,
      oldestDueAgeSeconds: outbox.oldestDueAgeSeconds,
    },
  };
}

function errorRateCondition(
  key: 'checkout_error_rate' | 'webhook_error_rate',
  what: string,
  share: RecentErrorShare,
  thresholds: ReturnType<typeof getConfig>['alerts'],
): AlertCondition {
  const percent = share.requests === 0 ? 0 : Math.round((share.serverErrors / share.requests) * 10_000) / 100;
  const judged = share.requests >= thresholds.errorRateMinRequests;
  return {
    key,
    firing: judged && percent > thresholds.maxErrorRatePercent,
    value: percent,
    threshold: thresholds.maxErrorRatePercent,
    message: judged
      ? `${what}: ${share.serverErrors} of the last ${share.requests} answers were 5xx (${percent} %, alert above ${thresholds.maxErrorRatePercent} %): GET /api/admin/metrics, requests`
      : `${what}: ${share.requests} answers in the last hour, under ${thresholds.errorRateMinRequests}: no verdict`,
  };
}

/** The rules: figures in, one verdict per alert out (no I/O). */
export function alertConditions(figures: AlertFigures, thresholds = getConfig().alerts): AlertCondition[] {
  const rate = figures.last100.successRate;
  const backlogMinutes = (figures.oldestUnprocessedAgeSeconds ?? 0) / 60;
  const mismatched = figures.reconciliation.filter((run) => run.mismatches > 0);
  const mismatches = mismatched.reduce((sum, run) => sum + run.mismatches, 0);
  const emailMinutes = (figures.email.oldestDueAgeSeconds ?? 0) / 60;
  return [
    {
      key: 'failed_payments_hour',
      firing: figures.failuresLastHour > thresholds.failedPaymentsPerHour,
      value: figures.failuresLastHour,
      threshold: thresholds.failedPaymentsPerHour,
      message: `${figures.failuresLastHour} payment failures in the last hour (alert above ${thresholds.failedPaymentsPerHour})`,
    },
    {
      key: 'success_rate_last_100',
      firing: rate !== null && rate * 100 < thresholds.minSuccessRatePercent,
      value: rate === null ? 100 : Math.round(rate * 10_000) / 100,
      threshold: thresholds.minSuccessRatePercent,
      message: `payment success ${rate === null ? 'n/a' : `${Math.round(rate * 10_000) / 100} %`} over the last ${figures.last100.outcomes} outcomes (alert under ${thresholds.minSuccessRatePercent} %)`,
    },
    {
      key: 'dead_webhook',
      firing: figures.deadWebhooks > 0,
      value: figures.deadWebhooks,
      threshold: 0,
      message: `${figures.deadWebhooks} dead webhook event(s): GET /api/admin/webhook-events?status=dead, then replay`,
    },
    {
      key: 'inbox_backlog',
      firing: backlogMinutes > thresholds.inboxBacklogMinutes,
      value: Math.floor(backlogMinutes),
      threshold: thresholds.inboxBacklogMinutes,
      message: `the oldest unprocessed webhook event is ${Math.floor(backlogMinutes)} minutes old (alert above ${thresholds.inboxBacklogMinutes})`,
    },
    {
      key: 'reconciliation_mismatch',
      firing: mismatches > 0,
      value: mismatches,
      threshold: 0,
      message:
        mismatches > 0
          ? `reconciliation mismatches: ${mismatched.map((run) => `${run.provider} ${run.day}: ${run.mismatches} (GET /api/reconciliation?date=${run.day}&provider=${run.provider})`).join(', ')}`
          : 'the latest reconciliation runs match',
    },
    errorRateCondition('checkout_error_rate', 'checkout', figures.checkoutRequests, thresholds),
    errorRateCondition('webhook_error_rate', 'webhook receivers', figures.webhookRequests, thresholds),
    {
      key: 'email_backlog',
      firing: figures.email.deadNotResent > 0 || figures.email.uncertain > 0 || emailMinutes > thresholds.emailBacklogMinutes,
      // The value is the oldest due email's wait in minutes; the message also names the dead ones.
      value: Math.floor(emailMinutes),
      threshold: thresholds.emailBacklogMinutes,
      message: `emails: ${figures.email.deadNotResent} dead and not resent, ${figures.email.uncertain} uncertain (GET /api/admin/messages?status=uncertain), the oldest due one waiting ${Math.floor(emailMinutes)} minutes (alert above ${thresholds.emailBacklogMinutes}): GET /api/admin/messages?status=dead`,
    },
  ];
}

export interface AlertNotification {
  alert: AlertKey;
  status: 'firing' | 'resolved';
  value: number;
  threshold: number;
  message: string;
  at: string;
}

export type Notifier = (notification: AlertNotification) => Promise<void>;

/** POSTs to ALERT_WEBHOOK_URL (3 s timeout); without one, the log line is the notification. */
export const notifyByWebhook: Notifier = async (notification) => {
  const url = getConfig().alerts.webhookUrl;
  if (!url) return;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(notification),
    signal: AbortSignal.timeout(3_000),
  });
  if (!response.ok) throw new Error(`alert webhook answered ${response.status}`);
};

export interface AlertRun {
  raised: AlertKey[];
  cleared: AlertKey[];
  firing: AlertKey[];
  notified: number;
  notificationErrors: number;
}

interface AlertRow {
  key: AlertKey;
  status: 'firing' | 'resolved';
  firedAt: Date;
  notifiedAt: Date | null;
}

export async function evaluateAlerts(options: { figures?: AlertFigures; notify?: Notifier; now?: Date } = {}): Promise<AlertRun> {
  const now = options.now ?? new Date();
  await deleteRequestOutcomesBefore(db, new Date(now.getTime() - REQUEST_OUTCOMES_KEEP_DAYS * 86_400_000));
  const conditions = alertConditions(options.figures ?? (await readAlertFigures()));
  const notify = options.notify ?? notifyByWebhook;
  // The state change first, in one transaction (rows locked: two overlapping runs cannot both raise).
  const { raised, cleared, toNotify } = await transaction(async (tx) => {
    const rows: AlertRow[] = await lockOpsAlerts(tx);
    const byKey = new Map(rows.map((row) => [row.key, row]));
    const raised: AlertCondition[] = [];
    const cleared: AlertCondition[] = [];
    const toNotify: AlertNotification[] = [];
    for (const condition of conditions) {
      const row = byKey.get(condition.key);
      const live = row?.status === 'firing';
      if (condition.firing && !live) {
        await raiseOpsAlert(tx, condition, now);
        raised.push(condition);
        toNotify.push({ ...notificationOf(condition, 'firing', now) });
      } else if (condition.firing && live) {
        await updateFiringAlert(tx, condition);
        // The start was never notified (the webhook failed): try again, still once per alert.
        if (row.notifiedAt === null) toNotify.push(notificationOf(condition, 'firing', row.firedAt));
      } else if (!condition.firing && live) {
        await resolveOpsAlert(tx, condition, now);
        cleared.push(condition);
        toNotify.push(notificationOf(condition, 'resolved', now));
      }
    }
    return { raised, cleared, toNotify };
  });

  for (const condition of raised) {
    log.warn('alert raised', {
      event: 'alert.raised',
      alert: condition.key,
      value: condition.value,
      threshold: condition.threshold,
    });
  }
  for (const condition of cleared) {
    log.info('alert cleared', { event: 'alert.cleared', alert: condition.key, value: condition.value });
  }
  // Notifications outside the transaction.
  let notified = 0;
  let notificationErrors = 0;
  for (const notification of toNotify) {
    try {
      await notify(notification);
      notified += 1;
      if (notification.status === 'firing') {
        await markAlertNotified(db, notification.alert, new Date(notification.at));
      }
    } catch (error) {
      notificationErrors += 1;
      log.warn('alert notification failed', { alert: notification.alert, status: notification.status, error });
    }
  }
  return {
    raised: raised.map((c) => c.key),
    cleared: cleared.map((c) => c.key),
    firing: conditions.filter((c) => c.firing).map((c) => c.key),
    notified,
    notificationErrors,
  };
}

function notificationOf(condition: AlertCondition, status: 'firing' | 'resolved', at: Date): AlertNotification {
  return {
    alert: condition.key,
    status,
    value: condition.value,
    threshold: condition.threshold,
    message: condition.message,
    at: at.toISOString(),
  };
}

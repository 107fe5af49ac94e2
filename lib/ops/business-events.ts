import { afterCommit } from '../db/after-commit.js';
import type { Tx } from '../db/client.js';
import { log } from '../log.js';

/**
 * One JSON log line per business event (issue 16, "Logs"), through the one logger (lib/log.ts): ids,
 * statuses and amounts only, never personal data (no emails, names or addresses: the types below have
 * no field that could carry them). Written only once the transaction that made the change has
 * committed (lib/db/after-commit.ts): a rolled-back or retried transaction logs nothing extra.
 * `alert raised` / `alert cleared` lines are written by lib/ops/evaluate-alerts.ts after its commit.
 */

export type BusinessEvent =
  | {
      event: 'order.paid';
      orderId: string;
      orderNumber: string;
      paymentId: string;
      provider: string;
      providerPaymentId: string;
      amountCents: number;
      currency: string;
      late: boolean;
    }
  | {
      event: 'refund.settled';
      refundId: string;
      orderId: string;
      paymentId: string;
      provider: string;
      providerRefundId: string | null;
      status: string;
      /** null: first seen already settled (a refund made in the provider's dashboard). */
      previousStatus: string | null;
      amountCents: number;
      currency: string;
      source: string;
    }
  | {
      event: 'webhook.dead';
      webhookEventId: string;
      provider: string;
      providerEventId: string;
      eventType: string;
      attempts: number;
    };

const MESSAGES: Record<BusinessEvent['event'], string> = {
  'order.paid': 'order paid',
  'refund.settled': 'refund settled',
  'webhook.dead': 'webhook dead',
};

const LEVELS: Record<BusinessEvent['event'], 'info' | 'warn'> = {
  'order.paid': 'info',
  'refund.settled': 'info',
  'webhook.dead': 'warn',
};

/** Logs the event once `tx` commits (never when it rolls back). */
export function logBusinessEventAfterCommit(tx: Tx, fields: BusinessEvent): void {
  afterCommit(tx, () => logBusinessEvent(fields));
}

/** Logs the event of a change that has already committed (e.g. a one-statement write, its own transaction). */
export function logBusinessEvent(fields: BusinessEvent): void {
  log[LEVELS[fields.event]](MESSAGES[fields.event], { ...fields });
}

import { getConfig } from '../config.js';
import { db, transaction } from '../db/client.js';
import { claimDueMessages, markMessageFailed, markMessageSent, type OutboxMessage } from '../db/models/outbox-messages.js';
import { log } from '../log.js';
import { renderMessage } from './render-message.js';
import { describeSmtpError, sendMail } from './transport.js';

/**
 * Sends what is due, outside any transaction that changed money:
 * claim (one short UPDATE … SKIP LOCKED: a row goes to exactly one sender, and each claim is an attempt)
 * → render (short transaction: ticket codes, link token) → SMTP → record sent, or the error with the next
 * attempt time (exponential backoff) or dead after MAIL_MAX_ATTEMPTS. A failure here never reaches the
 * payment that queued the message: that transaction committed long before.
 *
 * At-least-once: if the process dies between the SMTP server's 250 and the `sent` write, the lease runs
 * out and the message goes again (same Message-ID base, next attempt number).
 */

const LEASE_SECONDS = 120;
const MAX_BACKOFF_SECONDS = 6 * 3600;

export interface DeliverySummary {
  claimed: number;
  sent: number;
  failed: number;
  dead: number;
}

/** When attempt number `attempts` (1-based) failed: base × 2^(attempts−1), capped. */
export function nextAttemptAt(attempts: number, now: Date = new Date()): Date {
  const base = getConfig().mail.retryBaseSeconds;
  const seconds = Math.min(MAX_BACKOFF_SECONDS, base * 2 ** Math.max(0, attempts - 1));
  return new Date(now.getTime() + seconds * 1000);
}

async function deliverOne(message: OutboxMessage, summary: DeliverySummary): Promise<void> {
  try {
    const mail = await transaction((tx) => renderMessage(tx, message));
    const sent = await sendMail(mail);
    await markMessageSent(db, message, sent.messageId);
    summary.sent++;
    log.info('email sent', { messageId: message.id, kind: message.kind, attempts: message.attempts });
  } catch (error) {
    const dead = message.attempts >= getConfig().mail.maxAttempts;
    const description = describeSmtpError(error);
    await markMessageFailed(db, message, { error: description, dead, retryAt: nextAttemptAt(message.attempts) });
    if (dead) summary.dead++;
    else summary.failed++;
    log.warn(dead ? 'email dead' : 'email attempt failed', {
      messageId: message.id,
      kind: message.kind,
      attempts: message.attempts,
      error: description,
    });
  }
}

/**
 * Claims one message at a time, and only while a whole send still fits in the function's limit (claiming
 * stops at limit − one send budget − 1 s), so a claimed message is never abandoned mid-send by the platform.
 */
export async function deliverDueMessages(
  options: { limit?: number; budgetMs?: number; ids?: readonly string[] } = {},
): Promise<DeliverySummary> {
  const started = Date.now();
  const { functionLimitMs, smtp } = getConfig().timeBudget;
  const budgetMs = options.budgetMs ?? Math.max(1_000, functionLimitMs - smtp.sendBudgetMs - 1_000);
  const summary: DeliverySummary = { claimed: 0, sent: 0, failed: 0, dead: 0 };
  let remaining = options.limit ?? 25;
  while (remaining > 0 && Date.now() - started < budgetMs) {
    const batch = await claimDueMessages(db, {
      limit: 1,
      leaseSeconds: LEASE_SECONDS,
      ids: options.ids,
    });
    if (batch.length === 0) break;
    summary.claimed += batch.length;
    remaining -= batch.length;
    for (const message of batch) await deliverOne(message, summary);
  }
  return summary;
}

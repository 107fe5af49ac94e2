import { getConfig } from '../config.js';
import { db, transaction } from '../db/client.js';
import {
  claimDueMessages,
  markLapsedClaimsUncertain,
  markMessageFailed,
  markMessageSent,
  type OutboxMessage,
} from '../db/models/outbox-messages.js';
import { log } from '../log.js';
import { unsafeCrashPointForTests } from '../testing/crash-points.js';
import { renderMessage } from './render-message.js';
import { describeSmtpError, type SentMail, sendMail } from './transport.js';

/**
 * Sends what is due, outside any transaction that changed money. Per message:
 *
 *   claim ── one conditional update that skips rows another deliverer has locked, committed: status
 *            `sending`, claimed_at, attempt + 1, a lease.
 *            Concurrent deliverers (the after-commit send, crons) can never both claim a row, and a claimed row
 *            is not due again: a message is handed to the SMTP server by at most one deliverer.
 *   render ─ short transaction (ticket codes, the order-page link token).
 *   SMTP ─── nodemailer, cut at the send budget; not started if the claim is too old to finish inside its lease.
 *   record ─ `sent` with the accepted Message-ID; or the error → pending at the next backoff time, or dead after
 *            MAIL_MAX_ATTEMPTS. Only the claim's own attempt can record (attempts must match).
 *
 * A deliverer that dies between claim and record (✗ after the server's 250, or before it: we cannot tell) leaves
 * the row `sending`. When its lease has run out, the cron makes it `uncertain` and does NOT send it again. We
 * chose this over resending automatically with the same Message-ID: deduplication by Message-ID is not
 * something SMTP promises, and most mailboxes (Outlook, Apple Mail, most webmail) show both copies, so an
 * automatic resend would be "sent twice" for most buyers. The window is one SMTP conversation (seconds), so
 * uncertain messages are rare; staff see them (GET /api/admin/messages?status=uncertain, the metrics' outbox
 * figures), check the mail provider's log, and resend on purpose (the same row, the same Message-ID, so a
 * provider that has it may still drop the copy). Never lost (visible until handled), never sent twice by us.
 *
 * Order of one order's emails: a message is claimed only when no earlier message of its order (queue order,
 * `seq`) is pending or sending, so a refund notice never overtakes the confirmation. A dead or uncertain earlier
 * message does not block (waiting for staff would hold the later notice indefinitely; a dead one has used up its
 * attempts, at most ~2 h with the defaults, an uncertain one was most likely delivered already).
 *
 * A failure here never reaches the payment that queued the message: that transaction committed long before.
 */

/**
 * How long a claim belongs to its deliverer. Far above anything a live deliverer needs (every function stops
 * at FUNCTION_MAX_DURATION_S, 10 s; a send is cut at its budget), so a claim that outlives it means the deliverer died.
 */
export const LEASE_SECONDS = 120;
const MAX_BACKOFF_SECONDS = 6 * 3600;

export interface DeliverySummary {
  claimed: number;
  sent: number;
  failed: number;
  dead: number;
  /** Lapsed claims found and made uncertain by this run (the cron's). */
  uncertain: number;
}

/** When attempt number `attempts` (1-based) failed: base × 2^(attempts−1), capped. */
export function nextAttemptAt(attempts: number, now: Date = new Date()): Date {
  const base = getConfig().mail.retryBaseSeconds;
  const seconds = Math.min(MAX_BACKOFF_SECONDS, base * 2 ** Math.max(0, attempts - 1));
  return new Date(now.getTime() + seconds * 1000);
}

/** What became of one claimed message: `failed` keeps it (and so the order's later messages) waiting. */
type Outcome = 'sent' | 'failed' | 'dead';

async function deliverOne(message: OutboxMessage, claimedAtMs: number, summary: DeliverySummary): Promise<Outcome> {
  unsafeCrashPointForTests('message.after-claim');
  let sent: SentMail;
  try {
    const mail = await transaction((tx) => renderMessage(tx, message));
    // A send must end inside the lease; a deliverer delayed this long sends nothing (an ordinary failed attempt).
    const sendBy = claimedAtMs + LEASE_SECONDS * 1000 - getConfig().timeBudget.smtp.sendBudgetMs - 1_000;
    if (Date.now() > sendBy) throw new Error('claim too old to send inside its lease: not sent');
    sent = await sendMail(mail);
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
    return dead ? 'dead' : 'failed';
  }
  // ✗ here: the server has the email and we have no record of it → sending → (lease over) uncertain.
  unsafeCrashPointForTests('message.after-send');
  const recorded = await markMessageSent(db, message, sent.messageId);
  summary.sent++;
  if (recorded) log.info('email sent', { messageId: message.id, kind: message.kind, attempts: message.attempts });
  else log.warn('email sent after its claim was taken over', { messageId: message.id, attempts: message.attempts });
  return 'sent';
}

/**
 * Claims one message at a time, and only while a whole send still fits in the function's limit (claiming
 * stops at limit − one send budget − 1 s), so a claimed message is never abandoned mid-send by the platform.
 *
 * With `ids` (the after-commit send, a staff resend), once those are done: follow-ups. A later message of the same
 * order that was queued while this one was still unsent could not go (the order gate) and would wait for the cron;
 * it goes now, right behind the one that held it back (at most FOLLOW_UPS of them).
 */
const FOLLOW_UPS = 10;

export async function deliverDueMessages(
  options: { limit?: number; budgetMs?: number; ids?: readonly string[] } = {},
): Promise<DeliverySummary> {
  const started = Date.now();
  const { functionLimitMs, smtp } = getConfig().timeBudget;
  const budgetMs = options.budgetMs ?? Math.max(1_000, functionLimitMs - smtp.sendBudgetMs - 1_000);
  const summary: DeliverySummary = { claimed: 0, sent: 0, failed: 0, dead: 0, uncertain: 0 };
  if (!options.ids) {
    for (const lapsed of await markLapsedClaimsUncertain(db)) {
      summary.uncertain++;
      log.warn('email uncertain: its deliverer died mid-send; staff must resend it', {
        messageId: lapsed.id,
        kind: lapsed.kind,
        attempts: lapsed.attempts,
      });
    }
  }
  let remaining = options.limit ?? 25;
  let followUps = options.ids ? FOLLOW_UPS : 0;
  const unblocked = new Set<string>();
  while (Date.now() - started < budgetMs) {
    const claimedAtMs = Date.now(); // taken before the claim: the local lease can only end early, never late
    let batch: OutboxMessage[] = [];
    if (remaining > 0) batch = await claimDueMessages(db, { limit: 1, leaseSeconds: LEASE_SECONDS, ids: options.ids });
    if (batch.length === 0 && followUps > 0 && unblocked.size > 0) {
      batch = await claimDueMessages(db, { limit: 1, leaseSeconds: LEASE_SECONDS, orderIds: [...unblocked] });
      if (batch.length === 0) unblocked.clear();
      else followUps--;
    } else if (batch.length > 0) remaining--;
    if (batch.length === 0) break;
    summary.claimed += batch.length;
    for (const message of batch) {
      if ((await deliverOne(message, claimedAtMs, summary)) !== 'failed') unblocked.add(message.orderId);
    }
  }
  return summary;
}

import { logBusinessEventAfterCommit } from '../ops/business-events.js';
import { db, transaction } from '../db/client.js';
import { isDbError } from '../db/errors.js';
import type { Actor } from '../db/models/audit-log.js';
import type { Provider } from '../db/models/orders.js';
import {
  correctWebhookEventOutcome,
  findWebhookEventByProviderId,
  finishWebhookEventInFlight,
  listDueWebhookEvents,
  lockWebhookEventById,
  markWebhookEventDone,
  markWebhookEventFailed,
  markWebhookEventInFlight,
  type StoredEventRef,
  type StoreOutcome,
  storableEvent,
  storeWebhookEvent,
  type WebhookEvent,
  type WebhookEventStatus,
} from '../db/models/webhook-events.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import { runInBackground } from '../messages/schedule-delivery.js';
import { unsafeCrashPointForTests } from '../testing/crash-points.js';
import { handlerFor } from './dispatch.js';
import { runFollowUp } from './follow-ups.js';
import { type ApplyOutcome, type FollowUp, ignored, needsLease, type StoredAndApplied } from './types.js';

/**
 * The webhook inbox: store first, then apply.
 *
 * 1. A verified delivery is inserted (unique provider + event id, conflict ignored). Only once that
 *    insert has committed does the route answer 2xx; a duplicate answers 200 and changes nothing;
 *    a database that cannot be reached gives 5xx (the provider retries).
 * 2. The event is applied in one short transaction that locks its inbox row (so the delivery, a
 *    duplicate delivery, the retry cron and an admin replay never apply it twice at once), runs the
 *    handler for its type and marks it processed / ignored.
 * 3. Provider calls the handler asked for (late-payment refunds, PayPal capture) run after that
 *    commit, with deterministic idempotency keys, under a lease (status `processing`). Stripe fee reads
 *    run after it too, without a lease (types.ts, needsLease): a missed one is the fee cron's.
 * 4. A throw leaves the event `failed` with the error, the attempt count and the next attempt time
 *    (exponential backoff); after `maxAttempts` it is `dead` until an admin replays it.
 *
 * Why a stored event whose processing failed still gets 200: it is durably in the inbox and the retry
 * cron owns it from there; a 5xx would only make the provider send a duplicate that changes nothing.
 */

export interface RetryPolicy {
  /** Attempts (deliveries + retries) before an event is dead. */
  maxAttempts: number;
  /** Delay after the first failed attempt; doubles with every further one. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** How long an applied event may hold its follow-ups before the cron takes it back. */
  leaseSeconds: number;
  /** A `received` event untouched this long was abandoned (the function died); the cron applies it. */
  receivedGraceSeconds: number;
}

/** 60 s, 2 min, 4 min ... capped at 12 h; 12 attempts span about 41 hours (providers retry for 3 days). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 12,
  baseDelaySeconds: 60,
  maxDelaySeconds: 12 * 3600,
  leaseSeconds: 120,
  receivedGraceSeconds: 60,
};

/** Seconds to wait after the `attempts`-th failed attempt. */
export function backoffSeconds(attempts: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return Math.min(policy.baseDelaySeconds * 2 ** Math.max(0, attempts - 1), policy.maxDelaySeconds);
}

export interface ProcessOptions {
  actor: Actor;
  /** Clock for due checks and backoff (tests move it forward). */
  now?: Date;
  /** Admin replay: apply whatever the status (handlers are idempotent, so a processed event changes nothing). */
  replay?: boolean;
  policy?: Partial<RetryPolicy>;
}

export interface ProcessResult {
  eventId: string;
  status: WebhookEventStatus;
  /** The handler ran (false when the event was not due: finished, dead, or leased by another worker). */
  applied: boolean;
  error?: string;
}

const FINISHED: readonly WebhookEventStatus[] = ['processed', 'ignored'];

function isDue(event: WebhookEvent, now: Date, replay: boolean): boolean {
  if (replay) return true;
  switch (event.status) {
    case 'received':
      return true;
    case 'failed':
    case 'processing':
      return event.nextAttemptAt === null || event.nextAttemptAt.getTime() <= now.getTime();
    default:
      return false;
  }
}

/** Client-safe (admin-visible) text of an error: its message, never a stack. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 1000);
  return String(error).slice(0, 1000);
}

type Applied =
  | { kind: 'skipped'; status: WebhookEventStatus }
  | { kind: 'applied'; outcome: ApplyOutcome; wasFinished: boolean; previousStatus: WebhookEventStatus };

async function applyInTransaction(eventId: string, options: ProcessOptions, policy: RetryPolicy, now: Date): Promise<Applied> {
  return await transaction(async (tx) => {
    const event = await lockWebhookEventById(tx, eventId);
    if (!event) throw new AppError('NOT_FOUND', 'No such webhook event');
    if (!isDue(event, now, options.replay ?? false)) return { kind: 'skipped', status: event.status };
    const wasFinished = FINISHED.includes(event.status);
    // Marked processed up front (the transaction makes it all-or-nothing): the handler's last
    // statements lock shared rows (ticket-type counters), and this keeps the inbox write out of
    // that window. Corrected below in the rare other outcomes.
    if (!wasFinished) await markWebhookEventDone(tx, event.id, 'processed', null);
    const handler = handlerFor(event.provider, event.eventType);
    const outcome = handler
      ? await handler(tx, event.payload, { actor: options.actor, event })
      : ignored(`No handler for ${event.provider} ${event.eventType}`);
    const leaseUntil = new Date(now.getTime() + policy.leaseSeconds * 1000);
    const hasFollowUps = (outcome.followUps ?? []).some(needsLease);
    if (wasFinished) {
      if (hasFollowUps) await markWebhookEventInFlight(tx, event.id, leaseUntil);
    } else if (hasFollowUps) {
      await correctWebhookEventOutcome(tx, event.id, { status: 'processing', note: null, leaseUntil });
    } else if (outcome.status !== 'processed' || outcome.note) {
      await correctWebhookEventOutcome(tx, event.id, { status: outcome.status, note: outcome.note ?? null, leaseUntil: null });
    }
    return { kind: 'applied', outcome, wasFinished, previousStatus: event.status };
  });
}

/** Records a failed attempt: failed with backoff, or dead after the limit. Never throws. */
async function recordFailure(
  eventId: string,
  error: unknown,
  options: { countAttempt: boolean; policy: RetryPolicy; now: Date },
): Promise<ProcessResult> {
  const text = errorText(error);
  try {
    return await transaction(async (tx) => {
      const event = await lockWebhookEventById(tx, eventId);
      if (!event) return { eventId, status: 'failed' as const, applied: false, error: text };
      const attempts = event.attempts + (options.countAttempt ? 1 : 0);
      const dead = attempts >= options.policy.maxAttempts;
      const nextAttemptAt = dead ? null : new Date(options.now.getTime() + backoffSeconds(attempts, options.policy) * 1000);
      await markWebhookEventFailed(tx, eventId, { status: dead ? 'dead' : 'failed', attempts, error: text, nextAttemptAt });
      log.warn('webhook event failed', { eventId, attempts, dead, error: text });
      // Once, when it becomes dead (a replay of a dead event that fails again does not log it again).
      if (dead && event.status !== 'dead') {
        logBusinessEventAfterCommit(tx, {
          event: 'webhook.dead',
          webhookEventId: event.id,
          provider: event.provider,
          providerEventId: event.providerEventId,
          eventType: event.eventType,
          attempts,
        });
      }
      return { eventId, status: dead ? ('dead' as const) : ('failed' as const), applied: false, error: text };
    });
  } catch (recordError) {
    // The database went away too: the event stays received/processing and the cron takes it later.
    log.error('webhook failure not recorded', { eventId, error: errorText(recordError) });
    return { eventId, status: 'received', applied: false, error: text };
  }
}

async function runFollowUps(followUps: readonly FollowUp[], actor: Actor): Promise<void> {
  const queue = [...followUps];
  for (let next = queue.shift(); next; next = queue.shift()) {
    queue.push(...(await runFollowUp(next, actor)));
  }
}

/**
 * Applies one stored event if it is due (or always, for a replay). Never throws for processing
 * errors: they are recorded on the event. Throws NOT_FOUND for an unknown id.
 */
export async function processWebhookEvent(eventId: string, options: ProcessOptions): Promise<ProcessResult> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const now = options.now ?? new Date();
  let applied: Applied;
  try {
    applied = await applyInTransaction(eventId, options, policy, now);
  } catch (error) {
    if (error instanceof AppError && error.code === 'NOT_FOUND') throw error;
    return await recordFailure(eventId, error, { countAttempt: true, policy, now });
  }
  if (applied.kind === 'skipped') return { eventId, status: applied.status, applied: false };
  const { outcome } = applied;
  const followUps = outcome.followUps ?? [];
  if (!followUps.some(needsLease)) {
    // Fee reads only (or nothing): the event is already finished; they never throw (follow-ups.ts).
    await runFollowUps(followUps, options.actor);
    // A replayed finished event keeps its status (its handler found nothing to change).
    return { eventId, status: applied.wasFinished ? applied.previousStatus : outcome.status, applied: true };
  }
  return await finishFollowUps(eventId, followUps, options.actor, policy, now);
}

/** The provider calls of an applied event (it is `processing` under its lease), then processed; a failure is recorded. */
async function finishFollowUps(
  eventId: string,
  followUps: readonly FollowUp[],
  actor: Actor,
  policy: RetryPolicy,
  now: Date,
): Promise<ProcessResult> {
  try {
    await runFollowUps(followUps, actor);
    await finishWebhookEventInFlight(db, eventId);
  } catch (error) {
    return await recordFailure(eventId, error, { countAttempt: false, policy, now });
  }
  return { eventId, status: 'processed', applied: true };
}

/**
 * A fresh delivery whose handler has a one-statement form (`storeAndApply`, e.g. a paid Stripe session
 * of a live hold): stored as processed and applied in that one statement. What follows it (the Stripe
 * fee read) runs after the response (waitUntil on Vercel) and needs no lease: a fee not read is the fee
 * cron's (types.ts, needsLease).
 *
 * Answers the StoreOutcome when the statement stored the event without applying it (not that case) or
 * met it already stored (a duplicate): the caller goes on as if it had stored it itself. Undefined when
 * the handler has no such form, cannot tell before writing, or the statement failed (all or nothing:
 * nothing was written): the caller stores the event the usual way.
 */
async function storeAndApplyAlone(
  incoming: IncomingEvent,
  actor: Actor,
): Promise<{ applied: ReceiveResult } | { stored: StoreOutcome } | undefined> {
  const storeAndApply = handlerFor(incoming.provider, incoming.eventType)?.storeAndApply;
  if (!storeAndApply) return undefined;
  let result: StoredAndApplied | undefined;
  try {
    result = await storeAndApply(incoming.payload, { actor, delivery: storableEvent(incoming) });
  } catch (error) {
    log.warn('webhook event not stored in one statement; storing it the usual way', {
      providerEventId: incoming.providerEventId,
      error: errorText(error),
    });
    return undefined;
  }
  if (!result?.afterResponse) return result;
  const followUps = result.afterResponse;
  if (followUps.length > 0) {
    // Started on the next turn of the event loop: the response is on its way before the first query.
    runInBackground('webhook follow-ups', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return await runFollowUps(followUps, actor);
    });
  }
  return { applied: { eventId: result.event.id, duplicate: false, status: 'processed' } };
}

export interface IncomingEvent {
  provider: Provider;
  providerEventId: string;
  eventType: string;
  payload: unknown;
}

export interface ReceiveResult {
  /** The inbox row id (undefined for a duplicate delivery, unless the duplicate applied the stored event). */
  eventId: string | undefined;
  duplicate: boolean;
  status: WebhookEventStatus | 'duplicate';
}

/**
 * The delivery path: store, then apply (in one statement when the handler has a form for it). A storage
 * failure throws (the route answers 5xx so the provider retries); anything after the store is recorded
 * on the event and never throws.
 */
export async function receiveWebhookEvent(incoming: IncomingEvent, actor: Actor): Promise<ReceiveResult> {
  const alone = await storeAndApplyAlone(incoming, actor);
  if (alone && 'applied' in alone) return alone.applied;
  const outcome = alone?.stored ?? (await storeWebhookEvent(db, incoming));
  if (!outcome.isNew) return await receiveDuplicate(incoming, actor, outcome.existing);
  const stored = outcome.event;
  unsafeCrashPointForTests('webhook.after-store');
  try {
    const result = await processWebhookEvent(stored.id, { actor });
    return { eventId: stored.id, duplicate: false, status: result.status };
  } catch (error) {
    log.error('webhook event processing crashed after store', { eventId: stored.id, error: errorText(error) });
    return { eventId: stored.id, duplicate: false, status: 'received' };
  }
}

/** Stored but not (successfully) applied: a duplicate delivery of such an event applies it. */
const UNAPPLIED: readonly WebhookEventStatus[] = ['received', 'failed', 'processing'];

/**
 * A duplicate delivery. Providers send an event again when they got no 2xx, e.g. because the first
 * delivery stored it and died before applying it. Such a stored, unapplied event is applied now
 * instead of only being answered "duplicate". processWebhookEvent locks the inbox row and applies only
 * a due event (a `received` one always; a failed one after its backoff; an in-flight one after its
 * lease), so the first delivery, racing duplicates and the retry cron apply it exactly once. A
 * finished event changes nothing.
 */
async function receiveDuplicate(
  incoming: IncomingEvent,
  actor: Actor,
  found: StoredEventRef | undefined,
): Promise<ReceiveResult> {
  const duplicate: ReceiveResult = { eventId: undefined, duplicate: true, status: 'duplicate' };
  // Read in the store statement; read again only when the first delivery committed while that statement ran.
  const existing = found ?? (await findWebhookEventByProviderId(db, incoming.provider, incoming.providerEventId));
  if (!existing || !UNAPPLIED.includes(existing.status)) return duplicate;
  try {
    const result = await processWebhookEvent(existing.id, { actor });
    return result.applied ? { eventId: existing.id, duplicate: true, status: result.status } : duplicate;
  } catch (error) {
    log.error('stored webhook event not applied on its duplicate', { eventId: existing.id, error: errorText(error) });
    return duplicate;
  }
}

export interface RetrySummary {
  picked: number;
  processed: number;
  ignored: number;
  failed: number;
  dead: number;
  skipped: number;
  /** True when the time budget ended the run before the list was done. */
  truncated: boolean;
}

/** The retry cron's work: apply every due event, oldest first, within a time budget. */
export async function retryDueWebhookEvents(options: {
  actor: Actor;
  now?: Date;
  limit?: number;
  budgetMs?: number;
  policy?: Partial<RetryPolicy>;
}): Promise<RetrySummary> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const now = options.now ?? new Date();
  const started = Date.now();
  const due = await listDueWebhookEvents(db, {
    now,
    receivedBefore: new Date(now.getTime() - policy.receivedGraceSeconds * 1000),
    limit: options.limit ?? 50,
  });
  const summary: RetrySummary = {
    picked: due.length,
    processed: 0,
    ignored: 0,
    failed: 0,
    dead: 0,
    skipped: 0,
    truncated: false,
  };
  for (const event of due) {
    if (options.budgetMs !== undefined && Date.now() - started > options.budgetMs) {
      summary.truncated = true;
      break;
    }
    let result: ProcessResult;
    try {
      result = await processWebhookEvent(event.id, { actor: options.actor, now, policy: options.policy });
    } catch (error) {
      if (isDbError(error, 'CONNECTION_ERROR')) throw error;
      log.error('webhook retry crashed', { eventId: event.id, error: errorText(error) });
      summary.failed += 1;
      continue;
    }
    if (!result.applied && result.status !== 'failed' && result.status !== 'dead') summary.skipped += 1;
    else if (result.status === 'processed') summary.processed += 1;
    else if (result.status === 'ignored') summary.ignored += 1;
    else if (result.status === 'dead') summary.dead += 1;
    else summary.failed += 1;
  }
  return summary;
}

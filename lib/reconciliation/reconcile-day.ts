import { db, type Tx, transaction } from '../db/client.js';
import type { Provider } from '../db/models/orders.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import {
  booksDayTotals,
  booksSource,
  type BooksSource,
  findBooksEntries,
  findDisputeEntries,
  findOrderHints,
  unmatchedBooksEntries,
} from '../db/queries/reconciliation-books.js';
import {
  classifyProviderRecord,
  explainBooksOnly,
  explainPayPalWithdrawal,
  explainStripePayout,
  type OrderHint,
} from './classify.js';
import { firstPayPalCursor, type PayPalCursor, paypalDayChunks, type PayPalWithdrawal } from './paypal-records.js';
import {
  advanceRun,
  classesOfRecords,
  completeRun,
  deleteRun,
  findRun,
  insertLines,
  insertRun,
  type LineInput,
  lineTotals,
  lockReconciliationDay,
  lockRun,
  providerLinesBetween,
  type RunRow,
  setLinesPayout,
} from '../db/models/reconciliation-runs.js';
import { stripeDayChunks, stripeDayPayouts } from './stripe-records.js';
import {
  MISMATCH_CLASSES,
  type Payout,
  RECONCILIATION_CLASSES,
  type ReconcileOutcome,
  type ReconciliationClass,
  type ProviderRecord,
  type RunSummary,
} from './types.js';

/**
 * reconcileDay: one provider's UTC day against our books, as a stored run of lines.
 *
 *  1. provider phase: the provider's records for the day, a chunk (a page) at a time. Each chunk is
 *     matched against our books on the provider's reference, classified (classify.ts) and written as
 *     lines together with the run's cursor in one short transaction, so a run that runs out of time
 *     (`timeBudgetMs`, kept under the function's maxDuration) continues exactly where it stopped.
 *  2. books phase: our movements of the day that no provider record named → `books_only` lines.
 *  3. finish: payouts with their totals and whether every transaction in them matched (Stripe lists a
 *     payout's transactions; a PayPal withdrawal does not, so it is compared with the day's net and
 *     written as a `payout` line); totals and counts; then, in one transaction, this run replaces the
 *     day's previous report.
 *
 * Idempotent: re-running a day builds a new run and swaps it in when it is complete; the old report
 * stays readable until then. Safe beside webhooks: lines read the books as they are when their chunk
 * is written; a movement recorded later is simply matched by the next run. Two workers on the same
 * run cannot both write a chunk: each chunk checks (under the run's row lock) that the run is still
 * where it read it, else it stops with CONFLICT.
 */

export interface ReconcileDayInput {
  provider: Provider;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** Start over even when a run of the day is in progress or complete (the CLI; a forced re-run). */
  restart?: boolean;
  /** Stop after the chunk that passes this many ms (the run continues on the next call). */
  timeBudgetMs?: number;
}

type StripeCursor = { phase: 'provider'; after: string | null };
type PayPalProviderCursor = { phase: 'provider'; paypal: PayPalCursor; withdrawals: PayPalWithdrawal[] };
type BooksCursor = { phase: 'books'; after: { occurredAt: string; reference: string } | null; withdrawals?: PayPalWithdrawal[] };
type RunCursor = StripeCursor | PayPalProviderCursor | BooksCursor;

const BOOKS_BATCH = 1_000;

export function dayRange(day: string): { dayStart: Date; dayEnd: Date } {
  const dayStart = new Date(`${day}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(dayStart.getTime()) || dayStart.toISOString().slice(0, 10) !== day) {
    throw new AppError('VALIDATION_ERROR', `Not a day (YYYY-MM-DD): ${day}`);
  }
  return { dayStart, dayEnd: new Date(dayStart.getTime() + 86_400_000) };
}

function firstCursor(provider: Provider, day: string): RunCursor {
  if (provider === 'stripe') return { phase: 'provider', after: null };
  const { dayStart, dayEnd } = dayRange(day);
  return { phase: 'provider', paypal: firstPayPalCursor(dayStart, dayEnd), withdrawals: [] };
}

/** The run to work on: the day's run in progress, a new one, or (not restarting) the completed report. */
async function openRun(input: ReconcileDayInput): Promise<RunRow | { completed: RunRow }> {
  return await transaction(async (tx) => {
    // One opener at a time per provider and day.
    await lockReconciliationDay(tx, input.provider, input.day);
    const running = await findRun(tx, input.provider, input.day, 'running');
    if (running && !input.restart) return running;
    if (running) await deleteRun(tx, running.id);
    if (!input.restart) {
      const completed = await findRun(tx, input.provider, input.day, 'completed');
      if (completed) return { completed };
    }
    return await insertRun(tx, input.provider, input.day, firstCursor(input.provider, input.day));
  });
}

/** Under the run's row lock: the run is still running and where this worker left it, else CONFLICT. */
async function assertRunUnchanged(tx: Tx, run: RunRow): Promise<void> {
  const locked = await lockRun(tx, run.id);
  if (locked?.status !== 'running' || locked.chunks !== run.chunks) {
    throw new AppError('CONFLICT', `Reconciliation of ${run.provider} ${run.day} was restarted or advanced by another run`);
  }
}

/** Writes one chunk's lines and the cursor after it, if the run is still where this worker left it. */
async function writeChunk(run: RunRow, lines: LineInput[], cursor: RunCursor, records: number): Promise<void> {
  await transaction(async (tx) => {
    await assertRunUnchanged(tx, run);
    await insertLines(tx, run.id, lines);
    await advanceRun(tx, run.id, { cursor, records });
  });
  run.chunks += 1;
  run.providerRecords += records;
  run.cursor = cursor as unknown as Record<string, unknown>;
}

async function classifyChunk(provider: Provider, source: BooksSource, records: ProviderRecord[]): Promise<LineInput[]> {
  const references = [...new Set(records.flatMap((r) => (r.reference ? [r.reference] : [])))];
  const books = await findBooksEntries(db, source, provider, references);
  const disputeIds = records.flatMap((r) => (r.kind === 'adjustment' && r.reference ? [r.reference] : []));
  const disputes = await findDisputeEntries(db, source, provider, disputeIds);
  const unmatched = records.filter((r) => !r.reference || (!books.has(r.reference) && !disputes.has(r.reference)));
  const hints =
    unmatched.length > 0
      ? await findOrderHints(
          db,
          provider,
          unmatched.flatMap((r) => (r.orderIdHint ? [r.orderIdHint] : [])),
          unmatched.flatMap((r) => (r.paymentReference ? [r.paymentReference] : [])),
        )
      : undefined;
  return records.map((record) => {
    const entry = record.reference ? books.get(record.reference) : undefined;
    let hint: OrderHint | null = null;
    if (!entry && hints) {
      hint =
        (record.orderIdHint ? hints.byOrderId.get(record.orderIdHint) : undefined) ??
        (record.paymentReference ? hints.byPaymentReference.get(record.paymentReference) : undefined) ??
        null;
    }
    return {
      classified: classifyProviderRecord(
        provider,
        record,
        entry,
        hint,
        record.kind === 'adjustment' && record.reference ? disputes.get(record.reference) : undefined,
      ),
      kind: record.kind,
      record,
      books: entry ?? null,
      reference: record.reference,
      occurredAt: record.occurredAt,
    };
  });
}

async function stripePayouts(run: RunRow, dayStart: Date, dayEnd: Date): Promise<Payout[]> {
  const payouts: Payout[] = [];
  for await (const { payout, transactionIds } of stripeDayPayouts({ dayStart, dayEnd })) {
    const classes = await classesOfRecords(db, 'stripe', run.id, transactionIds);
    await setLinesPayout(db, run.id, transactionIds, payout.id);
    const matched = transactionIds.filter((id) => classes.get(id) === 'matched' || classes.get(id) === 'account_fee').length;
    const notReconciled = transactionIds.filter((id) => !classes.has(id)).length;
    const counted = {
      id: payout.id,
      amountCents: payout.amount,
      currency: payout.currency.toUpperCase(),
      createdAt: new Date(payout.created * 1000).toISOString(),
      arrivalDate: payout.arrival_date ? new Date(payout.arrival_date * 1000).toISOString().slice(0, 10) : null,
      status: payout.status,
      transactions: transactionIds.length,
      matched,
      notMatched: transactionIds.length - matched - notReconciled,
      notReconciled,
      allMatched: matched === transactionIds.length,
    };
    payouts.push({
      ...counted,
      transactionsListed: true,
      dayNetCents: null,
      matchesDayNet: null,
      explanation: explainStripePayout(counted),
    });
  }
  return payouts;
}

/**
 * PayPal does not say which transactions a withdrawal paid out (it is one T04xx transaction of an amount). So each
 * withdrawal of the day is compared with the net of the day's transactions in its currency since the previous
 * withdrawal of the day (or the day's start) up to it: equal → it matches the day's net (a `matched` payout line),
 * else a named mismatch (`amount_differs` payout line). Its counts are those transactions and how many matched.
 */
async function paypalPayouts(run: RunRow, withdrawals: PayPalWithdrawal[]): Promise<{ payouts: Payout[]; lines: LineInput[] }> {
  const payouts: Payout[] = [];
  const lines: LineInput[] = [];
  const sorted = [...withdrawals].sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  const previous = new Map<string, string>();
  for (const w of sorted) {
    const after = previous.get(w.currency) ?? null;
    previous.set(w.currency, w.at);
    const { total, matched, netCents } = await providerLinesBetween(db, run.id, { after, upTo: w.at, currency: w.currency });
    const amountCents = -w.amountCents;
    const payout: Payout = {
      id: w.id,
      amountCents,
      currency: w.currency,
      createdAt: w.at,
      arrivalDate: null,
      status: 'withdrawn',
      transactions: total,
      matched,
      notMatched: total - matched,
      notReconciled: 0,
      allMatched: matched === total,
      transactionsListed: false,
      dayNetCents: netCents,
      matchesDayNet: amountCents === netCents,
      explanation: '',
    };
    payout.explanation = explainPayPalWithdrawal(payout, after);
    payouts.push(payout);
    lines.push({
      classified: { class: payout.matchesDayNet ? 'matched' : 'amount_differs', explanation: payout.explanation, order: null },
      kind: 'payout',
      record: { recordId: w.id, sourceId: w.id, amountCents: w.amountCents, currency: w.currency, feeCents: 0, payoutId: w.id },
      books: null,
      reference: w.id,
      occurredAt: new Date(w.at),
    });
  }
  return { payouts, lines };
}

async function finish(run: RunRow, source: BooksSource, withdrawals: PayPalWithdrawal[]): Promise<RunSummary> {
  const { dayStart, dayEnd } = dayRange(run.day);
  let payouts: Payout[];
  let payoutLines: LineInput[] = [];
  if (run.provider === 'stripe') payouts = await stripePayouts(run, dayStart, dayEnd);
  else ({ payouts, lines: payoutLines } = await paypalPayouts(run, withdrawals));
  const books = await booksDayTotals(db, source, run.provider, dayStart, dayEnd);
  return await transaction(async (tx) => {
    await assertRunUnchanged(tx, run);
    // The payout lines, the totals and the swap in one transaction: a run finished twice writes them once.
    await insertLines(tx, run.id, payoutLines);
    const lines = await lineTotals(tx, run.id);
    const counts = Object.fromEntries(RECONCILIATION_CLASSES.map((c) => [c, lines.counts[c] ?? 0])) as Record<
      ReconciliationClass,
      number
    >;
    const currencies = [...new Set([...lines.currencies, ...books.currencies])].sort();
    const summary: RunSummary = {
      provider: run.provider,
      day: run.day,
      source,
      totals: {
        provider: {
          grossCents: lines.grossCents,
          refundsCents: lines.refundsCents,
          feesCents: lines.feesCents,
          netCents: lines.netCents,
          records: lines.records,
        },
        books: {
          grossCents: books.grossCents,
          refundsCents: books.refundsCents,
          feesCents: books.feesCents,
          netCents: books.grossCents + books.refundsCents - (books.feesCents ?? 0),
          records: books.records,
        },
      },
      counts,
      mismatches: MISMATCH_CLASSES.reduce((sum, c) => sum + counts[c], 0),
      payouts,
      currency: currencies.length === 1 ? (currencies[0] ?? null) : currencies.length === 0 ? null : currencies.join(','),
    };
    await completeRun(tx, run, summary);
    return summary;
  });
}

export async function reconcileDay(input: ReconcileDayInput): Promise<ReconcileOutcome> {
  const { dayStart, dayEnd } = dayRange(input.day);
  const deadline = Date.now() + (input.timeBudgetMs ?? Number.POSITIVE_INFINITY);
  const opened = await openRun(input);
  if ('completed' in opened) {
    const run = opened.completed;
    return {
      runId: run.id,
      provider: run.provider,
      day: run.day,
      status: 'completed',
      recordsThisCall: 0,
      recordsTotal: run.providerRecords,
      chunks: run.chunks,
      summary: run.summary as RunSummary,
    };
  }
  const run = opened;
  const source = await booksSource(db);
  let cursor = run.cursor as unknown as RunCursor;
  let recordsThisCall = 0;
  const incomplete = (): ReconcileOutcome => ({
    runId: run.id,
    provider: run.provider,
    day: run.day,
    status: 'incomplete',
    recordsThisCall,
    recordsTotal: run.providerRecords,
    chunks: run.chunks,
  });

  if (cursor.phase === 'provider') {
    if (run.provider === 'stripe') {
      const after = (cursor as StripeCursor).after;
      for await (const chunk of stripeDayChunks({ dayStart, dayEnd, cursor: after })) {
        const lines = await classifyChunk('stripe', source, chunk.records);
        const next: StripeCursor = { phase: 'provider', after: chunk.cursor };
        await writeChunk(run, lines, next, chunk.records.length);
        cursor = next;
        recordsThisCall += chunk.records.length;
        if (Date.now() > deadline) return incomplete();
      }
      cursor = { phase: 'books', after: null };
    } else {
      const start = cursor as PayPalProviderCursor;
      let withdrawals = start.withdrawals;
      for await (const chunk of paypalDayChunks({ dayEnd, cursor: start.paypal })) {
        const lines = await classifyChunk('paypal', source, chunk.records);
        withdrawals = [...withdrawals, ...chunk.withdrawals];
        const next: RunCursor = chunk.next
          ? { phase: 'provider', paypal: chunk.next, withdrawals }
          : { phase: 'books', after: null, withdrawals };
        await writeChunk(run, lines, next, chunk.records.length);
        cursor = next;
        recordsThisCall += chunk.records.length;
        if (Date.now() > deadline && chunk.next) return incomplete();
      }
      cursor = { phase: 'books', after: null, withdrawals };
    }
  }

  const booksCursor = cursor as BooksCursor;
  let after = booksCursor.after
    ? { occurredAt: new Date(booksCursor.after.occurredAt), reference: booksCursor.after.reference }
    : null;
  for (;;) {
    const entries = await unmatchedBooksEntries(db, source, {
      provider: run.provider,
      runId: run.id,
      day: run.day,
      dayStart,
      dayEnd,
      after,
      limit: BOOKS_BATCH,
    });
    if (entries.length === 0) break;
    const lines: LineInput[] = entries.map((entry) => ({
      classified: {
        class: 'books_only',
        explanation: explainBooksOnly(run.provider, entry, entry.occurredAt),
        order: { orderId: entry.orderId, orderNumber: entry.orderNumber, orderStatus: entry.orderStatus },
      },
      kind: entry.kind,
      record: null,
      books: entry,
      reference: entry.reference,
      occurredAt: entry.occurredAt,
    }));
    const last = entries[entries.length - 1] as (typeof entries)[number];
    after = { occurredAt: last.occurredAt, reference: last.reference };
    const next: BooksCursor = {
      phase: 'books',
      after: { occurredAt: last.occurredAt.toISOString(), reference: last.reference },
      ...(booksCursor.withdrawals ? { withdrawals: booksCursor.withdrawals } : {}),
    };
    await writeChunk(run, lines, next, 0);
    if (entries.length < BOOKS_BATCH) break;
    if (Date.now() > deadline) return incomplete();
  }

  const summary = await finish(run, source, booksCursor.withdrawals ?? []);
  log.info('reconciliation completed', {
    provider: run.provider,
    day: run.day,
    records: run.providerRecords,
    mismatches: summary.mismatches,
  });
  return {
    runId: run.id,
    provider: run.provider,
    day: run.day,
    status: 'completed',
    recordsThisCall,
    recordsTotal: run.providerRecords,
    chunks: run.chunks,
    summary,
  };
}

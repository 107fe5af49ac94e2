import { db, type Queryable } from '../db/client.js';
import { type CompletedRunRef, findCompletedRuns, listRunLines, type StoredLine } from '../db/models/reconciliation-runs.js';
import type { Provider } from '../db/models/orders.js';
import { csvField } from '../db/queries/transactions.js';
import { AppError } from '../errors.js';
import { dayRange } from './reconcile-day.js';
import type { MismatchClass, RunSummary } from './types.js';

/**
 * The stored report of a day (GET /api/reconciliation): per provider the run's summary (provider
 * gross, fees and net against ours, counts per class, payouts) and every mismatch with its plain-words
 * explanation and the order it concerns; or, as CSV, every line of the day (matched ones too).
 */

/** A stored line that is a mismatch (the row's shape is the model's: lib/db/models/reconciliation-runs.ts). */
export interface MismatchLine extends Omit<StoredLine, 'class'> {
  class: MismatchClass;
}

/** A provider fee of the account (no order): not a mismatch, listed so that staff book it by hand. */
export interface AccountFeeLine extends Omit<StoredLine, 'class'> {
  class: 'account_fee';
}

export interface ProviderReport {
  provider: Provider;
  runId: string;
  completedAt: string;
  summary: RunSummary;
  mismatches: MismatchLine[];
  /** True when there are more mismatches than the JSON answer carries (the CSV has them all). */
  mismatchesTruncated: boolean;
  /** Account fees of the day (class account_fee): no order, book them by hand (at most MAX_JSON_MISMATCHES). */
  accountFees: AccountFeeLine[];
}

export interface ReconciliationReport {
  day: string;
  providers: ProviderReport[];
}

const MAX_JSON_MISMATCHES = 5_000;

async function completedRuns(q: Queryable, day: string, provider: Provider | undefined): Promise<CompletedRunRef[]> {
  dayRange(day);
  const runs = await findCompletedRuns(q, day, provider);
  if (runs.length === 0) {
    throw new AppError(
      'NOT_FOUND',
      `No reconciliation of ${provider ?? 'any provider'} for ${day} yet (the daily cron writes it; or run npm run reconcile -- --date ${day})`,
    );
  }
  return runs;
}

export async function getReconciliationReport(input: {
  day: string;
  provider?: Provider | undefined;
}): Promise<ReconciliationReport> {
  const runs = await completedRuns(db, input.day, input.provider);
  const providers: ProviderReport[] = [];
  for (const run of runs) {
    const mismatches = (await listRunLines(db, run.id, {
      afterId: 0,
      limit: MAX_JSON_MISMATCHES + 1,
      only: 'mismatches',
    })) as MismatchLine[];
    const accountFees = (await listRunLines(db, run.id, {
      afterId: 0,
      limit: MAX_JSON_MISMATCHES,
      only: 'account_fee',
    })) as AccountFeeLine[];
    providers.push({
      provider: run.provider,
      runId: run.id,
      completedAt: run.completedAt.toISOString(),
      summary: run.summary,
      mismatches: mismatches.slice(0, MAX_JSON_MISMATCHES),
      mismatchesTruncated: mismatches.length > MAX_JSON_MISMATCHES,
      accountFees,
    });
  }
  return { day: input.day, providers };
}

export const RECONCILIATION_CSV_COLUMNS = [
  'provider',
  'day',
  'class',
  'kind',
  'order_number',
  'order_id',
  'reference',
  'provider_record_id',
  'occurred_at',
  'currency',
  'provider_amount_cents',
  'provider_fee_cents',
  'books_amount_cents',
  'books_fee_cents',
  'payout_id',
  'explanation',
] as const;

/** Every line of the day's report(s) as CSV (amounts in signed minor units), streamed in batches (checks the day exists before streaming). */
export async function streamReconciliationCsv(input: {
  day: string;
  provider?: Provider | undefined;
  batchSize?: number;
}): Promise<ReadableStream<Uint8Array>> {
  const runs = await completedRuns(db, input.day, input.provider);
  const batchSize = input.batchSize ?? 1_000;
  const encoder = new TextEncoder();
  let runIndex = 0;
  let after = 0;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(`${RECONCILIATION_CSV_COLUMNS.join(',')}\r\n`));
          return;
        }
        const run = runs[runIndex];
        if (!run) {
          controller.close();
          return;
        }
        const rows = await listRunLines(db, run.id, { afterId: after, limit: batchSize, only: 'all' });
        if (rows.length > 0) {
          const text = rows
            .map(
              (r) =>
                `${[
                  run.provider,
                  input.day,
                  r.class,
                  r.kind,
                  r.orderNumber,
                  r.orderId,
                  r.reference,
                  r.providerRecordId,
                  r.occurredAt,
                  r.currency,
                  r.providerAmountCents,
                  r.providerFeeCents,
                  r.booksAmountCents,
                  r.booksFeeCents,
                  r.payoutId,
                  r.explanation,
                ]
                  .map(csvField)
                  .join(',')}\r\n`,
            )
            .join('');
          controller.enqueue(encoder.encode(text));
          after = (rows.at(-1) as (typeof rows)[number]).id;
        }
        if (rows.length < batchSize) {
          runIndex += 1;
          after = 0;
        }
      },
    },
    { highWaterMark: 1 },
  );
}

import { z } from 'zod';

/** GET /api/reconciliation query: a UTC day, optionally one provider, JSON (default) or CSV. */
export const ReconciliationQuery = z
  .object({
    date: z.iso.date({ message: 'must be a day (YYYY-MM-DD)' }),
    provider: z.enum(['stripe', 'paypal']).optional(),
    format: z.enum(['json', 'csv']).optional(),
  })
  .strict();

const classCounts = z.object({
  matched: z.int(),
  amount_differs: z.int(),
  fee_differs: z.int(),
  provider_only: z.int(),
  books_only: z.int(),
});

const providerTotals = z.object({
  grossCents: z.int().describe('Charges at the provider, minor units'),
  refundsCents: z.int().describe('Refunds at the provider (negative), minor units'),
  feesCents: z.int().describe('Fees the provider kept'),
  netCents: z.int(),
  records: z.int(),
});

export const reconciliationSummarySchema = z.object({
  provider: z.enum(['stripe', 'paypal']),
  day: z.iso.date(),
  source: z.enum(['money_ledger', 'payments_and_refunds']).describe('What our books were read from'),
  totals: z.object({
    provider: providerTotals,
    books: providerTotals.extend({ feesCents: z.int().nullable().describe('Null when our books do not record fees') }),
  }),
  counts: classCounts,
  mismatches: z.int(),
  payouts: z.array(
    z.object({
      id: z.string(),
      amountCents: z.int(),
      currency: z.string(),
      createdAt: z.string(),
      arrivalDate: z.string().nullable(),
      status: z.string(),
      transactions: z.int(),
      matched: z.int(),
      notMatched: z.int(),
      notReconciled: z.int(),
      allMatched: z.boolean(),
    }),
  ),
  currency: z.string().nullable(),
});

export const reconciliationMismatchSchema = z.object({
  id: z.int(),
  class: z.enum(['amount_differs', 'fee_differs', 'provider_only', 'books_only']),
  kind: z.enum(['charge', 'refund', 'adjustment', 'fee']),
  orderId: z.uuid().nullable(),
  orderNumber: z.string().nullable(),
  reference: z.string().nullable(),
  providerRecordId: z.string().nullable(),
  occurredAt: z.string().nullable(),
  providerAmountCents: z.int().nullable(),
  providerFeeCents: z.int().nullable(),
  booksAmountCents: z.int().nullable(),
  booksFeeCents: z.int().nullable(),
  currency: z.string().nullable(),
  explanation: z.string().describe('What is wrong, in plain words, and what to do'),
  payoutId: z.string().nullable(),
});

export const reconciliationReportResponseSchema = z.object({
  day: z.iso.date(),
  providers: z.array(
    z.object({
      provider: z.enum(['stripe', 'paypal']),
      runId: z.uuid(),
      completedAt: z.iso.datetime(),
      summary: reconciliationSummarySchema,
      mismatches: z.array(reconciliationMismatchSchema),
      mismatchesTruncated: z.boolean(),
    }),
  ),
});

export const reconcileCronResponseSchema = z.object({
  day: z.iso.date(),
  providers: z.array(
    z.object({
      outcome: z.enum(['ran', 'not_configured', 'failed']),
      provider: z.enum(['stripe', 'paypal']),
      runId: z.uuid().optional(),
      day: z.iso.date().optional(),
      status: z.enum(['completed', 'incomplete']).optional(),
      recordsThisCall: z.int().optional(),
      recordsTotal: z.int().optional(),
      chunks: z.int().optional(),
      mismatches: z.int().optional(),
      error: z.string().optional(),
    }),
  ),
});

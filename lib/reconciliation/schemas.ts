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
  account_fee: z.int().describe('Provider fees of the account (no order): not mismatches; book them by hand'),
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
      transactionsListed: z
        .boolean()
        .describe(
          'Whether the provider says which transactions the payout paid out (Stripe: yes; PayPal: no, a withdrawal is one amount)',
        ),
      dayNetCents: z
        .int()
        .nullable()
        .describe("PayPal: the net of the day's transactions since the previous withdrawal of the day up to this one"),
      matchesDayNet: z
        .boolean()
        .nullable()
        .describe('PayPal: whether the withdrawal equals that net (false: a named mismatch line); null for Stripe'),
      explanation: z.string().describe('The payout in plain words: what it paid out and whether that is matched'),
    }),
  ),
  currency: z.string().nullable(),
});

const lineFields = {
  id: z.int(),
  kind: z
    .enum(['charge', 'refund', 'adjustment', 'fee', 'payout'])
    .describe("payout: a PayPal withdrawal compared with the day's net"),
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
};

export const reconciliationMismatchSchema = z.object({
  ...lineFields,
  class: z.enum(['amount_differs', 'fee_differs', 'provider_only', 'books_only']),
});

export const reconciliationAccountFeeSchema = z.object({
  ...lineFields,
  class: z.literal('account_fee'),
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
      accountFees: z
        .array(reconciliationAccountFeeSchema)
        .describe(
          'Provider fees of the account with no order (Stripe stripe_fee, PayPal fees): not mismatches; book them by hand',
        ),
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

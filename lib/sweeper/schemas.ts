import { z } from 'zod';

/** Every outcome one checkout can have in a sweep (the one list; SweepOutcome is its type). */
export const sweepOutcome = z.enum([
  'completed',
  'late_payment_completed',
  'late_payment_no_capacity',
  'already_final',
  'amount_mismatch',
  'duplicate_payment',
  'captured_pending',
  'processing',
  'failed',
  'expired',
  'left_open',
  'provider_error',
  'not_configured',
]);

/** GET /api/cron/sweep-stale-payments answer (SweepSummary). */
export const sweepResponseSchema = z.object({
  candidates: z.int(),
  checked: z.int(),
  outcomes: z.record(sweepOutcome, z.int()),
  stoppedByBudget: z.boolean(),
  orders: z.array(
    z.object({
      orderId: z.uuid(),
      provider: z.enum(['stripe', 'paypal']),
      outcome: sweepOutcome,
      providerState: z.string().optional(),
    }),
  ),
});

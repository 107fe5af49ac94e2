import { z } from 'zod';

const outcome = z.enum([
  'completed',
  'late_payment_completed',
  'late_payment_no_capacity',
  'already_final',
  'amount_mismatch',
  'duplicate_payment',
  'captured_pending',
  'processing',
  'expired',
  'left_open',
  'provider_error',
  'not_configured',
]);

/** GET /api/cron/sweep-stale-payments answer (SweepSummary). */
export const sweepResponseSchema = z.object({
  candidates: z.int(),
  checked: z.int(),
  outcomes: z.record(outcome, z.int()),
  stoppedByBudget: z.boolean(),
  orders: z.array(
    z.object({
      orderId: z.uuid(),
      provider: z.enum(['stripe', 'paypal']),
      outcome,
      providerState: z.string().optional(),
    }),
  ),
});

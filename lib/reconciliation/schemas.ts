import { z } from 'zod';

/** GET /api/reconciliation query: a UTC day, optionally one provider, JSON (default) or CSV. */
export const ReconciliationQuery = z
  .object({
    date: z.iso.date({ message: 'must be a day (YYYY-MM-DD)' }),
    provider: z.enum(['stripe', 'paypal']).optional(),
    format: z.enum(['json', 'csv']).optional(),
  })
  .strict();

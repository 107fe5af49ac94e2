import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { recordMissingStripeFees } from '../../lib/ledger/record-missing-stripe-fees.js';

/**
 * GET /api/cron/record-missing-fees — Vercel Cron (Authorization: Bearer $CRON_SECRET). Completed Stripe
 * payments whose fee read failed get it read again (a bounded batch) and booked on the ledger once.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      requireCronSecret(ctx);
      return json(await recordMissingStripeFees());
    },
  },
  { cors: 'none' },
);

import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { sweepStalePayments } from '../../lib/sweeper/sweep-stale-payments.js';

/**
 * GET /api/cron/sweep-stale-payments — Vercel Cron (Authorization: Bearer $CRON_SECRET), every 5
 * minutes: asks Stripe/PayPal about checkouts still unsettled past the hold and finishes them (lost
 * webhooks). Bounded by SWEEPER_BATCH_LIMIT and SWEEPER_TIME_BUDGET_MS inside maxDuration (60 s).
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      requireCronSecret(ctx);
      return json(await sweepStalePayments({ actor: { type: 'cron', id: 'sweeper', requestId: ctx.requestId } }));
    },
  },
  { cors: 'none' },
);

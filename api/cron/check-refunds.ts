import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { checkUnconfirmedRefunds } from '../../lib/refunds/check-unconfirmed-refunds.js';

/**
 * GET /api/cron/check-refunds — Vercel Cron (Authorization: Bearer $CRON_SECRET). Refunds left pending
 * because the provider's answer was lost are asked again with the same idempotency key and settled.
 * Starts a check only while it still fits in the function's limit.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      requireCronSecret(ctx);
      const summary = await checkUnconfirmedRefunds({ actor: { type: 'cron', id: 'check-refunds', requestId: ctx.requestId } });
      return json(summary);
    },
  },
  { cors: 'none' },
);

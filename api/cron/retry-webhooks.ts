import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { retryDueWebhookEvents } from '../../lib/webhooks/inbox.js';

/**
 * GET /api/cron/retry-webhooks — Vercel Cron (Authorization: Bearer $CRON_SECRET). Applies failed
 * webhook events whose backoff is over (dead after the attempt limit), abandoned ones, and events
 * stored but never applied. Stays inside the function's time limit.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      requireCronSecret(ctx);
      const summary = await retryDueWebhookEvents({
        actor: { type: 'cron', id: 'retry-webhooks', requestId: ctx.requestId },
        limit: 50,
        budgetMs: 7_000,
      });
      return json(summary);
    },
  },
  { cors: 'none' },
);

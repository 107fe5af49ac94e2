import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { deliverDueMessages } from '../../lib/messages/deliver-messages.js';

/**
 * GET /api/cron/deliver-messages — Vercel Cron (Authorization: Bearer $CRON_SECRET). Sends the outbox
 * messages that are due (first tries the after-commit send missed, retries after backoff), each order's in queue
 * order; dead after MAIL_MAX_ATTEMPTS. Messages whose deliverer died mid-send become `uncertain` and are NOT sent
 * again (staff resend them). Stays inside the function's time limit (lib/time-budget.ts).
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      requireCronSecret(ctx);
      return json(await deliverDueMessages({ limit: 50 }));
    },
  },
  { cors: 'none' },
);

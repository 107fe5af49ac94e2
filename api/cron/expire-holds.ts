import { expireDueHolds } from '../../lib/checkout/expire-holds.js';
import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';

/** GET /api/cron/expire-holds (Vercel Cron, `Authorization: Bearer $CRON_SECRET`) — ends expired holds. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    requireCronSecret(ctx);
    const summary = await expireDueHolds({ actor: { type: 'cron', id: 'expire-holds', requestId: ctx.requestId } });
    return json(summary);
  },
});

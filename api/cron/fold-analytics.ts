import { foldRollups } from '../../lib/analytics/fold-rollups.js';
import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';

/** GET /api/cron/fold-analytics (Vercel Cron, `Authorization: Bearer $CRON_SECRET`) — folds new ledger rows into the hourly rollups. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    requireCronSecret(ctx);
    return json(await foldRollups());
  },
});

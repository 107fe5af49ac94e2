import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { evaluateAlerts } from '../../lib/ops/evaluate-alerts.js';

/** GET /api/cron/evaluate-alerts — Vercel Cron (Authorization: Bearer $CRON_SECRET): raise and clear operator alerts. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      requireCronSecret(ctx);
      return json(await evaluateAlerts());
    },
  },
  { cors: 'none' },
);

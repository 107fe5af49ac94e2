import { requireCronSecret } from '../../lib/http/cron-auth.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { reconcileYesterday } from '../../lib/reconciliation/reconcile-yesterday.js';

/**
 * GET /api/cron/reconcile — Vercel Cron (Authorization: Bearer $CRON_SECRET), every 10 minutes in the
 * early UTC hours: reconciles yesterday (UTC) for each configured provider. A day that does not fit in
 * one call (time budget under maxDuration) continues from its cursor on the next call; a completed
 * day is left alone.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      requireCronSecret(ctx);
      return json(await reconcileYesterday({ timeBudgetMs: 45_000 }));
    },
  },
  { cors: 'none' },
);

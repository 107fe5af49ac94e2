import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';
import { getOperationalMetrics } from '../../lib/ops/get-operational-metrics.js';

/** GET /api/admin/metrics (scope ops:read): payments, webhook inbox, outbox, holds, request outcomes by code, database. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      await requireApiKey(ctx, 'ops:read');
      return json(await getOperationalMetrics());
    },
  },
  { cors: 'none' },
);

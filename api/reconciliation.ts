import { readQuery } from '../lib/http/query.js';
import { validate } from '../lib/http/body.js';
import { defineRoute } from '../lib/http/handler.js';
import { requireApiKey } from '../lib/http/require-api-key.js';
import { json, csvAttachment } from '../lib/http/response.js';
import { getReconciliationReport, streamReconciliationCsv } from '../lib/reconciliation/get-reconciliation-report.js';
import { ReconciliationQuery } from '../lib/reconciliation/schemas.js';

/**
 * GET /api/reconciliation?date=YYYY-MM-DD[&provider=stripe|paypal][&format=csv] (scope finance:read):
 * the stored daily reconciliation: per provider the summary (provider gross, fees and net against
 * ours, counts per class, payouts) and every mismatch with its explanation and order; CSV: every line.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      await requireApiKey(ctx, 'finance:read');
      const query = validate(ReconciliationQuery, readQuery(ctx), 'query');
      if (query.format === 'csv') {
        const stream = await streamReconciliationCsv({ day: query.date, provider: query.provider });
        return csvAttachment(stream, `reconciliation-${query.date}${query.provider ? `-${query.provider}` : ''}.csv`);
      }
      return json(await getReconciliationReport({ day: query.date, provider: query.provider }));
    },
  },
  { cors: 'none' },
);

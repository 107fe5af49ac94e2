import { getAnalyticsSummary } from '../../lib/analytics/get-analytics-summary.js';
import { summaryCsv } from '../../lib/analytics/report-csv.js';
import { parseReportQuery } from '../../lib/analytics/report-params.js';
import { db } from '../../lib/db/client.js';
import { readQuery } from '../../lib/http/query.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json, csvAttachment } from '../../lib/http/response.js';

/**
 * GET /api/analytics/summary?event=&from=&to=[&tz=][&format=csv] (scope analytics:read): gross,
 * sliding-scale impact per bucket, refunds, disputes, fees, net, orders by outcome and conversion,
 * failures and top decline codes, tickets against capacity; overall and per provider.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'analytics:read');
    const range = await parseReportQuery(db, readQuery(ctx), { defaultRange: 'all' });
    const summary = await getAnalyticsSummary(range);
    if (range.format === 'csv') {
      return csvAttachment(summaryCsv(summary), `summary-${range.event.slug}.csv`);
    }
    return json(summary);
  },
});

import { getRevenueSeries } from '../../lib/analytics/get-revenue-series.js';
import { revenueCsv } from '../../lib/analytics/report-csv.js';
import { parseReportQuery } from '../../lib/analytics/report-params.js';
import { db } from '../../lib/db/client.js';
import { readQuery } from '../../lib/http/query.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json, csvAttachment } from '../../lib/http/response.js';

/**
 * GET /api/analytics/revenue?event=&from=&to=&groupBy=hour|day|week|month[&tz=][&provider=][&format=csv]
 * (scope analytics:read): revenue over time in the event's time zone, empty buckets as zero.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'analytics:read');
    const range = await parseReportQuery(db, readQuery(ctx), { defaultRange: 'last30days' });
    const series = await getRevenueSeries(range);
    if (range.format === 'csv') {
      return csvAttachment(revenueCsv(series), `revenue-${range.event.slug}-${range.groupBy}.csv`);
    }
    return json(series);
  },
});

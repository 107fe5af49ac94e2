import { validate } from '../../lib/http/body.js';
import { readQuery } from '../../lib/http/query.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';
import { CheckInStatsQuery, getCheckInStats } from '../../lib/tickets/get-checkin-stats.js';

/** GET /api/checkin/stats?event=<slug> (scope checkin:write): admitted / sold per ticket type. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      await requireApiKey(ctx, 'checkin:write');
      return json(await getCheckInStats(validate(CheckInStatsQuery, readQuery(ctx), 'query')));
    },
  },
  { cors: 'none' },
);

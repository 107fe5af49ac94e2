import { getConfig } from '../lib/config.js';
import { checkHealth } from '../lib/db/queries/health.js';
import { defineRoute } from '../lib/http/handler.js';
import { json } from '../lib/http/response.js';

/** GET /api/health — database reachability and migration state. Never cached, never leaks URLs. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async () => {
    const report = await checkHealth();
    return json(
      { ...report, version: getConfig().version },
      { status: report.status === 'unhealthy' ? 503 : 200, headers: { 'cache-control': 'no-store' } },
    );
  },
});

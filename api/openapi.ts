import { getConfig } from '../lib/config.js';
import { buildOpenApiDocument } from '../lib/contract/openapi.js';
import { defineRoute } from '../lib/http/handler.js';
import { json } from '../lib/http/response.js';

/** GET /api/openapi.json (vercel.json rewrite) — the OpenAPI 3.1 document; the reference page is /docs. */
let cached: Record<string, unknown> | undefined;

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async () => {
    cached ??= buildOpenApiDocument({ version: getConfig().version });
    return json(cached, { headers: { 'cache-control': 'public, max-age=0, s-maxage=300' } });
  },
});

import { describeApiKey } from '../../lib/auth/describe-api-key.js';
import { defineRoute } from '../../lib/http/handler.js';
import { authenticateRequest } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';

/**
 * GET /api/admin/whoami (any valid API key, no scope needed): the key's name, prefix, scopes and expiry,
 * so the staff dashboard offers only what the key may do. No key or an invalid one → 401.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      const actor = await authenticateRequest(ctx);
      return json({ apiKey: await describeApiKey(actor.id) }, { headers: { 'cache-control': 'private, no-store' } });
    },
  },
  { cors: 'none' },
);

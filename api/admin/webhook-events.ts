import { defineRoute } from '../../lib/http/handler.js';
import { validate } from '../../lib/http/body.js';
import { readQuery } from '../../lib/http/query.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';
import { ListQuery, listWebhookEventsPage } from '../../lib/webhooks/admin.js';

/** GET /api/admin/webhook-events?status=failed&provider=stripe&limit=50&cursor=… (scope webhooks:admin). */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      await requireApiKey(ctx, 'webhooks:admin');
      const query = validate(ListQuery, readQuery(ctx), 'query');
      return json(await listWebhookEventsPage(query));
    },
  },
  { cors: 'none' },
);

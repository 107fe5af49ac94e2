import { defineRoute } from '../../../lib/http/handler.js';
import { requireApiKey } from '../../../lib/http/require-api-key.js';
import { json } from '../../../lib/http/response.js';
import { getWebhookEvent, presentWebhookEvent } from '../../../lib/webhooks/admin.js';

/** GET /api/admin/webhook-events/:id — one inbox event with its payload (scope webhooks:admin). */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      await requireApiKey(ctx, 'webhooks:admin');
      const event = await getWebhookEvent(ctx.url.searchParams.get('id'));
      return json({ data: presentWebhookEvent(event, true) });
    },
  },
  { cors: 'none' },
);

import { defineRoute } from '../../../lib/http/handler.js';
import { requireApiKey } from '../../../lib/http/require-api-key.js';
import { json } from '../../../lib/http/response.js';
import { getWebhookEventOr404, presentWebhookEvent } from '../../../lib/webhooks/admin.js';

/** GET /api/admin/webhook-events/:id — one inbox event with its payload (scope webhooks:admin). */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      await requireApiKey(ctx, 'webhooks:admin');
      const event = await getWebhookEventOr404(ctx.url.searchParams.get('id'));
      return json({ data: presentWebhookEvent(event, true) });
    },
  },
  { cors: 'none' },
);

import { defineRoute } from '../../../../lib/http/handler.js';
import { requireApiKey } from '../../../../lib/http/require-api-key.js';
import { json } from '../../../../lib/http/response.js';
import { presentWebhookEvent, replayWebhookEvent } from '../../../../lib/webhooks/admin.js';

/**
 * POST /api/admin/webhook-events/:id/replay — applies the event again now, whatever its status
 * (dead and failed ones included). Handlers are idempotent: replaying a processed event changes nothing.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      const actor = await requireApiKey(ctx, 'webhooks:admin');
      const { result, event } = await replayWebhookEvent(ctx.url.searchParams.get('id'), actor);
      return json({ applied: result.applied, error: result.error ?? null, data: presentWebhookEvent(event) });
    },
  },
  { cors: 'none' },
);

import { readText } from '../../lib/http/body.js';
import { actorFrom, defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { receivePayPalWebhook } from '../../lib/webhooks/paypal/receive.js';
import { WEBHOOK_MAX_BODY_BYTES } from '../../lib/webhooks/types.js';

/**
 * POST /api/webhooks/paypal — PayPal event deliveries. 400 for a bad signature (nothing stored);
 * 200 once the event is stored (duplicates included); 5xx when it could not be stored.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      const raw = await readText(ctx, WEBHOOK_MAX_BODY_BYTES);
      const result = await receivePayPalWebhook({
        raw,
        signatureHeaders: ctx.request.headers,
        actor: actorFrom(ctx, 'provider'),
      });
      return json({ received: true, duplicate: result.duplicate, status: result.status });
    },
  },
  { cors: 'none' },
);

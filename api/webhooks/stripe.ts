import { readText } from '../../lib/http/body.js';
import { actorFrom, defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { receiveStripeWebhook } from '../../lib/webhooks/stripe/receive.js';
import { WEBHOOK_MAX_BODY_BYTES } from '../../lib/webhooks/types.js';

/**
 * POST /api/webhooks/stripe — Stripe event deliveries. 400 for a bad signature (nothing stored);
 * 200 once the event is stored (duplicates included); 5xx when it could not be stored.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      const raw = await readText(ctx, WEBHOOK_MAX_BODY_BYTES);
      const result = await receiveStripeWebhook({
        raw,
        signature: ctx.request.headers.get('stripe-signature'),
        actor: actorFrom(ctx, 'provider'),
      });
      return json({ received: true, duplicate: result.duplicate, status: result.status });
    },
  },
  { cors: 'none' },
);

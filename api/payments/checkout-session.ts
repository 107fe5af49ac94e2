import { createCheckoutSession } from '../../lib/checkout/create-checkout-session.js';
import { checkoutSessionRequestSchema } from '../../lib/checkout/schemas.js';
import { readJson } from '../../lib/http/body.js';
import { actorFrom, defineRoute } from '../../lib/http/handler.js';
import { idempotencyKeyFrom, idempotencyKeyHash, respondIdempotently } from '../../lib/http/idempotency.js';
import { limitCheckoutByEmail, limitCheckoutByIp } from '../../lib/http/rate-limit.js';

/**
 * POST /api/payments/checkout-session — hold tickets, create the order and the provider checkout.
 * Optional `Idempotency-Key`. 201 with the order and its one-time access token.
 * Rate-limited per client IP and per buyer email (lib/http/rate-limit.ts).
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      await limitCheckoutByIp(ctx);
      const body = await readJson(ctx, checkoutSessionRequestSchema);
      await limitCheckoutByEmail(ctx, body.customer.email);
      const scope = 'POST /api/payments/checkout-session';
      const key = idempotencyKeyFrom(ctx);
      return await respondIdempotently(ctx, { scope, request: body }, async () => ({
        status: 201,
        body: await createCheckoutSession(body, {
          actor: actorFrom(ctx, 'buyer'),
          idempotencyKeyHash: key === undefined ? undefined : idempotencyKeyHash(scope, key),
        }),
      }));
    },
  },
  { cors: 'buyer' },
);

import { createCheckoutSession } from '../../lib/checkout/create-checkout-session.js';
import { checkoutSessionRequestSchema } from '../../lib/checkout/schemas.js';
import { readJson } from '../../lib/http/body.js';
import { clientIdempotencyScope } from '../../lib/http/client-scope.js';
import { actorFrom, defineRoute } from '../../lib/http/handler.js';
import { idempotencyKeyFrom, idempotencyKeyHash, respondIdempotently } from '../../lib/http/idempotency.js';
import { limitCheckoutByEmail, limitCheckoutByIp } from '../../lib/http/rate-limit.js';
import { verifyOnSaleChallenge } from '../../lib/http/turnstile.js';

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
      const scope = clientIdempotencyScope(ctx, 'POST /api/payments/checkout-session');
      const key = idempotencyKeyFrom(ctx);
      return await respondIdempotently(ctx, { scope, request: body }, async () => {
        await verifyOnSaleChallenge(ctx);
        return {
          status: 201,
          body: await createCheckoutSession(body, {
            actor: actorFrom(ctx, 'buyer'),
            // Recorded on the order: a retry after a crash releases what the dead attempt held.
            idempotencyKeyHash: key === undefined ? undefined : idempotencyKeyHash(scope, key),
          }),
        };
      });
    },
  },
  { cors: 'buyer' },
);

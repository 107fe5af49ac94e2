import { attemptCheckoutSession, createCheckoutSession } from '../../lib/checkout/create-checkout-session.js';
import { checkoutSessionRequestSchema } from '../../lib/checkout/schemas.js';
import { readJson } from '../../lib/http/body.js';
import { clientIdempotencyScope } from '../../lib/http/client-scope.js';
import { actorFrom, defineRoute } from '../../lib/http/handler.js';
import { foldIdempotencyKey, idempotencyKeyFrom, idempotencyKeyHash, respondIdempotently } from '../../lib/http/idempotency.js';
import { json } from '../../lib/http/response.js';
import { checkoutRateLimits } from '../../lib/http/rate-limit.js';
import { verifyOnSaleChallenge } from '../../lib/http/turnstile.js';

/**
 * POST /api/payments/checkout-session — hold tickets, create the order and the provider checkout.
 * Optional `Idempotency-Key`. 201 with the order and its one-time access token.
 * Rate-limited per client IP and per buyer email (lib/http/rate-limit.ts).
 * Issue 17: the rate-limit hits and the Idempotency-Key are folded into checkout's own statements (no
 * round trips of their own); a key that already has a row (a retry) takes the ordinary idempotent path.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      const body = await readJson(ctx, checkoutSessionRequestSchema);
      const scope = clientIdempotencyScope(ctx, 'POST /api/payments/checkout-session');
      const key = idempotencyKeyFrom(ctx);
      const actor = actorFrom(ctx, 'buyer');
      const folded = key === undefined ? undefined : foldIdempotencyKey({ scope, key, request: body, status: 201 });
      const run = () =>
        attemptCheckoutSession(body, {
          actor,
          idempotencyKeyHash: folded?.keyHash,
          folded: {
            rateLimits: checkoutRateLimits(ctx, body.customer.email),
            idempotency: folded,
            beforeWriting: () => verifyOnSaleChallenge(ctx),
          },
        });
      const attempt = folded ? await folded.guard(run) : await run();
      if (attempt.kind === 'created') return json(attempt.created, { status: 201 });
      // The key is known (a retry, or the same request still running): replay, wait or 422 as before.
      return await respondIdempotently(ctx, { scope, request: body }, async () => {
        await verifyOnSaleChallenge(ctx);
        return {
          status: 201,
          body: await createCheckoutSession(body, {
            actor,
            // Recorded on the order: a retry after a crash releases what the dead attempt held.
            idempotencyKeyHash: key === undefined ? undefined : idempotencyKeyHash(scope, key),
          }),
        };
      });
    },
  },
  { cors: 'buyer' },
);

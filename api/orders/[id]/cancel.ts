import { bearerToken } from '../../../lib/checkout/access-token.js';
import { actorFrom, defineRoute } from '../../../lib/http/handler.js';
import { limitOrderLookupByIp } from '../../../lib/http/rate-limit.js';
import { json } from '../../../lib/http/response.js';
import { cancelOrder } from '../../../lib/orders/cancel-order.js';

/**
 * POST /api/orders/{id}/cancel — the buyer cancels an unpaid order (`Authorization: Bearer <access token>`).
 * 200 with the order view (cancelled; the same answer again on repeat), 404 for no/wrong/another
 * order's token, 409 ORDER_NOT_CANCELLABLE when paid or a payment is in flight. Rate-limited per IP
 * like the order lookup.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      await limitOrderLookupByIp(ctx);
      const view = await cancelOrder({
        orderId: ctx.url.searchParams.get('id'),
        accessToken: bearerToken(ctx.request.headers.get('authorization')),
        actor: actorFrom(ctx, 'buyer'),
      });
      return json(view, { headers: { 'cache-control': 'private, no-store' } });
    },
  },
  { cors: 'buyer' },
);

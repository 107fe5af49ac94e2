import { bearerToken } from '../../lib/checkout/access-token.js';
import { getOrderForBuyer } from '../../lib/checkout/get-order-for-buyer.js';
import { defineRoute, type RequestContext } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';

/**
 * GET /api/orders/{id} — one order.
 *
 * Viewers, tried in order:
 *  1. (back office, to be added) an admin API key (`Authorization: Bearer bf_live_…`/`bf_test_…`
 *     with `orders:read`): plug it in at ADMIN_VIEW below, returning the staff view built on
 *     buildOrderView() from lib/checkout/get-order-for-buyer.ts.
 *  2. The buyer's access token from checkout. None, wrong, or another order's → 404, the same
 *     answer as for a missing order.
 */
async function buyerView(ctx: RequestContext): Promise<Response> {
  const view = await getOrderForBuyer({
    orderId: ctx.url.searchParams.get('id'),
    accessToken: bearerToken(ctx.request.headers.get('authorization')),
  });
  return json(view, { headers: { 'cache-control': 'private, no-store' } });
}

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      // ADMIN_VIEW: `const admin = await adminOrderView(ctx); if (admin) return admin;`
      return await buyerView(ctx);
    },
  },
  { cors: 'buyer' },
);

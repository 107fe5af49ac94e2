import { bearerToken } from '../../lib/checkout/access-token.js';
import { getOrderForBuyer } from '../../lib/checkout/get-order-for-buyer.js';
import { getOrderDetailForAdmin } from '../../lib/db/queries/order-detail.js';
import { AppError } from '../../lib/errors.js';
import { defineRoute, type RequestContext } from '../../lib/http/handler.js';
import { limitOrderLookupByIp } from '../../lib/http/rate-limit.js';
import { hasApiKeyCredential, requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';

/**
 * GET /api/orders/{id} — one order.
 *
 * Viewers, tried in order:
 *  1. An admin API key (`Authorization: Bearer bf_live_…`/`bf_test_…`, scope `orders:read`): the
 *     staff view (lib/db/queries/order-detail.ts). Any invalid key → 401, like every admin route.
 *  2. The buyer's access token from checkout. None, wrong, or another order's → 404, the same
 *     answer as for a missing order. Rate-limited per client IP.
 */
async function buyerView(ctx: RequestContext): Promise<Response> {
  const view = await getOrderForBuyer({
    orderId: ctx.url.searchParams.get('id'),
    accessToken: bearerToken(ctx.request.headers.get('authorization')),
  });
  return json(view, { headers: { 'cache-control': 'private, no-store' } });
}

/** Staff view: an Authorization value starting with `bf_` is an API key (scope orders:read). */
async function adminOrderView(ctx: RequestContext): Promise<Response> {
  await requireApiKey(ctx, 'orders:read');
  const detail = await getOrderDetailForAdmin(ctx.url.searchParams.get('id'));
  if (!detail) throw new AppError('NOT_FOUND', 'No order with that id');
  return json(detail);
}

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      if (hasApiKeyCredential(ctx)) return await adminOrderView(ctx);
      await limitOrderLookupByIp(ctx);
      return await buyerView(ctx);
    },
  },
  { cors: 'buyer' },
);

import { OrderSearchQuery, searchOrders } from '../../lib/db/queries/order-search.js';
import { readQuery } from '../../lib/http/query.js';
import { validate } from '../../lib/http/body.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';

/** GET /api/orders?email=&status=&q=&limit=&cursor=: customer-service search (scope orders:read). */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'orders:read');
    const search = validate(OrderSearchQuery, readQuery(ctx), 'query');
    return json(await searchOrders(search));
  },
});

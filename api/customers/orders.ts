import { CustomerOrdersQuery, listCustomerOrders } from '../../lib/db/queries/customer-orders.js';
import { validate } from '../../lib/http/body.js';
import { readQuery } from '../../lib/http/query.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';

/** GET /api/customers/orders?email=[&limit=] (scope orders:read): one customer's orders, newest first, with their money from the ledger. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'orders:read');
    const query = validate(CustomerOrdersQuery, readQuery(ctx), 'query');
    return json(await listCustomerOrders(query.email, query.limit));
  },
});

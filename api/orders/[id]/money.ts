import { AppError } from '../../../lib/errors.js';
import { defineRoute } from '../../../lib/http/handler.js';
import { requireApiKey } from '../../../lib/http/require-api-key.js';
import { json } from '../../../lib/http/response.js';
import { getOrderMoney } from '../../../lib/ledger/get-order-money.js';

/** GET /api/orders/{id}/money (scope orders:read): one order's money summary from the ledger, beside its books. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'orders:read');
    const money = await getOrderMoney(ctx.url.searchParams.get('id'));
    if (!money) throw new AppError('NOT_FOUND', 'No order with that id');
    return json(money);
  },
});

import { listTransactions, streamTransactionsCsv, TransactionQuery } from '../../lib/db/queries/transactions.js';
import { readQuery } from '../../lib/http/query.js';
import { validate } from '../../lib/http/body.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json, csvAttachment } from '../../lib/http/response.js';

/**
 * GET /api/payments/transactions (scope payments:read): filtered, cursor-paginated history;
 * `?format=csv` streams the whole filtered history as a finance export.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  GET: async (ctx) => {
    await requireApiKey(ctx, 'payments:read');
    const filters = validate(TransactionQuery, readQuery(ctx), 'query');
    if (filters.format === 'csv') {
      const stamp = new Date().toISOString().slice(0, 10);
      return csvAttachment(streamTransactionsCsv(filters), `transactions-${stamp}.csv`);
    }
    return json(await listTransactions(filters));
  },
});

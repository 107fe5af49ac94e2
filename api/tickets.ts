import { getTicketCatalog } from '../lib/checkout/get-ticket-catalog.js';
import { ticketCatalogQuerySchema } from '../lib/checkout/schemas.js';
import { validate } from '../lib/http/body.js';
import { readQuery } from '../lib/http/query.js';
import { defineRoute } from '../lib/http/handler.js';
import { json } from '../lib/http/response.js';

/** GET /api/tickets?event=<slug> — the checkout page's catalogue, briefly cached at the edge. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      const query = validate(ticketCatalogQuerySchema, readQuery(ctx), 'query');
      const catalog = await getTicketCatalog(query.event);
      return json(catalog, {
        headers: { 'cache-control': 'public, max-age=0, s-maxage=10, stale-while-revalidate=30' },
      });
    },
  },
  { cors: 'buyer' },
);

import { validate } from '../../lib/http/body.js';
import { readQuery } from '../../lib/http/query.js';
import { defineRoute } from '../../lib/http/handler.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { json } from '../../lib/http/response.js';
import { listMessagesPage, MessageListQuery } from '../../lib/messages/list-messages.js';

/** GET /api/admin/messages?status=dead&kind=order_confirmation&orderId=&limit=&cursor= (scope messages:admin). */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    GET: async (ctx) => {
      await requireApiKey(ctx, 'messages:admin');
      return json(await listMessagesPage(validate(MessageListQuery, readQuery(ctx), 'query')));
    },
  },
  { cors: 'none' },
);

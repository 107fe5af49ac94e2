import { defineRoute } from '../../../../lib/http/handler.js';
import { requireApiKey } from '../../../../lib/http/require-api-key.js';
import { json } from '../../../../lib/http/response.js';
import { presentMessage } from '../../../../lib/messages/list-messages.js';
import { resendMessage } from '../../../../lib/messages/resend-message.js';

/**
 * POST /api/admin/messages/{id}/resend (scope messages:admin): sends the message again now (an uncertain one is
 * released as the same row, any other copied; lib/messages/resend-message.ts) and answers with both; one that
 * fails stays queued for the cron.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      const actor = await requireApiKey(ctx, 'messages:admin');
      const { original, resent } = await resendMessage(ctx.url.searchParams.get('id'), actor);
      return json({ original: presentMessage(original), resent: presentMessage(resent) }, { status: 201 });
    },
  },
  { cors: 'none' },
);

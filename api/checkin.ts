import { readJson } from '../lib/http/body.js';
import { defineRoute } from '../lib/http/handler.js';
import { requireApiKey } from '../lib/http/require-api-key.js';
import { json } from '../lib/http/response.js';
import { CheckInBody, checkInTicket } from '../lib/tickets/check-in-ticket.js';

/**
 * POST /api/checkin { code, door? } (scope checkin:write): 200 with the attendee and ticket type the
 * first time; 409 ALREADY_CHECKED_IN (when, door) after; 422 TICKET_NOT_VALID; 404 unknown code.
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      const actor = await requireApiKey(ctx, 'checkin:write');
      const body = await readJson(ctx, CheckInBody);
      return json(await checkInTicket(body, actor));
    },
  },
  { cors: 'none' },
);

import { readJson } from '../../lib/http/body.js';
import { actorFrom, defineRoute } from '../../lib/http/handler.js';
import { limitConfirmationResendByEmail, limitConfirmationResendByIp, rateLimitNow } from '../../lib/http/rate-limit.js';
import { json } from '../../lib/http/response.js';
import {
  RESEND_CONFIRMATION_ANSWER,
  ResendConfirmationBody,
  requestConfirmationResend,
} from '../../lib/messages/request-confirmation-resend.js';
import { runInBackground } from '../../lib/messages/schedule-delivery.js';

/**
 * POST /api/orders/resend-confirmation { email, orderNumber } — a buyer who lost the email. Always the
 * same 202, whether or not they match an order (the lookup runs after the response, so neither the
 * answer nor its timing tells); rate-limited per IP and per email (10 a minute each).
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      await limitConfirmationResendByIp(ctx);
      const body = await readJson(ctx, ResendConfirmationBody);
      await limitConfirmationResendByEmail(ctx, body.email);
      const actor = actorFrom(ctx, 'buyer');
      // One resend per order per 10 minutes, on the clock the abuse limits use (tests move it; in production
      // it is the time now).
      const now = rateLimitNow();
      runInBackground('confirmation resend', () => requestConfirmationResend(body, actor, now));
      return json(RESEND_CONFIRMATION_ANSWER, { status: 202 });
    },
  },
  { cors: 'buyer' },
);

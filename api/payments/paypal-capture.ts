import { bearerToken } from '../../lib/checkout/access-token.js';
import { capturePayPalOrder } from '../../lib/checkout/capture-paypal-order.js';
import { payPalCaptureRequestSchema } from '../../lib/checkout/schemas.js';
import { readJson } from '../../lib/http/body.js';
import { actorFrom, defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';

/** POST /api/payments/paypal-capture `{ orderId }` with `Authorization: Bearer <accessToken>` — the PayPal return. */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute(
  {
    POST: async (ctx) => {
      const body = await readJson(ctx, payPalCaptureRequestSchema);
      const result = await capturePayPalOrder({
        orderId: body.orderId,
        accessToken: bearerToken(ctx.request.headers.get('authorization')),
        actor: actorFrom(ctx, 'buyer', body.orderId),
      });
      return json(result.order, { status: result.capture === 'pending' ? 202 : 200 });
    },
  },
  { cors: 'buyer' },
);

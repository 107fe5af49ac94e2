import { isUuid } from '../ids.js';
import { db, type Queryable } from '../db/client.js';
import { findEventById } from '../db/models/events.js';
import { listOrderItems } from '../db/models/order-items.js';
import { findOrderById, type Order } from '../db/models/orders.js';
import { isCaptured, listPaymentsForOrder, type Payment } from '../db/models/payments.js';
import { AppError } from '../errors.js';
import { orderLinkTokenMatches } from '../messages/order-link-tokens.js';
import { accessTokenMatches } from './access-token.js';

/**
 * GET /api/orders/{id}: what a buyer (with the access token from checkout) may see of one order.
 * No token, a wrong token, another order's token or a missing order all give the same 404.
 *
 * `buildOrderView` is the credential-free part: the back-office view (API key) can reuse it and
 * add staff-only fields.
 */

export interface OrderItemView {
  id: string;
  ticketType: string;
  ticketTypeName: string;
  unitPriceCents: number;
  discountCents: number;
  priceCents: number;
  status: string;
  attendee: { firstName: string | null; lastName: string | null; email: string | null } | null;
}

export interface OrderView {
  orderId: string;
  orderNumber: string;
  status: Order['status'];
  event: { slug: string; name: string } | null;
  items: OrderItemView[];
  subtotalCents: number;
  discountCents: number;
  slidingScalePercent: number;
  totalCents: number;
  refundedCents: number;
  currency: Order['currency'];
  provider: Order['provider'];
  paymentStatus: Payment['status'] | null;
  payment: { status: Payment['status']; methodBrand: string | null; methodLast4: string | null } | null;
  /** Where to continue paying, while the hold is live. */
  checkoutUrl: string | null;
  holdExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

const NOT_FOUND_MESSAGE = 'No such order';

/** The payment that speaks for the order: the captured one if any, else the newest attempt. */
function primaryPayment(payments: Payment[]): Payment | undefined {
  return payments.find((p) => isCaptured(p.status)) ?? payments[0];
}

export async function buildOrderView(q: Queryable, order: Order): Promise<OrderView> {
  const [items, payments, event] = await Promise.all([
    listOrderItems(q, order.id),
    listPaymentsForOrder(q, order.id),
    findEventById(q, order.eventId),
  ]);
  const payment = primaryPayment(payments);
  const live = order.status === 'pending' || order.status === 'processing';
  return {
    orderId: order.id,
    orderNumber: order.orderNumber,
    status: order.status,
    event: event ? { slug: event.slug, name: event.name } : null,
    items: items.map((item) => ({
      id: item.id,
      ticketType: item.ticketTypeCode,
      ticketTypeName: item.ticketTypeName,
      unitPriceCents: item.unitPriceCents,
      discountCents: item.discountCents,
      priceCents: item.priceCents,
      status: item.status,
      attendee:
        item.attendeeFirstName || item.attendeeLastName || item.attendeeEmail
          ? { firstName: item.attendeeFirstName, lastName: item.attendeeLastName, email: item.attendeeEmail }
          : null,
    })),
    subtotalCents: order.subtotalCents,
    discountCents: order.discountCents,
    slidingScalePercent: order.slidingScalePercent,
    totalCents: order.totalCents,
    refundedCents: order.refundedCents,
    currency: order.currency,
    provider: order.provider,
    paymentStatus: payment?.status ?? null,
    payment: payment ? { status: payment.status, methodBrand: payment.methodBrand, methodLast4: payment.methodLast4 } : null,
    checkoutUrl: live ? (payment?.checkoutUrl ?? null) : null,
    holdExpiresAt: live ? (order.holdExpiresAt?.toISOString() ?? null) : null,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    completedAt: order.completedAt?.toISOString() ?? null,
  };
}

/**
 * The order when `accessToken` is its token from checkout (or, with `allowLinkToken`, for reading only,
 * an unexpired order-link token from one of its confirmation emails); otherwise undefined (missing
 * order, malformed id, no/wrong/other order's token: indistinguishable to the caller, and the hash
 * comparison runs in every case).
 */
export async function findOrderForBuyer(
  orderId: string | null | undefined,
  accessToken: string | undefined,
  q: Queryable = db,
  options: { allowLinkToken?: boolean } = {},
): Promise<Order | undefined> {
  const order = isUuid(orderId) ? await findOrderById(q, orderId) : undefined;
  const matches = accessTokenMatches(accessToken, order?.accessTokenHash);
  if (order && matches) return order;
  // The link in a confirmation email carries its own token (lib/messages/order-link-tokens.ts).
  if (order && options.allowLinkToken && (await orderLinkTokenMatches(q, order.id, accessToken))) return order;
  return undefined;
}

export async function getOrderForBuyer(input: {
  orderId: string | null | undefined;
  accessToken: string | undefined;
}): Promise<OrderView> {
  const order = await findOrderForBuyer(input.orderId, input.accessToken, db, { allowLinkToken: true });
  if (!order) throw new AppError('NOT_FOUND', NOT_FOUND_MESSAGE);
  return await buildOrderView(db, order);
}

export function orderNotFound(): AppError {
  return new AppError('NOT_FOUND', NOT_FOUND_MESSAGE);
}

import { randomString, UPPER_ALPHANUMERIC } from '../http-kit.js';
import type { PayPalApproveOptions, PayPalApproveResult } from './types.js';
import type { PayPalState } from './state.js';
import type { Renderers } from './render.js';
import type { PayPalEvents } from './events.js';

/** The buyer approving an order (the approval page and approve()), with its event. */
export function createApproval(state: PayPalState, render: Renderers, ev: PayPalEvents) {
  const { timestamp, orders } = state;
  const { renderOrder } = render;
  const { buildEvent, events } = ev;

  async function approve(orderId: string, approveOptions: PayPalApproveOptions = {}): Promise<PayPalApproveResult> {
    const order = orders.get(orderId);
    if (!order) return { outcome: 'rejected', reason: 'no_such_order', message: `No such order: ${orderId}` };
    if (order.status !== 'CREATED' && order.status !== 'PAYER_ACTION_REQUIRED') {
      return {
        outcome: 'rejected',
        reason: 'not_approvable',
        message: `Order ${orderId} is ${order.status} and cannot be approved.`,
      };
    }
    const payerId = approveOptions.payerId ?? randomString(13, UPPER_ALPHANUMERIC);
    order.payer = {
      payerId,
      email: approveOptions.payerEmail ?? 'buyer@example.com',
      givenName: approveOptions.givenName ?? 'Sandbox',
      surname: approveOptions.surname ?? 'Buyer',
    };
    order.status = 'APPROVED';
    order.updateTime = timestamp();
    const rendered = renderOrder(order);
    const event = buildEvent('CHECKOUT.ORDER.APPROVED', 'checkout-order', rendered, 'An order has been approved by buyer');
    const delivery = await events.deliver(event);
    let redirectUrl: string | null = null;
    if (order.returnUrl) {
      const url = new URL(order.returnUrl);
      url.searchParams.set('token', order.id);
      url.searchParams.set('PayerID', payerId);
      redirectUrl = url.toString();
    }
    return { outcome: 'approved', order: rendered, event, delivery, payerId, redirectUrl };
  }

  return { approve };
}

export type Approval = ReturnType<typeof createApproval>;

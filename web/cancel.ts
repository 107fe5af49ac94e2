import { api, byId, generalErrorText, orderTokens } from './shared.js';

/**
 * /tickets/cancel: the provider's "cancel and go back" lands here. With this tab's token the order is
 * cancelled at once (POST /api/orders/{id}/cancel), which gives its tickets back; then the buyer can
 * start again. Without a token nothing is asked of the API (the hold simply runs out).
 */

interface OrderView {
  orderNumber: string;
  status: string;
}

const statusBox = byId('status');
const orderId = new URLSearchParams(location.search).get('order_id');
const token = orderTokens.read(orderId);

function say(heading: string, text: string): void {
  byId('cancel-heading').textContent = heading;
  byId('cancel-text').textContent = text;
  statusBox.textContent = '';
  byId('cancel-heading').focus();
}

async function start(): Promise<void> {
  if (!orderId || !token) {
    say(
      'Payment cancelled',
      'Nothing was charged. The tickets you picked are held for a short while and then go back on sale by themselves.',
    );
    return;
  }
  statusBox.textContent = 'Cancelling your order…';
  const answer = await api<OrderView>(`/api/orders/${encodeURIComponent(orderId)}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  if (answer.kind === 'ok') {
    const { orderNumber, status } = answer.body;
    say(
      'Order cancelled',
      status === 'cancelled'
        ? `Order ${orderNumber} is cancelled. Nothing was charged, and its tickets are back on sale.`
        : `Order ${orderNumber} had already ended. Nothing was charged, and its tickets are back on sale.`,
    );
    return;
  }
  if (answer.kind === 'error' && answer.error.code === 'ORDER_NOT_CANCELLABLE') {
    say(
      'This order is already paid',
      'Your payment went through, so this order was not cancelled. See your receipt, or contact the festival for a refund.',
    );
    const link = byId<HTMLAnchorElement>('receipt-link');
    link.href = `/tickets/success?order_id=${encodeURIComponent(orderId)}`;
    link.hidden = false;
    return;
  }
  if (answer.kind === 'error' && answer.status === 404) {
    say('Payment cancelled', 'Nothing was charged. The tickets you picked go back on sale by themselves shortly.');
    return;
  }
  say('We could not cancel the order yet', `${generalErrorText(answer)} Nothing was charged.`);
}

void start();

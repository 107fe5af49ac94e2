import { PAID_ORDER_STATUSES, UNPAID_ENDED_ORDER_STATUSES } from '../lib/db/models/orders.js';
import { type ApiAnswer, api, byId, el, formatMoney, generalErrorText, orderTokens } from './shared.js';

/**
 * /tickets/success: where Stripe and PayPal send the buyer back, and where the confirmation email links
 * (`#token=…`, any browser). Reads the order with the token kept in this tab's sessionStorage and shows its state until it is final: "confirming your payment" while
 * the provider's webhook has not arrived (polling with backoff, giving up after a few minutes with the
 * order number), then the receipt. PayPal: the capture call comes first (it is idempotent).
 * Without a token the page never asks the API, so it cannot tell whether an order id exists.
 */

interface OrderView {
  orderId: string;
  orderNumber: string;
  status: string;
  event: { name: string } | null;
  items: {
    ticketTypeName: string;
    unitPriceCents: number;
    discountCents: number;
    priceCents: number;
    attendee: { firstName: string | null; lastName: string | null } | null;
  }[];
  subtotalCents: number;
  discountCents: number;
  slidingScalePercent: number;
  totalCents: number;
  refundedCents: number;
  currency: string;
  provider: 'stripe' | 'paypal';
  payment: { status: string; methodBrand: string | null; methodLast4: string | null } | null;
  completedAt: string | null;
}

const PAID: readonly string[] = PAID_ORDER_STATUSES;
const ENDED: readonly string[] = UNPAID_ENDED_ORDER_STATUSES;
/** Backoff: 1 s, ×1.5 each time, at most 10 s apart; give up after 3 minutes. */
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;
const GIVE_UP_MS = 3 * 60_000;

const statusBox = byId('status');
const params = new URLSearchParams(location.search);
const orderId = params.get('order_id');
/**
 * The link in the confirmation email carries a token of its own in the fragment (never sent to a server):
 * kept for this tab like checkout's token, and taken out of the address bar.
 */
function tokenFromEmailLink(): string | null {
  const linked = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!orderId || !linked || !/^[A-Za-z0-9_-]{43}$/.test(linked)) return null;
  orderTokens.save(orderId, linked);
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return linked;
}

const token = tokenFromEmailLink() ?? orderTokens.read(orderId);

function show(section: string): void {
  for (const id of ['confirming', 'receipt', 'ended', 'no-access', 'gave-up']) byId(id).hidden = id !== section;
}

function setStatus(text: string): void {
  statusBox.textContent = text;
}

function renderReceipt(order: OrderView): void {
  show('receipt');
  setStatus('');
  byId('receipt-heading').focus();
  byId('r-number').textContent = order.orderNumber;
  byId('r-event').textContent = order.event?.name ?? '';
  const rows = order.items.map((item) => {
    const name = item.attendee ? [item.attendee.firstName, item.attendee.lastName].filter(Boolean).join(' ') : '—';
    return el(
      'tr',
      {},
      el('td', {}, item.ticketTypeName),
      el('td', {}, name),
      el('td', { class: 'num' }, formatMoney(item.priceCents, order.currency)),
    );
  });
  byId('r-items').replaceChildren(...rows);
  byId('r-subtotal').textContent = formatMoney(order.subtotalCents, order.currency);
  byId('r-discount-label').textContent = `Sliding scale (${order.slidingScalePercent} %)`;
  byId('r-discount').textContent =
    order.discountCents > 0 ? `−${formatMoney(order.discountCents, order.currency)}` : formatMoney(0, order.currency);
  const total = byId('r-total');
  total.textContent = formatMoney(order.totalCents, order.currency);
  total.dataset.totalCents = String(order.totalCents);
  const method =
    order.provider === 'paypal'
      ? 'PayPal'
      : `Card${order.payment?.methodBrand ? ` (${order.payment.methodBrand}${order.payment.methodLast4 ? ` ending ${order.payment.methodLast4}` : ''})` : ''} via Stripe`;
  byId('r-provider').textContent = method;
  byId('r-paid-at').textContent = order.completedAt
    ? new Date(order.completedAt).toLocaleString('en-US', { dateStyle: 'long', timeStyle: 'short' })
    : '—';
  byId('r-refunded').hidden = order.refundedCents === 0;
  byId('r-refunded').textContent =
    order.refundedCents > 0 ? `Refunded so far: ${formatMoney(order.refundedCents, order.currency)}.` : '';
}

function renderEnded(order: OrderView): void {
  show('ended');
  const words: Record<string, string> = {
    failed: 'Your payment did not go through, so nothing was charged and the tickets were released.',
    expired: 'Your reservation ran out before the payment arrived, so nothing was charged and the tickets were released.',
    cancelled: 'This order was cancelled; nothing was charged and the tickets were released.',
  };
  byId('ended-text').textContent = `Order ${order.orderNumber}: ${words[order.status] ?? 'This order did not complete.'}`;
  setStatus('');
  byId('ended-heading').focus();
}

function renderPending(order: OrderView): void {
  show('confirming');
  byId('c-number').textContent = order.orderNumber;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function read(): Promise<ApiAnswer<OrderView>> {
  return await api<OrderView>(`/api/orders/${encodeURIComponent(orderId ?? '')}`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

async function capturePayPal(): Promise<ApiAnswer<OrderView>> {
  return await api<OrderView>('/api/payments/paypal-capture', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ orderId }),
  });
}

/** Returns true when the page has reached a final state. */
function render(order: OrderView): boolean {
  if (PAID.includes(order.status)) {
    renderReceipt(order);
    return true;
  }
  if (ENDED.includes(order.status)) {
    renderEnded(order);
    return true;
  }
  renderPending(order);
  return false;
}

async function start(): Promise<void> {
  if (!orderId || !token) {
    show('no-access');
    setStatus('');
    return;
  }
  const started = Date.now();
  let delay = FIRST_DELAY_MS;
  let captured = false;
  let lastNumber = '';
  for (;;) {
    const answer = await read();
    if (answer.kind === 'ok') {
      lastNumber = answer.body.orderNumber;
      if (render(answer.body)) return;
      if (answer.body.provider === 'paypal' && !captured) {
        captured = true;
        setStatus('Confirming your PayPal payment…');
        const capture = await capturePayPal();
        if (capture.kind === 'ok' && render(capture.body)) return;
        if (capture.kind === 'error' && capture.error.code === 'PAYMENT_DECLINED') {
          byId('c-note').textContent =
            'PayPal declined the payment method you chose. Nothing was charged. Go back to PayPal to choose another one, or start again.';
        } else if (capture.kind !== 'ok') {
          captured = false; // try the capture again on the next round
          byId('c-note').textContent =
            capture.kind === 'error' && capture.error.code === 'UNPROCESSABLE'
              ? 'PayPal has not confirmed your approval yet. We keep checking.'
              : `${generalErrorText(capture)} We keep checking.`;
        }
      } else {
        setStatus('Confirming your payment…');
      }
    } else if (answer.kind === 'error' && answer.status === 404) {
      show('no-access');
      setStatus('');
      return;
    } else {
      byId('c-note').textContent = `${generalErrorText(answer)} We keep checking.`;
      if (answer.kind === 'error' && answer.retryAfterSeconds) delay = Math.max(delay, answer.retryAfterSeconds * 1000);
    }
    if (Date.now() - started > GIVE_UP_MS) {
      show('gave-up');
      byId('g-number').textContent = lastNumber || 'shown in your confirmation email';
      setStatus('');
      return;
    }
    await sleep(delay);
    delay = Math.min(Math.round(delay * 1.5), MAX_DELAY_MS);
  }
}

void start();

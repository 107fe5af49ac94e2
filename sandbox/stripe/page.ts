import {
  escapeHtml,
  type HandlerResult,
  htmlReply,
  pathParam,
  type RecordedRequest,
  redirectReply,
  textReply,
} from '../http-kit.js';
import { formatMoney, isFormObject, pageShell } from './helpers.js';
import type { SessionRecord } from './records.js';
import type { StripeState } from './state.js';
import type { Payment } from './payment.js';

/** The hosted payment page (GET/POST /pay/:id) the buyer is sent to. */
export function createPaymentPage(state: StripeState, payment: Payment) {
  const { sessions, charges } = state;
  const { findSession, pay } = payment;

  async function handlePage(request: RecordedRequest): Promise<HandlerResult> {
    const m = /^\/pay\/([^/]+)$/.exec(request.path);
    if (m) {
      const sessionId = decodeURIComponent(m[1] ?? '');
      if (request.method === 'GET') {
        const session = findSession(sessionId);
        if (!session) return htmlReply(404, pageShell('Not found', `<p>No such Checkout Session.</p>`));
        return htmlReply(session.status === 'open' ? 200 : 410, paymentPage(session, null));
      }
      if (request.method === 'POST') {
        const form = isFormObject(request.body) ? request.body : {};
        const card = typeof form.card === 'string' ? form.card : '';
        const email = typeof form.email === 'string' ? form.email : undefined;
        const name = typeof form.name === 'string' ? form.name : undefined;
        const result = await pay(sessionId, { number: card, email, name });
        if (result.outcome === 'succeeded') {
          return redirectReply(result.redirectUrl ?? `${state.publicUrl}/pay/${encodeURIComponent(sessionId)}/complete`);
        }
        const session = sessions.get(sessionId);
        if (!session) return htmlReply(404, pageShell('Not found', `<p>No such Checkout Session.</p>`));
        if (result.outcome === 'declined') return htmlReply(402, paymentPage(session, result.message));
        return htmlReply(result.reason === 'session_not_open' ? 410 : 400, paymentPage(session, result.message));
      }
    }
    const done = /^\/pay\/([^/]+)\/complete$/.exec(request.path);
    if (done && request.method === 'GET') {
      return htmlReply(200, pageShell('Payment complete', '<p>Payment complete. The session had no success_url.</p>'));
    }
    const receiptId = pathParam(request, 'GET', /^\/receipts\/([^/]+)$/);
    if (receiptId !== undefined) {
      const charge = charges.get(receiptId);
      if (!charge) return htmlReply(404, pageShell('Not found', '<p>No such receipt.</p>'));
      return htmlReply(
        200,
        pageShell(
          'Receipt',
          `<p>Receipt for ${escapeHtml(formatMoney(charge.amount, charge.currency))} (${escapeHtml(charge.id)})</p>`,
        ),
      );
    }
    return textReply(404, 'Not found');
  }

  function paymentPage(session: SessionRecord, message: string | null): string {
    const rows = session.lineItems
      .map(
        (item) =>
          `<tr><td>${escapeHtml(item.name)}</td><td>${item.quantity}</td><td>${escapeHtml(formatMoney(item.unitAmount * item.quantity, item.currency))}</td></tr>`,
      )
      .join('');
    const total = escapeHtml(formatMoney(session.amountTotal, session.currency));
    const notice = message ? `<p class="error" role="alert" id="message">${escapeHtml(message)}</p>` : '';
    let body: string;
    if (session.status === 'open') {
      const cancel = session.cancelUrl
        ? `<p><a id="cancel" href="${escapeHtml(session.cancelUrl)}">Cancel and go back</a></p>`
        : '';
      body = `
        <table><thead><tr><th>Item</th><th>Qty</th><th>Amount</th></tr></thead><tbody>${rows}</tbody></table>
        <p>Total: <strong id="total">${total}</strong></p>
        ${notice}
        <form method="post" action="/pay/${encodeURIComponent(session.id)}">
          <label>Email <input name="email" type="email" value="${escapeHtml(session.customerEmail ?? '')}"></label>
          <label>Name on card <input name="name" autocomplete="cc-name"></label>
          <label>Card number <input name="card" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required></label>
          <button type="submit">Pay ${total}</button>
        </form>
        <p class="hint">Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.</p>
        ${cancel}`;
    } else {
      const text =
        session.status === 'complete' ? 'This Checkout Session has already been paid.' : 'This Checkout Session has expired.';
      body = `${notice}<p id="status">${escapeHtml(text)}</p>`;
    }
    return pageShell(`Pay ${total}`, body);
  }

  return { handlePage, paymentPage };
}

export type PaymentPage = ReturnType<typeof createPaymentPage>;

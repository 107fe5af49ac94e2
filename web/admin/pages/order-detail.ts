import type { AdminOrderDetail } from '../../../lib/db/queries/order-detail.js';
import { formatMinorUnits, parseDecimalAmount } from '../../../lib/money.js';
import { adminApi, errorWords } from '../client.js';
import type { PageContext } from '../main.js';
import { holds } from '../session.js';
import { button, el, field, link, message, money, setMessage, table, unavailable, when } from '../ui.js';

/**
 * One order (orders:read): GET /api/orders/{id} (staff view: items and attendees, payments, failures,
 * refunds), GET /api/audit?entity=order (the timeline), GET /api/orders/{id}/money (the ledger, where
 * the deployment has it), and the refund form (refunds:write): amount typed in currency units and
 * turned into minor units by lib/money.ts's own parser (strings, no floating point), a reason, release
 * tickets or not, a confirmation step, and one Idempotency-Key per submission.
 */

type Detail = AdminOrderDetail;

interface AuditEntry {
  id: number;
  entityType: string;
  action: string;
  actor: { type: string; id: string | null };
  reason: string | null;
  createdAt: string;
}

interface LedgerEntry {
  id: number;
  kind: string;
  provider: string;
  amountCents: number;
  currency: string;
  occurredAt: string;
}

interface OrderMoney {
  ledger: { capturedCents: number; refundedCents: number; feesCents: number; netCents: number };
  balanced: boolean;
  entries: LedgerEntry[];
}

function uuid(): string {
  return crypto.randomUUID();
}

export async function renderOrderDetail(view: HTMLElement, ctx: PageContext): Promise<void> {
  const id = ctx.params[0] ?? '';
  const heading = el('h1', {}, 'Order');
  const note = message('', 'ok', 'order-note');
  const body = el('div', { id: 'order-detail' });
  view.append(el('p', {}, link('#/orders', '← Orders')), heading, note, body);

  const load = async (): Promise<void> => {
    const path = encodeURIComponent(id);
    const [detail, audit, ledger] = await Promise.all([
      adminApi<Detail>(`/api/orders/${path}`),
      adminApi<{ data: AuditEntry[] }>(`/api/audit?entity=order&id=${path}`),
      adminApi<OrderMoney>(`/api/orders/${path}/money`),
    ]);
    if (detail.kind !== 'ok') {
      setMessage(note, errorWords(detail, 'This order'), 'error');
      return;
    }
    const d = detail.body;
    const o = d.order;
    const c = o.currency;
    heading.textContent = `Order ${o.orderNumber}`;
    body.replaceChildren(
      el(
        'dl',
        { class: 'figures', id: 'order-figures' },
        figure(
          'Status',
          o.status.replaceAll('_', ' ') + (o.attentionReason ? ` (${o.attentionReason.replaceAll('_', ' ')})` : ''),
        ),
        figure('Total', money(o.totalCents, c)),
        figure('Refunded', money(o.refundedCents, c), 'order-refunded'),
        figure('Still refundable', money(o.refundableCents, c), 'order-refundable'),
        figure('Sliding scale', `${o.slidingScalePercent} %`),
        figure('Provider', o.provider),
      ),
      el(
        'p',
        {},
        `${d.customer ? `${d.customer.firstName} ${d.customer.lastName} <${d.customer.email}>` : 'No customer'} · ${
          d.event?.name ?? ''
        } · created ${when(o.createdAt)}${o.completedAt ? ` · paid ${when(o.completedAt)}` : ''}`,
      ),
    );
    if (holds(ctx.identity, 'refunds:write') && o.refundableCents > 0) body.append(refundForm(d, load, note));
    body.append(
      el('h2', {}, 'Tickets and attendees'),
      table(
        'Tickets',
        [
          { label: 'Type', cell: (i) => i.ticketTypeName },
          { label: 'Attendee', cell: (i) => `${i.attendee.firstName ?? ''} ${i.attendee.lastName ?? ''}`.trim() || '—' },
          { label: 'Email', cell: (i) => i.attendee.email ?? '—' },
          { label: 'Status', cell: (i) => i.status },
          { label: 'Price', num: true, cell: (i) => money(i.priceCents, i.currency) },
        ],
        d.items,
        { id: 'order-items' },
      ),
      el('h2', {}, 'Payments'),
      table(
        'Payment attempts',
        [
          { label: 'Provider', cell: (p) => p.provider },
          { label: 'Status', cell: (p) => p.status },
          { label: 'Amount', num: true, cell: (p) => money(p.amountCents, p.currency) },
          { label: 'Refunded', num: true, cell: (p) => money(p.refundedCents, p.currency) },
          {
            label: 'Method',
            cell: (p) =>
              [p.method.brand ?? p.method.type, p.method.last4 ? `…${p.method.last4}` : ''].filter(Boolean).join(' ') || '—',
          },
          { label: 'Provider id', cell: (p) => el('code', { class: 'wrap' }, p.providerPaymentId ?? '—') },
          { label: 'Failure', cell: (p) => p.failureCode ?? '' },
          { label: 'Created', cell: (p) => when(p.createdAt) },
        ],
        d.payments,
        { id: 'order-payments' },
      ),
      table(
        'Payment failures',
        [
          { label: 'Provider', cell: (f) => f.provider },
          { label: 'Code', cell: (f) => [f.code, f.declineCode].filter(Boolean).join(' / ') || '—' },
          { label: 'Message', cell: (f) => f.message ?? '' },
          { label: 'When', cell: (f) => when(f.createdAt) },
        ],
        d.failures,
        { id: 'order-failures', empty: 'No payment failures.' },
      ),
      el('h2', {}, 'Refunds'),
      table(
        'Refunds',
        [
          { label: 'Amount', num: true, cell: (r) => money(r.amountCents, r.currency) },
          { label: 'Status', cell: (r) => r.status + (r.failureReason ? ` (${r.failureReason})` : '') },
          { label: 'Reason', cell: (r) => r.reason ?? '' },
          { label: 'Tickets released', cell: (r) => (r.releaseTickets ? 'yes' : 'no') },
          { label: 'Source', cell: (r) => r.source },
          { label: 'When', cell: (r) => when(r.createdAt) },
        ],
        d.refunds,
        { id: 'order-refunds', empty: 'No refunds.' },
      ),
      el('h2', {}, 'Ledger'),
      ledger.kind === 'unavailable'
        ? unavailable('The ledger', 'GET /api/orders/{id}/money')
        : ledger.kind === 'ok'
          ? el(
              'div',
              {},
              el(
                'p',
                { id: 'ledger-balance' },
                `Captured ${money(ledger.body.ledger.capturedCents, c)}, refunded ${money(ledger.body.ledger.refundedCents, c)}, fees ${money(
                  ledger.body.ledger.feesCents,
                  c,
                )}, net ${money(ledger.body.ledger.netCents, c)} — ${ledger.body.balanced ? 'agrees with the order' : 'DOES NOT agree with the order'}.`,
              ),
              table(
                'Ledger rows',
                [
                  { label: 'Kind', cell: (e) => e.kind },
                  { label: 'Provider', cell: (e) => e.provider },
                  { label: 'Amount', num: true, cell: (e) => money(e.amountCents, e.currency) },
                  { label: 'When', cell: (e) => when(e.occurredAt) },
                ],
                ledger.body.entries,
                { id: 'order-ledger', empty: 'No ledger rows.' },
              ),
            )
          : message(errorWords(ledger, 'The ledger'), 'error'),
      el('h2', {}, 'Audit timeline'),
      audit.kind === 'ok'
        ? el(
            'ol',
            { class: 'timeline', id: 'order-audit' },
            ...audit.body.data.map((a) =>
              el(
                'li',
                { 'data-action': a.action },
                `${when(a.createdAt)} — ${a.entityType} ${a.action} by ${a.actor.type}${a.actor.id ? ` ${a.actor.id}` : ''}${
                  a.reason ? ` (${a.reason})` : ''
                }`,
              ),
            ),
          )
        : message(errorWords(audit, 'The audit timeline'), 'error'),
    );
  };
  await load();
}

function figure(label: string, value: string, id?: string): HTMLElement {
  return el('div', {}, el('dt', {}, label), el('dd', id ? { id } : {}, value));
}

function refundForm(d: Detail, reload: () => Promise<void>, note: HTMLElement): HTMLElement {
  const o = d.order;
  const currency = o.currency;
  const amount = el('input', {
    type: 'text',
    name: 'amount',
    inputmode: 'decimal',
    autocomplete: 'off',
    'aria-describedby': 'refund-amount-help refund-amount-err',
  });
  amount.value = formatMinorUnits(o.refundableCents);
  const reason = el('textarea', { name: 'reason', maxlength: '1000', 'aria-describedby': 'refund-reason-err' });
  const release = el('input', { type: 'checkbox', name: 'releaseTickets', id: 'refund-release' });
  const amountErr = el('p', { class: 'field-error', id: 'refund-amount-err' });
  const reasonErr = el('p', { class: 'field-error', id: 'refund-reason-err' });
  const confirmBox = el('div', { class: 'confirm', id: 'refund-confirm', hidden: '' });
  const review = el('button', { type: 'submit', id: 'refund-review' }, 'Review refund');
  const form = el(
    'form',
    { id: 'refund-form', novalidate: '', 'aria-labelledby': 'refund-h' },
    el('h2', { id: 'refund-h' }, 'Refund'),
    field(`Amount (${currency})`, amount, 'refund-amount'),
    el('p', { class: 'hint', id: 'refund-amount-help' }, `Up to ${money(o.refundableCents, currency)}, e.g. 12.50.`),
    amountErr,
    field('Reason (at least 10 characters)', reason, 'refund-reason'),
    reasonErr,
    el('div', { class: 'field' }, release, ' ', el('label', { for: 'refund-release' }, 'Release the tickets back to sale')),
    review,
    confirmBox,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    amountErr.textContent = '';
    reasonErr.textContent = '';
    amount.removeAttribute('aria-invalid');
    reason.removeAttribute('aria-invalid');
    const cents = parseDecimalAmount(amount.value.replaceAll(',', ''));
    let bad: HTMLElement | undefined;
    if (cents === undefined || cents <= 0) {
      amountErr.textContent = 'Enter an amount like 12.50 (at most two decimals).';
      amount.setAttribute('aria-invalid', 'true');
      bad = amount;
    } else if (cents > o.refundableCents) {
      amountErr.textContent = `At most ${money(o.refundableCents, currency)} can be refunded.`;
      amount.setAttribute('aria-invalid', 'true');
      bad = amount;
    }
    if (reason.value.trim().length < 10) {
      reasonErr.textContent = 'Give a reason of at least 10 characters.';
      reason.setAttribute('aria-invalid', 'true');
      bad ??= reason;
    }
    if (bad || cents === undefined) {
      bad?.focus();
      return;
    }
    // One submission = one Idempotency-Key: pressing Confirm twice (or a retry after a dropped answer)
    // sends the same key, so the server makes one refund.
    const idempotencyKey = uuid();
    const tickets = release.checked
      ? `The ${d.items.filter((i) => i.status !== 'refunded').length} ticket(s) go back on sale.`
      : 'The tickets stay sold.';
    const confirm = button('Confirm refund', { id: 'refund-confirm-button', class: 'danger' });
    const back = button('Back', { class: 'secondary', id: 'refund-back' }, () => {
      confirmBox.hidden = true;
      confirmBox.replaceChildren();
      review.disabled = false;
      amount.focus();
    });
    let sent = false;
    confirm.addEventListener('click', async () => {
      if (sent) return;
      sent = true;
      confirm.disabled = true;
      back.disabled = true;
      const answer = await adminApi<{ refund: { amountCents: number; status: string } }>('/api/payments/refund', {
        method: 'POST',
        headers: { 'idempotency-key': idempotencyKey },
        body: { orderId: o.id, amountCents: cents, reason: reason.value.trim(), releaseTickets: release.checked },
      });
      if (answer.kind === 'network') {
        // The refund may or may not have been made: offer the SAME submission again (same key), never a new one.
        setMessage(
          note,
          'No answer from the server. Press Confirm refund again: it repeats this same request, so it cannot refund twice.',
          'error',
        );
        sent = false;
        confirm.disabled = false;
        back.disabled = false;
        return;
      }
      if (answer.kind !== 'ok') {
        setMessage(note, errorWords(answer, 'Refunds'), 'error');
        confirmBox.hidden = true;
        review.disabled = false;
        return;
      }
      const r = answer.body.refund;
      await reload();
      setMessage(
        note,
        r.status === 'succeeded'
          ? `Refunded ${money(r.amountCents, currency)}.`
          : `Refund of ${money(r.amountCents, currency)} asked; the provider has not confirmed it yet (${r.status}).`,
      );
      note.focus();
    });
    review.disabled = true;
    confirmBox.replaceChildren(
      el(
        'p',
        { id: 'refund-summary' },
        `Refund ${money(cents, currency)} of order ${o.orderNumber} to the buyer through ${o.provider}. ${tickets} Reason: “${reason.value.trim()}”.`,
      ),
      el('div', { class: 'actions' }, confirm, back),
    );
    confirmBox.hidden = false;
    confirm.focus();
  });
  note.setAttribute('tabindex', '-1');
  return form;
}

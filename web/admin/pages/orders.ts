import { ORDER_STATUSES } from '../../../lib/db/models/orders.js';
import type { OrderSummary } from '../../../lib/db/queries/order-search.js';
import { adminApi, errorWords } from '../client.js';
import type { PageContext } from '../main.js';
import { button, el, field, formValues, input, link, message, money, queryOf, select, setMessage, table, when } from '../ui.js';

/** Orders (orders:read): search by order number, email or attendee name, and status; GET /api/orders. */

export async function renderOrders(view: HTMLElement, ctx: PageContext): Promise<void> {
  const q = ctx.query.get('q') ?? '';
  const email = ctx.query.get('email') ?? '';
  const status = ctx.query.get('status') ?? '';
  const form = el(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Search orders' },
    field('Order number, email or name', input('q', q, 'search', { placeholder: 'ALB-… / ana@… / García' }), 'orders-q'),
    field('Exact customer email', input('email', email, 'search'), 'orders-email'),
    field('Status', select('status', ['', ...ORDER_STATUSES], status), 'orders-status'),
    el('button', { type: 'submit', id: 'orders-search' }, 'Search'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = formValues(form);
    ctx.go(`#/orders${queryOf({ q: v.q, email: v.email, status: v.status })}`);
  });
  const results = el('div', { id: 'orders-results', 'aria-live': 'polite' });
  const note = message('', 'ok', 'orders-note');
  view.append(el('h1', {}, 'Orders'), form, note, results);

  let cursor: string | null = null;
  const rows: OrderSummary[] = [];
  const load = async () => {
    const answer = await adminApi<{ data: OrderSummary[]; nextCursor: string | null }>(
      `/api/orders${queryOf({ q, email, status, limit: '25', cursor: cursor ?? undefined })}`,
    );
    if (answer.kind !== 'ok') {
      setMessage(note, errorWords(answer, 'Order search'), 'error');
      return;
    }
    rows.push(...answer.body.data);
    cursor = answer.body.nextCursor;
    results.replaceChildren(
      table(
        `Orders${q || email || status ? ' matching the search' : ''} (${rows.length}${cursor ? '+' : ''})`,
        [
          { label: 'Order', cell: (o) => link(`#/orders/${o.id}`, o.orderNumber) },
          { label: 'Customer', cell: (o) => `${o.customer.firstName} ${o.customer.lastName}` },
          { label: 'Email', cell: (o) => o.customer.email },
          { label: 'Status', cell: (o) => o.status },
          { label: 'Provider', cell: (o) => o.provider },
          { label: 'Tickets', num: true, cell: (o) => String(o.ticketCount) },
          { label: 'Total', num: true, cell: (o) => money(o.totalCents, o.currency) },
          { label: 'Refunded', num: true, cell: (o) => money(o.refundedCents, o.currency) },
          { label: 'Created', cell: (o) => when(o.createdAt) },
        ],
        rows,
        { id: 'orders-table', empty: 'No orders match.' },
      ),
    );
    if (cursor)
      results.append(
        el(
          'div',
          { class: 'actions' },
          button('More orders', { class: 'secondary', id: 'orders-more' }, () => void load()),
        ),
      );
  };
  await load();
}

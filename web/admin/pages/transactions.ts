import { PAYMENT_STATUSES } from '../../../lib/db/models/payments.js';
import type { TransactionView } from '../../../lib/db/queries/transactions.js';
import { adminApi, adminDownload, errorWords } from '../client.js';
import type { PageContext } from '../main.js';
import { button, el, field, formValues, input, link, message, money, queryOf, select, setMessage, table, when } from '../ui.js';

/**
 * Transactions (payments:read): GET /api/payments/transactions with filters, page by page (the API's
 * cursor), and the CSV of the current filter (the same URL with format=csv, fetched with the key in the
 * header and saved from a blob: the key never goes into a link).
 */

type Transaction = TransactionView;

const FILTERS = ['status', 'provider', 'from', 'to', 'email', 'orderNumber'] as const;

export async function renderTransactions(view: HTMLElement, ctx: PageContext): Promise<void> {
  const current: Record<string, string> = {};
  for (const name of FILTERS) current[name] = ctx.query.get(name) ?? '';
  const form = el(
    'form',
    { class: 'filters', 'aria-label': 'Filter transactions' },
    field('Status', select('status', ['', ...PAYMENT_STATUSES], current.status), 'tx-status'),
    field('Provider', select('provider', ['', 'stripe', 'paypal'], current.provider), 'tx-provider'),
    field('From (UTC)', input('from', current.from, 'date'), 'tx-from'),
    field('To (UTC, exclusive)', input('to', current.to, 'date'), 'tx-to'),
    field('Customer email', input('email', current.email, 'search'), 'tx-email'),
    field('Order number', input('orderNumber', current.orderNumber, 'search'), 'tx-order'),
    el('button', { type: 'submit', id: 'tx-apply' }, 'Apply filters'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = formValues(form);
    ctx.go(`#/transactions${queryOf(Object.fromEntries(FILTERS.map((k) => [k, v[k]])))}`);
  });
  const note = message('', 'ok', 'tx-note');
  const results = el('div', { id: 'tx-results', 'aria-live': 'polite' });
  const csv = button('Download CSV of this filter', { class: 'secondary', id: 'tx-csv' });
  view.append(el('h1', {}, 'Transactions'), form, el('div', { class: 'actions' }, csv), note, results);

  const filterQuery = (extra: Record<string, string | undefined>) => queryOf({ ...current, ...extra });

  csv.addEventListener('click', async () => {
    csv.disabled = true;
    const answer = await adminDownload(`/api/payments/transactions${filterQuery({ format: 'csv' })}`);
    csv.disabled = false;
    if (answer.kind !== 'ok') {
      setMessage(note, errorWords(answer, 'The CSV export'), 'error');
      return;
    }
    const url = URL.createObjectURL(new Blob([answer.text], { type: 'text/csv' }));
    const a = el('a', { href: url, download: answer.filename, hidden: '' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    setMessage(note, `Saved ${answer.filename}.`);
  });

  /** Cursors of the pages seen so far: page n is fetched with cursors[n] (undefined for the first). */
  const cursors: (string | undefined)[] = [undefined];
  let pageIndex = 0;
  const load = async () => {
    const answer = await adminApi<{ data: Transaction[]; nextCursor: string | null }>(
      `/api/payments/transactions${filterQuery({ limit: '25', cursor: cursors[pageIndex] })}`,
    );
    if (answer.kind !== 'ok') {
      setMessage(note, errorWords(answer, 'Transactions'), 'error');
      return;
    }
    const next = answer.body.nextCursor;
    if (next) cursors[pageIndex + 1] = next;
    const prevButton = button('Previous page', { class: 'secondary', id: 'tx-prev' }, () => {
      pageIndex -= 1;
      void load();
    });
    prevButton.disabled = pageIndex === 0;
    const nextButton = button('Next page', { class: 'secondary', id: 'tx-next' }, () => {
      pageIndex += 1;
      void load();
    });
    nextButton.disabled = !next;
    results.replaceChildren(
      table(
        `Transactions, page ${pageIndex + 1}`,
        [
          { label: 'When', cell: (t) => when(t.createdAt) },
          { label: 'Order', cell: (t) => link(`#/orders/${t.orderId}`, t.orderNumber) },
          { label: 'Customer', cell: (t) => `${t.customer.name} <${t.customer.email}>` },
          { label: 'Provider', cell: (t) => t.provider },
          { label: 'Status', cell: (t) => t.status },
          { label: 'Amount', num: true, cell: (t) => money(t.amountCents, t.currency) },
          { label: 'Refunded', num: true, cell: (t) => money(t.refundedCents, t.currency) },
          { label: 'Net', num: true, cell: (t) => money(t.netCents, t.currency) },
        ],
        answer.body.data,
        { id: 'tx-table', empty: 'No transactions match.' },
      ),
      el('div', { class: 'actions' }, prevButton, nextButton),
    );
  };
  await load();
}

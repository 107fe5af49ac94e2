import type { StoredLine } from '../../../lib/db/models/reconciliation-runs.js';
import { adminApi, errorWords } from '../client.js';
import type { PageContext } from '../main.js';
import {
  el,
  field,
  formValues,
  input,
  link,
  message,
  money,
  queryOf,
  select,
  setMessage,
  table,
  unavailable,
  when,
} from '../ui.js';

/**
 * Reconciliation (finance:read): GET /api/reconciliation?date=&provider= — one UTC day's stored report,
 * per provider: the mismatches first (each linked to its order), then the totals, class counts,
 * payouts (each saying whether the provider lists what it paid out: a PayPal withdrawal does not, and is
 * compared with the day's net) and the account fees to book by hand. On a deployment without the endpoint (a 404 no function answered) the page says so.
 */

/** A line of the report (a mismatch or an account fee): the stored line as the model reads it. */
type Mismatch = StoredLine;

interface ProviderReport {
  provider: string;
  completedAt: string;
  summary: {
    currency: string | null;
    totals: {
      provider: { grossCents: number; refundsCents: number; feesCents: number; netCents: number; records: number };
      books: { grossCents: number; refundsCents: number; feesCents: number | null; netCents: number; records: number };
    };
    counts: Record<string, number>;
    mismatches: number;
    payouts: {
      id: string;
      amountCents: number;
      currency: string;
      status: string;
      allMatched: boolean;
      arrivalDate: string | null;
      transactionsListed: boolean;
      matchesDayNet: boolean | null;
      explanation: string;
    }[];
  };
  mismatches: Mismatch[];
  mismatchesTruncated: boolean;
  /** Provider fees of the account (no order): not mismatches, booked by hand. */
  accountFees?: Mismatch[];
}

function yesterday(): string {
  return new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
}

export async function renderReconciliation(view: HTMLElement, ctx: PageContext): Promise<void> {
  const date = ctx.query.get('date') ?? yesterday();
  const provider = ctx.query.get('provider') ?? '';
  const form = el(
    'form',
    { class: 'filters', 'aria-label': 'Reconciliation day' },
    field('Day (UTC)', input('date', date, 'date'), 'rc-date'),
    field(
      'Provider',
      select(
        'provider',
        [
          ['', 'both'],
          ['stripe', 'stripe'],
          ['paypal', 'paypal'],
        ],
        provider,
      ),
      'rc-provider',
    ),
    el('button', { type: 'submit', id: 'rc-apply' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = formValues(form);
    ctx.go(`#/reconciliation${queryOf({ date: v.date, provider: v.provider })}`);
  });
  const note = message('', 'ok', 'rc-note');
  const body = el('div', { id: 'reconciliation' });
  view.append(el('h1', {}, 'Reconciliation'), form, note, body);

  const answer = await adminApi<{ day: string; providers: ProviderReport[] }>(
    `/api/reconciliation${queryOf({ date, provider })}`,
  );
  if (answer.kind === 'unavailable') {
    body.replaceChildren(unavailable('Reconciliation', 'GET /api/reconciliation'));
    return;
  }
  if (answer.kind === 'error' && answer.error.code === 'NOT_FOUND') {
    // No stored run for that day (yet): the API's words say how to make one.
    body.replaceChildren(el('p', { class: 'hint', id: 'rc-none' }, answer.error.message || `No reconciliation for ${date} yet.`));
    return;
  }
  if (answer.kind !== 'ok') {
    setMessage(note, errorWords(answer, 'Reconciliation'), 'error');
    return;
  }
  if (answer.body.providers.length === 0) {
    body.replaceChildren(el('p', { class: 'hint' }, `No reconciliation has run for ${answer.body.day} yet.`));
    return;
  }
  for (const report of answer.body.providers) {
    const c = report.summary.currency ?? 'USD';
    const t = report.summary.totals;
    body.append(
      el('h2', {}, `${report.provider} — ${answer.body.day} (run ${when(report.completedAt)})`),
      table(
        `Mismatches (${report.summary.mismatches}${report.mismatchesTruncated ? ', first ones shown' : ''})`,
        [
          { label: 'Class', cell: (m) => m.class.replaceAll('_', ' ') },
          { label: 'Kind', cell: (m) => m.kind },
          { label: 'Order', cell: (m) => (m.orderId ? link(`#/orders/${m.orderId}`, m.orderNumber ?? m.orderId) : '—') },
          { label: 'Provider amount', num: true, cell: (m) => money(m.providerAmountCents, m.currency ?? c) },
          { label: 'Our amount', num: true, cell: (m) => money(m.booksAmountCents, m.currency ?? c) },
          { label: 'Provider fee', num: true, cell: (m) => money(m.providerFeeCents, m.currency ?? c) },
          { label: 'Our fee', num: true, cell: (m) => money(m.booksFeeCents, m.currency ?? c) },
          { label: 'What to do', cell: (m) => m.explanation },
        ],
        report.mismatches,
        { id: `rc-mismatches-${report.provider}`, rowClass: () => 'mismatch', empty: 'No mismatches: every record matched.' },
      ),
      table(
        'Totals',
        [
          { label: 'Books', cell: (r) => r.label },
          { label: 'Gross', num: true, cell: (r) => money(r.grossCents, c) },
          { label: 'Refunds', num: true, cell: (r) => money(r.refundsCents, c) },
          { label: 'Fees', num: true, cell: (r) => money(r.feesCents, c) },
          { label: 'Net', num: true, cell: (r) => money(r.netCents, c) },
          { label: 'Records', num: true, cell: (r) => String(r.records) },
        ],
        [
          { label: 'Provider', ...t.provider },
          { label: 'Ours', ...t.books },
        ],
      ),
      el(
        'p',
        {},
        `Counts: ${Object.entries(report.summary.counts)
          .map(([k, n]) => `${k.replaceAll('_', ' ')} ${n}`)
          .join(', ')}.`,
      ),
      table(
        'Payouts',
        [
          { label: 'Payout', cell: (p) => el('code', {}, p.id) },
          { label: 'Amount', num: true, cell: (p) => money(p.amountCents, p.currency) },
          { label: 'Status', cell: (p) => p.status },
          { label: 'Arrives', cell: (p) => p.arrivalDate ?? '—' },
          { label: 'All matched', cell: (p) => (p.allMatched ? 'yes' : 'no') },
          {
            label: 'Transactions',
            cell: (p) =>
              p.transactionsListed
                ? 'listed by the provider'
                : `not listed by the provider: ${p.matchesDayNet ? "matches the day's net" : "differs from the day's net"}`,
          },
          { label: 'What it is', cell: (p) => p.explanation },
        ],
        report.summary.payouts,
        { id: `rc-payouts-${report.provider}`, empty: 'No payouts that day.' },
      ),
      table(
        'Account fees (not an order: book by hand)',
        [
          { label: 'Record', cell: (m) => el('code', {}, m.providerRecordId ?? m.reference ?? '—') },
          { label: 'Amount', num: true, cell: (m) => money(m.providerAmountCents, m.currency ?? c) },
          { label: 'What to do', cell: (m) => m.explanation },
        ],
        report.accountFees ?? [],
        { id: `rc-account-fees-${report.provider}`, empty: 'No account fees that day.' },
      ),
    );
  }
}

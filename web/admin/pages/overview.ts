import uPlot from 'uplot';
import type { AnalyticsSummary } from '../../../lib/analytics/get-analytics-summary.js';
import { adminApi, errorWords } from '../client.js';
import type { PageContext } from '../main.js';
import {
  el,
  field,
  formatMoney,
  formValues,
  input,
  message,
  money,
  percent,
  queryOf,
  select,
  setMessage,
  table,
  unavailable,
} from '../ui.js';

/**
 * Overview (analytics:read): GET /api/analytics/summary and GET /api/analytics/revenue for one event
 * and range: gross, net, fees, refunds, tickets sold against capacity, the sliding scale by bucket,
 * conversion and failure rate, and a revenue chart (uPlot, bundled). Money in the event's currency,
 * plotted in minor units (integers) and labelled through formatMoney. On a deployment without the
 * analytics endpoints (a 404 no function answered) the page says so.
 */

/** The fields of the summary this page shows. */
type Summary = Pick<
  AnalyticsSummary,
  'event' | 'currency' | 'range' | 'money' | 'slidingScale' | 'orders' | 'failures' | 'capacity'
>;

interface Series {
  currency: string;
  groupBy: string;
  points: { start: string; local: string; grossCents: number; netCents: number; refundsCents: number }[];
}

function eventSlug(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="bf-event"]')?.content ?? '';
}

export async function renderOverview(view: HTMLElement, ctx: PageContext): Promise<void> {
  const params = {
    event: ctx.query.get('event') ?? eventSlug(),
    from: ctx.query.get('from') ?? '',
    to: ctx.query.get('to') ?? '',
    groupBy: ctx.query.get('groupBy') ?? 'day',
  };
  const form = el(
    'form',
    { class: 'filters', 'aria-label': 'Overview range' },
    field('Event', input('event', params.event, 'text', { autocomplete: 'off' }), 'ov-event'),
    field('From', input('from', params.from, 'date'), 'ov-from'),
    field('To (inclusive)', input('to', params.to, 'date'), 'ov-to'),
    field(
      'Chart by',
      select(
        'groupBy',
        [
          ['hour', 'hour'],
          ['day', 'day'],
          ['week', 'week'],
          ['month', 'month'],
        ],
        params.groupBy,
      ),
      'ov-group',
    ),
    el('button', { type: 'submit', id: 'ov-apply' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = formValues(form);
    ctx.go(`#/overview${queryOf({ event: v.event, from: v.from, to: v.to, groupBy: v.groupBy })}`);
  });
  const note = message('', 'ok', 'ov-note');
  const body = el('div', { id: 'overview' });
  view.append(el('h1', {}, 'Overview'), form, note, body);

  const range = { event: params.event, from: params.from, to: params.to };
  const [summary, series] = await Promise.all([
    adminApi<Summary>(`/api/analytics/summary${queryOf(range)}`),
    adminApi<Series>(`/api/analytics/revenue${queryOf({ ...range, groupBy: params.groupBy })}`),
  ]);
  if (summary.kind === 'unavailable') {
    body.replaceChildren(unavailable('The overview', 'GET /api/analytics/summary'));
    return;
  }
  if (summary.kind !== 'ok') {
    setMessage(note, errorWords(summary, 'The overview'), 'error');
    return;
  }
  const s = summary.body;
  const c = s.currency;
  const fig = (key: string, label: string, value: string, cents?: number) =>
    el(
      'div',
      {},
      el('dt', {}, label),
      el('dd', { 'data-figure': key, ...(cents === undefined ? {} : { 'data-cents': String(cents) }) }, value),
    );
  const soldTotal = s.capacity.reduce((n, t) => n + t.sold, 0);
  const capacityTotal = s.capacity.reduce((n, t) => n + t.capacity, 0);
  body.replaceChildren(
    el(
      'p',
      {},
      `${s.event.name} · ${params.from || params.to ? `${s.range.from.slice(0, 10)} to ${s.range.to.slice(0, 10)}` : 'all sales to date'} · ${s.event.timeZone} · ${c}`,
    ),
    el(
      'dl',
      { class: 'figures' },
      fig('gross', 'Gross', money(s.money.grossCents, c), s.money.grossCents),
      fig('net', 'Net received', money(s.money.netCents, c), s.money.netCents),
      fig('fees', 'Provider fees', money(s.money.feesCents, c), s.money.feesCents),
      fig('refunds', `Refunds (${s.money.refunds})`, money(s.money.refundsCents, c), s.money.refundsCents),
      fig('discount', 'Sliding-scale discount', money(s.slidingScale.discountCents, c), s.slidingScale.discountCents),
      fig('tickets', 'Tickets sold / capacity', `${soldTotal} / ${capacityTotal}`),
      fig('conversion', `Conversion (${s.orders.paid} of ${s.orders.started})`, percent(s.orders.conversionRate)),
      fig('failure-rate', `Failure rate (${s.failures.failures} failed)`, percent(s.failures.failureRate)),
    ),
    el('h2', {}, 'Revenue'),
    chartOrMessage(series, c),
    el(
      'div',
      { class: 'grid-2' },
      table(
        'Tickets sold against capacity',
        [
          { label: 'Type', cell: (t) => t.name },
          { label: 'Sold', num: true, cell: (t) => String(t.sold) },
          { label: 'Held', num: true, cell: (t) => String(t.held) },
          { label: 'Capacity', num: true, cell: (t) => String(t.capacity) },
          { label: 'Left', num: true, cell: (t) => String(t.available) },
        ],
        s.capacity,
        { id: 'ov-capacity' },
      ),
      table(
        'Sliding scale by bucket',
        [
          { label: 'Bucket', cell: (b) => b.bucket },
          { label: 'Orders', num: true, cell: (b) => String(b.orders) },
          { label: 'Tickets', num: true, cell: (b) => String(b.tickets) },
          { label: 'Revenue', num: true, cell: (b) => money(b.revenueCents, c) },
          { label: 'Average paid', num: true, cell: (b) => money(b.averagePaidCents, c) },
          { label: 'Discount given', num: true, cell: (b) => money(b.discountCents, c) },
        ],
        s.slidingScale.buckets,
        { id: 'ov-buckets' },
      ),
    ),
    table(
      'Top decline codes',
      [
        { label: 'Code', cell: (d) => d.code },
        { label: 'Failures', num: true, cell: (d) => String(d.count) },
      ],
      s.failures.topDeclineCodes,
      { id: 'ov-declines', empty: 'No payment failures in this range.' },
    ),
  );
}

function chartOrMessage(series: Awaited<ReturnType<typeof adminApi<Series>>>, currency: string): HTMLElement {
  if (series.kind === 'unavailable') return unavailable('The revenue chart', 'GET /api/analytics/revenue');
  if (series.kind !== 'ok') return message(errorWords(series, 'The revenue chart'), 'error');
  const points = series.body.points;
  const wrap = el('figure', { class: 'chart', id: 'ov-chart' });
  const caption = el(
    'figcaption',
    { class: 'hint' },
    `Gross and net revenue per ${series.body.groupBy}, ${currency}${points[0] ? `, from ${points[0].local.slice(0, 10)}` : ''}.`,
  );
  const holder = el('div', { role: 'img', 'aria-label': `Revenue chart: ${points.length} ${series.body.groupBy} buckets` });
  wrap.append(holder, caption);
  const xs = points.map((p) => Math.floor(new Date(p.start).getTime() / 1000));
  const label = (cents: number | null) => (cents === null ? '—' : formatMoney(Math.round(cents), currency));
  const width = Math.max(320, Math.min(1200, (document.getElementById('view')?.clientWidth ?? 900) - 16));
  // Rendered after the element is in the document (uPlot measures its axes there).
  requestAnimationFrame(() => {
    new uPlot(
      {
        width,
        height: 280,
        series: [
          {},
          { label: 'Gross', stroke: '#8a1538', width: 2, value: (_u, v) => label(v) },
          { label: 'Net', stroke: '#1e6b34', width: 2, value: (_u, v) => label(v) },
        ],
        axes: [{}, { size: 90, values: (_u, splits) => splits.map((v) => label(v)) }],
      },
      [xs, points.map((p) => p.grossCents), points.map((p) => p.netCents)],
      holder,
    );
  });
  return wrap;
}

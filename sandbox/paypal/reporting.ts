/**
 * PayPal sandbox: Transaction Search, GET /v1/reporting/transactions (what reconciliation reads),
 * never deployed. Shaped from PayPal's Transaction Search spec (reporting_transactions_v1.json; the fields
 * we may fill are in sandbox/fixtures/paypal-reporting.json): start_date and end_date (RFC 3339, seconds
 * required, at most 31 days apart), fields (`all` adds payer_info and cart_info), page_size (1–500),
 * page (1-based), transaction_id, transaction_type (event code), transaction_status.
 *
 * Event codes: T0006 a checkout capture (amount positive, fee negative), T1107 a refund (amount
 * negative, the fee PayPal keeps: 0 here), T0400 a withdrawal to the bank (a payout), T0100 a fee of
 * the account not tied to a sale (amount negative). A query that
 * would return more than 10,000 items is refused with RESULTSET_TOO_LARGE, as PayPal does, so the
 * caller has to narrow the time range.
 *
 * Fed by the sandbox (one transaction per capture and per refund) and by test controls: a generated
 * day, a capture our books never saw, a refund made in PayPal's dashboard, an amount or fee changed,
 * a record removed, a withdrawal.
 */
import { paypalReportingReference } from '../fixtures/index.js';
import { type JsonObject, type JsonValue, minorToDecimal, randomString, UPPER_ALPHANUMERIC } from '../http-kit.js';

export type PayPalEventCode = 'T0006' | 'T1107' | 'T0400' | 'T0100';

export interface PayPalTransactionRecord {
  id: string;
  seq: number;
  /** Milliseconds since the epoch. */
  at: number;
  eventCode: PayPalEventCode;
  /** Signed: captures positive, refunds and withdrawals negative. */
  amountMinor: number;
  /** What PayPal keeps, as a positive number (rendered negative). */
  feeMinor: number;
  currency: string;
  status: 'S' | 'P' | 'D' | 'V';
  /** A refund's capture id. */
  referenceId: string | null;
  invoiceId: string | null;
  customField: string | null;
  payerEmail: string | null;
}

export interface GeneratedCapture {
  captureId: string;
  amountMinor: number;
  feeMinor: number;
  currency: string;
  at: number;
  customId: string | null;
}

export interface GeneratedPayPalRefund {
  refundId: string;
  captureId: string;
  amountMinor: number;
  currency: string;
  at: number;
}

const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const MAX_RANGE_MS = 31 * 86_400_000;

/** A PayPal-like fee: 3.49 % (half up) + 49, in integer arithmetic (the same rule as the sandbox's captures). */
export function paypalFee(amountMinor: number): number {
  return Math.floor((amountMinor * 349 + 5000) / 10000) + 49;
}

export class PayPalReportingError extends Error {
  constructor(
    readonly status: number,
    readonly issue: string,
    readonly description: string,
    readonly field?: string,
  ) {
    super(description);
  }
}

export class PayPalReportingStore {
  /** Sorted by (at, seq). */
  private readonly transactions: PayPalTransactionRecord[] = [];
  private readonly byId = new Map<string, PayPalTransactionRecord>();
  private readonly reference = paypalReportingReference();
  private seq = 0;

  constructor(
    private readonly options: {
      now: () => number;
      accountNumber?: string;
      /** Largest result a query may have (default PayPal's 10,000; tests lower it). */
      maxResultItems?: number;
    },
  ) {}

  reset(): void {
    this.transactions.length = 0;
    this.byId.clear();
  }

  get size(): number {
    return this.transactions.length;
  }

  add(input: Omit<PayPalTransactionRecord, 'seq' | 'id'> & { id?: string }): PayPalTransactionRecord {
    const record: PayPalTransactionRecord = { ...input, id: input.id ?? randomString(17, UPPER_ALPHANUMERIC), seq: ++this.seq };
    let index = this.transactions.length;
    while (index > 0) {
      const previous = this.transactions[index - 1] as PayPalTransactionRecord;
      if (previous.at < record.at || (previous.at === record.at && previous.seq < record.seq)) break;
      index -= 1;
    }
    this.transactions.splice(index, 0, record);
    this.byId.set(record.id, record);
    return record;
  }

  /** A completed capture (the sandbox's own captures and generated ones). */
  recordCapture(input: {
    captureId: string;
    amountMinor: number;
    feeMinor: number;
    currency: string;
    at: number;
    invoiceId?: string | null;
    customId?: string | null;
    payerEmail?: string | null;
  }): PayPalTransactionRecord {
    return this.add({
      id: input.captureId,
      at: input.at,
      eventCode: 'T0006',
      amountMinor: input.amountMinor,
      feeMinor: input.feeMinor,
      currency: input.currency.toUpperCase(),
      status: 'S',
      referenceId: null,
      invoiceId: input.invoiceId ?? null,
      customField: input.customId ?? null,
      payerEmail: input.payerEmail ?? null,
    });
  }

  recordRefund(input: {
    refundId: string;
    captureId: string;
    amountMinor: number;
    currency: string;
    at: number;
    invoiceId?: string | null;
    customId?: string | null;
  }): PayPalTransactionRecord {
    return this.add({
      id: input.refundId,
      at: input.at,
      eventCode: 'T1107',
      amountMinor: -Math.abs(input.amountMinor),
      feeMinor: 0,
      currency: input.currency.toUpperCase(),
      status: 'S',
      referenceId: input.captureId,
      invoiceId: input.invoiceId ?? null,
      customField: input.customId ?? null,
      payerEmail: null,
    });
  }

  find(id: string): PayPalTransactionRecord | undefined {
    return this.byId.get(id);
  }

  // ----- test controls -----

  /** A capture our books never saw. */
  injectCapture(input: { amountMinor: number; currency?: string; at?: number; customId?: string | null }): GeneratedCapture {
    const captureId = randomString(17, UPPER_ALPHANUMERIC);
    const at = input.at ?? this.options.now();
    const currency = (input.currency ?? 'USD').toUpperCase();
    const feeMinor = paypalFee(input.amountMinor);
    this.recordCapture({ captureId, amountMinor: input.amountMinor, feeMinor, currency, at, customId: input.customId ?? null });
    return { captureId, amountMinor: input.amountMinor, feeMinor, currency, at, customId: input.customId ?? null };
  }

  /** A refund made in PayPal's dashboard (no API call of ours, no webhook). */
  injectRefund(input: { captureId: string; amountMinor: number; currency?: string; at?: number }): GeneratedPayPalRefund {
    const refundId = randomString(17, UPPER_ALPHANUMERIC);
    const at = input.at ?? this.options.now();
    const currency = (input.currency ?? this.byId.get(input.captureId)?.currency ?? 'USD').toUpperCase();
    const capture = this.byId.get(input.captureId);
    this.recordRefund({
      refundId,
      captureId: input.captureId,
      amountMinor: input.amountMinor,
      currency,
      at,
      customId: capture?.customField,
    });
    return { refundId, captureId: input.captureId, amountMinor: input.amountMinor, currency, at };
  }

  changeAmount(id: string, amountMinor: number): PayPalTransactionRecord {
    const record = this.mustFind(id);
    record.amountMinor = amountMinor;
    return record;
  }

  changeFee(id: string, feeMinor: number): PayPalTransactionRecord {
    const record = this.mustFind(id);
    record.feeMinor = feeMinor;
    return record;
  }

  remove(id: string): PayPalTransactionRecord {
    const record = this.mustFind(id);
    this.transactions.splice(this.transactions.indexOf(record), 1);
    this.byId.delete(id);
    return record;
  }

  /**
   * A withdrawal to the bank (a payout), as transaction T0400: of the net balance so far (default), or of
   * `amountMinor` (a withdrawal made by hand). Like PayPal's, it does not say which transactions it pays out.
   */
  withdraw(input: { at?: number; currency?: string; amountMinor?: number } = {}): PayPalTransactionRecord {
    const at = input.at ?? this.options.now();
    const currency = (input.currency ?? 'USD').toUpperCase();
    let balance = 0;
    for (const record of this.transactions) {
      if (record.at >= at) break;
      if (record.currency === currency) balance += record.amountMinor - record.feeMinor;
    }
    return this.add({
      at,
      eventCode: 'T0400',
      amountMinor: -(input.amountMinor ?? balance),
      feeMinor: 0,
      currency,
      status: 'S',
      referenceId: null,
      invoiceId: null,
      customField: null,
      payerEmail: null,
    });
  }

  /** A fee PayPal charges the account, tied to no sale (T0100 "General non-payment fee"; amount negative). */
  injectAccountFee(input: { amountMinor: number; currency?: string; at?: number }): PayPalTransactionRecord {
    return this.add({
      at: input.at ?? this.options.now(),
      eventCode: 'T0100',
      amountMinor: -Math.abs(input.amountMinor),
      feeMinor: 0,
      currency: (input.currency ?? 'USD').toUpperCase(),
      status: 'S',
      referenceId: null,
      invoiceId: null,
      customField: null,
      payerEmail: null,
    });
  }

  /** A generated day of captures spread over the UTC day, and a full refund of every `refundEvery`-th one. */
  generateDay(input: {
    day: string;
    captures: number;
    refundEvery?: number;
    currency?: string;
    amountFor?: (index: number) => number;
    customIdFor?: (index: number) => string | null;
  }): { captures: GeneratedCapture[]; refunds: GeneratedPayPalRefund[] } {
    const start = Date.parse(`${input.day}T00:00:00Z`);
    if (Number.isNaN(start)) throw new TypeError(`not a day: ${input.day}`);
    const step = 86_000_000 / Math.max(1, input.captures);
    const captures: GeneratedCapture[] = [];
    const refunds: GeneratedPayPalRefund[] = [];
    for (let i = 0; i < input.captures; i++) {
      captures.push(
        this.injectCapture({
          amountMinor: input.amountFor?.(i) ?? 1_000 + ((i * 7919) % 25_000),
          currency: input.currency ?? 'USD',
          at: start + Math.floor(i * step),
          customId: input.customIdFor?.(i) ?? null,
        }),
      );
    }
    if (input.refundEvery && input.refundEvery > 0) {
      for (let i = 0; i < captures.length; i += input.refundEvery) {
        const capture = captures[i] as GeneratedCapture;
        refunds.push(
          this.injectRefund({
            captureId: capture.captureId,
            amountMinor: capture.amountMinor,
            currency: capture.currency,
            at: Math.min(start + 86_399_000, capture.at + 300_000),
          }),
        );
      }
    }
    return { captures, refunds };
  }

  private mustFind(id: string): PayPalTransactionRecord {
    const record = this.byId.get(id);
    if (!record) throw new Error(`paypal sandbox: no transaction ${id}`);
    return record;
  }

  // ----- HTTP -----

  /** GET /v1/reporting/transactions; undefined for other requests. Throws PayPalReportingError for bad queries. */
  handle(request: { method: string; path: string; query: Record<string, string> }, baseUrl: string): JsonObject | undefined {
    if (request.method !== 'GET' || request.path !== '/v1/reporting/transactions') return undefined;
    const q = request.query;
    const start = this.date(q.start_date, 'start_date');
    const end = this.date(q.end_date, 'end_date');
    if (end < start) throw new PayPalReportingError(400, 'INVALID_REQUEST', 'end_date must be after start_date.', 'end_date');
    if (end - start > MAX_RANGE_MS) {
      throw new PayPalReportingError(400, 'INVALID_REQUEST', 'The maximum supported range is 31 days.', 'end_date');
    }
    const pageSize = this.positive(q.page_size, 'page_size', this.reference.page_size.default, this.reference.page_size.maximum);
    const page = this.positive(q.page, 'page', 1, 2_147_483_647);
    const fields = (q.fields ?? 'transaction_info').split(',').map((f) => f.trim());
    const all = fields.includes('all');

    const matches = (r: PayPalTransactionRecord) =>
      r.at >= start &&
      r.at <= end &&
      (q.transaction_id === undefined || r.id === q.transaction_id) &&
      (q.transaction_type === undefined || r.eventCode === q.transaction_type) &&
      (q.transaction_status === undefined || r.status === q.transaction_status);
    const first = this.lowerIndex(start);
    let total = 0;
    const selected: PayPalTransactionRecord[] = [];
    const skip = (page - 1) * pageSize;
    for (let i = first; i < this.transactions.length; i++) {
      const r = this.transactions[i] as PayPalTransactionRecord;
      if (r.at > end) break;
      if (!matches(r)) continue;
      if (total >= skip && selected.length < pageSize) selected.push(r);
      total += 1;
    }
    if (total > (this.options.maxResultItems ?? this.reference.max_result_items)) {
      throw new PayPalReportingError(
        400,
        'RESULTSET_TOO_LARGE',
        'Result set size is greater than the maximum limit. Change the filter criteria and try again.',
      );
    }
    const totalPages = Math.ceil(total / pageSize);
    const self = `${baseUrl}/v1/reporting/transactions?${new URLSearchParams(q).toString()}`;
    const links: JsonValue[] = [{ href: self, rel: 'self', method: 'GET' }];
    if (page < totalPages) {
      const next = new URLSearchParams({ ...q, page: String(page + 1) });
      links.push({ href: `${baseUrl}/v1/reporting/transactions?${next.toString()}`, rel: 'next', method: 'GET' });
    }
    return {
      transaction_details: selected.map((r) => this.render(r, all)),
      account_number: this.options.accountNumber ?? 'SBXMERCHANT7Q',
      start_date: new Date(start).toISOString().replace(/\.\d{3}Z$/, '+0000'),
      end_date: new Date(end).toISOString().replace(/\.\d{3}Z$/, '+0000'),
      last_refreshed_datetime: new Date(this.options.now()).toISOString().replace(/\.\d{3}Z$/, '+0000'),
      page,
      total_items: total,
      total_pages: totalPages,
      links,
    };
  }

  private render(r: PayPalTransactionRecord, all: boolean): JsonObject {
    const money = (minor: number) => ({
      currency_code: r.currency,
      value: (minor < 0 ? '-' : '') + minorToDecimal(Math.abs(minor), ZERO_DECIMAL.has(r.currency) ? 0 : 2),
    });
    const time = new Date(r.at).toISOString().replace(/\.\d{3}Z$/, '+0000');
    const info: JsonObject = {
      paypal_account_id: 'SBXBUYER9Q7W2',
      transaction_id: r.id,
      transaction_event_code: r.eventCode,
      transaction_initiation_date: time,
      transaction_updated_date: time,
      transaction_amount: money(r.amountMinor),
      transaction_status: r.status,
      protection_eligibility: r.eventCode === 'T0006' ? '01' : '02',
    };
    if (r.feeMinor !== 0) info.fee_amount = money(-r.feeMinor);
    if (r.referenceId) {
      info.paypal_reference_id = r.referenceId;
      info.paypal_reference_id_type = 'TXN';
    }
    if (r.invoiceId) info.invoice_id = r.invoiceId;
    if (r.customField) info.custom_field = r.customField;
    // Keep to the fields the spec names.
    for (const key of Object.keys(info)) {
      if (!this.reference.transaction_info_fields.includes(key)) delete info[key];
    }
    const detail: JsonObject = { transaction_info: info };
    if (all) {
      detail.payer_info = r.payerEmail ? { email_address: r.payerEmail, account_id: 'SBXBUYER9Q7W2' } : {};
      detail.cart_info = {};
      detail.store_info = {};
      detail.auction_info = {};
      detail.incentive_info = {};
    }
    return detail;
  }

  private date(value: string | undefined, field: string): number {
    if (value === undefined) throw new PayPalReportingError(400, 'INVALID_REQUEST', `${field} is required.`, field);
    if (!RFC3339.test(value)) {
      throw new PayPalReportingError(400, 'INVALID_REQUEST', `${field} is not an RFC 3339 date-time with seconds.`, field);
    }
    return Date.parse(value);
  }

  private positive(value: string | undefined, field: string, fallback: number, max: number): number {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
      throw new PayPalReportingError(400, 'INVALID_REQUEST', `${field} must be an integer between 1 and ${max}.`, field);
    }
    return Number(value);
  }

  private lowerIndex(at: number): number {
    let lo = 0;
    let hi = this.transactions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.transactions[mid] as PayPalTransactionRecord).at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

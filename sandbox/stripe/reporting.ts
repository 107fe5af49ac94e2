/**
 * Stripe sandbox: balance transactions and payouts (what reconciliation reads), never deployed.
 *
 *   GET /v1/balance_transactions        created[gt|gte|lt|lte] (or created=<ts>), limit (1–100),
 *                                       starting_after / ending_before, type, source, payout, currency,
 *                                       expand[]=data.source; newest first, like Stripe
 *   GET /v1/balance_transactions/:id    expand[]=source
 *   GET /v1/payouts                     created filters, limit, starting_after, status
 *   GET /v1/payouts/:id
 *
 * Objects are built from Stripe's example `balance_transaction` and `payout` (sandbox/fixtures, from
 * fixtures3.json). The store is fed by the sandbox (one
 * balance transaction per succeeded charge and per refund) and by test controls: a whole generated
 * day, a charge our books never saw, a refund made "in the dashboard", an amount or fee changed, a
 * record removed, a dispute's withdrawal or reinstatement (an adjustment whose source is the dispute), an
 * account fee (stripe_fee), a payout. Sources the sandbox does not know (generated, injected) are kept here as
 * charge/refund objects built from the sandbox's own charge/refund fixtures, so `expand` works for them.
 */
import { stripeObject } from '../fixtures/index.js';
import {
  cloneJson,
  type JsonObject,
  type JsonValue,
  parseForm,
  type FormObject,
  type FormValue,
  randomString,
  type RecordedRequest,
} from '../http-kit.js';

export type BalanceTransactionType = 'charge' | 'refund' | 'adjustment' | 'stripe_fee' | 'payout';

export interface BalanceTransactionRecord {
  id: string;
  seq: number;
  created: number;
  type: BalanceTransactionType;
  amount: number;
  currency: string;
  fee: number;
  /** ch_… / re_… / po_… / null (stripe_fee). */
  sourceId: string | null;
  description: string | null;
  payoutId: string | null;
  /** Stripe's reporting_category when it is not the type's usual one (a dispute: `dispute`, `dispute_reversal`). */
  reportingCategory?: string | undefined;
  /** What fee_details says the fee is (default "Stripe processing fees"; a dispute: "Dispute fee"). */
  feeDescription?: string | undefined;
}

export interface GeneratedDispute {
  disputeId: string;
  chargeId: string;
  paymentIntentId: string | null;
  balanceTransactionId: string;
  /** Signed, as the balance transaction says: negative withdrawn, positive given back. */
  amount: number;
  fee: number;
  currency: string;
  created: number;
}

export interface PayoutRecord {
  id: string;
  created: number;
  arrivalDate: number;
  amount: number;
  currency: string;
  balanceTransactionId: string;
  status: 'paid' | 'in_transit';
}

export interface GeneratedCharge {
  paymentIntentId: string;
  chargeId: string;
  balanceTransactionId: string;
  amount: number;
  currency: string;
  fee: number;
  created: number;
  orderId: string | null;
}

export interface GeneratedRefund {
  refundId: string;
  paymentIntentId: string;
  chargeId: string;
  balanceTransactionId: string;
  amount: number;
  currency: string;
  created: number;
}

/** A Stripe-like card fee: 2.9 % (half up) + 30, in integer arithmetic. */
export function stripeFee(amount: number): number {
  return Math.floor((amount * 29 + 500) / 1000) + 30;
}

export class StripeApiErrorLike extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param?: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface Templates {
  dispute: JsonObject;
  balanceTransaction: JsonObject;
  payout: JsonObject;
  charge: JsonObject;
  refund: JsonObject;
}

function loadTemplates(): Templates {
  return {
    dispute: stripeObject('dispute') as JsonObject,
    balanceTransaction: stripeObject('balance_transaction') as JsonObject,
    payout: stripeObject('payout') as JsonObject,
    charge: stripeObject('charge') as JsonObject,
    refund: stripeObject('refund') as JsonObject,
  };
}

/** Unix seconds of 00:00 UTC of a `YYYY-MM-DD` day. */
export function dayStartSeconds(day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(ms)) throw new TypeError(`not a day: ${day}`);
  return ms / 1000;
}

const compare = (a: { created: number; seq: number }, b: { created: number; seq: number }) =>
  a.created - b.created || a.seq - b.seq;

export interface StripeReportingOptions {
  now: () => number;
  /** Renders a charge or refund the sandbox itself holds (for expand); undefined when unknown. */
  renderSource?: (id: string) => JsonObject | undefined;
}

export class StripeReportingStore {
  /** Sorted by (created, seq) ascending. */
  private readonly transactions: BalanceTransactionRecord[] = [];
  private readonly byId = new Map<string, BalanceTransactionRecord>();
  private readonly bySource = new Map<string, BalanceTransactionRecord>();
  private readonly payouts = new Map<string, PayoutRecord>();
  /** Charges and refunds created by generators and injections (the sandbox does not hold them). */
  private readonly syntheticSources = new Map<string, JsonObject>();
  private readonly templates = loadTemplates();
  private seq = 0;

  private renderKnownSource: ((id: string) => JsonObject | undefined) | undefined;

  constructor(private readonly options: StripeReportingOptions) {
    this.renderKnownSource = options.renderSource;
  }

  /** How to render the sandbox's own charges and refunds when a list expands `source`. */
  setSourceRenderer(render: (id: string) => JsonObject | undefined): void {
    this.renderKnownSource = render;
  }

  reset(): void {
    this.transactions.length = 0;
    this.byId.clear();
    this.bySource.clear();
    this.payouts.clear();
    this.syntheticSources.clear();
  }

  get size(): number {
    return this.transactions.length;
  }

  // ----- feeding -----

  add(input: Omit<BalanceTransactionRecord, 'id' | 'seq' | 'payoutId'> & { id?: string }): BalanceTransactionRecord {
    const record: BalanceTransactionRecord = {
      id: input.id ?? `txn_${randomString(24)}`,
      seq: ++this.seq,
      created: input.created,
      type: input.type,
      amount: input.amount,
      currency: input.currency.toLowerCase(),
      fee: input.fee,
      sourceId: input.sourceId,
      description: input.description,
      payoutId: null,
      reportingCategory: input.reportingCategory,
      feeDescription: input.feeDescription,
    };
    // Mostly appended in time order: search from the end.
    let index = this.transactions.length;
    while (index > 0 && compare(this.transactions[index - 1] as BalanceTransactionRecord, record) > 0) index -= 1;
    this.transactions.splice(index, 0, record);
    this.byId.set(record.id, record);
    if (record.sourceId) this.bySource.set(record.sourceId, record);
    return record;
  }

  /** The balance transaction of a succeeded charge (fee: stripeFee). */
  recordCharge(input: { id?: string; chargeId: string; amount: number; currency: string; created: number; fee?: number }) {
    return this.add({
      id: input.id,
      created: input.created,
      type: 'charge',
      amount: input.amount,
      currency: input.currency,
      fee: input.fee ?? stripeFee(input.amount),
      sourceId: input.chargeId,
      description: null,
    });
  }

  /** The balance transaction of a refund (Stripe keeps the original fee: 0 here). */
  recordRefund(input: { id?: string; refundId: string; amount: number; currency: string; created: number }) {
    return this.add({
      id: input.id,
      created: input.created,
      type: 'refund',
      amount: -Math.abs(input.amount),
      currency: input.currency,
      fee: 0,
      sourceId: input.refundId,
      description: 'REFUND FOR CHARGE',
    });
  }

  find(idOrSource: string): BalanceTransactionRecord | undefined {
    return this.byId.get(idOrSource) ?? this.bySource.get(idOrSource);
  }

  // ----- test controls -----

  private syntheticCharge(input: {
    amount: number;
    currency: string;
    created: number;
    orderId: string | null;
    paymentIntentId?: string;
  }): { chargeId: string; paymentIntentId: string } {
    const chargeId = `ch_${randomString(24)}`;
    const paymentIntentId = input.paymentIntentId ?? `pi_${randomString(24)}`;
    const charge = cloneJson(this.templates.charge);
    Object.assign(charge, {
      id: chargeId,
      amount: input.amount,
      amount_captured: input.amount,
      amount_refunded: 0,
      captured: true,
      paid: true,
      refunded: false,
      status: 'succeeded',
      created: input.created,
      currency: input.currency.toLowerCase(),
      payment_intent: paymentIntentId,
      metadata: input.orderId ? { order_id: input.orderId } : {},
      livemode: false,
    });
    this.syntheticSources.set(chargeId, charge);
    return { chargeId, paymentIntentId };
  }

  private syntheticRefund(input: {
    amount: number;
    currency: string;
    created: number;
    chargeId: string;
    paymentIntentId: string | null;
    balanceTransactionId: string;
  }): string {
    const refundId = `re_${randomString(24)}`;
    const refund = cloneJson(this.templates.refund);
    Object.assign(refund, {
      id: refundId,
      amount: input.amount,
      balance_transaction: input.balanceTransactionId,
      charge: input.chargeId,
      created: input.created,
      currency: input.currency.toLowerCase(),
      payment_intent: input.paymentIntentId,
      status: 'succeeded',
    });
    this.syntheticSources.set(refundId, refund);
    return refundId;
  }

  /** A charge our books never saw (money taken at the provider, no paid order here). */
  injectCharge(input: { amount: number; currency?: string; created?: number; orderId?: string | null }): GeneratedCharge {
    const currency = (input.currency ?? 'usd').toLowerCase();
    const created = input.created ?? this.options.now();
    const { chargeId, paymentIntentId } = this.syntheticCharge({
      amount: input.amount,
      currency,
      created,
      orderId: input.orderId ?? null,
    });
    const bt = this.recordCharge({ chargeId, amount: input.amount, currency, created });
    const source = this.syntheticSources.get(chargeId);
    if (source) source.balance_transaction = bt.id;
    return {
      paymentIntentId,
      chargeId,
      balanceTransactionId: bt.id,
      amount: input.amount,
      currency,
      fee: bt.fee,
      created,
      orderId: input.orderId ?? null,
    };
  }

  /**
   * A refund made in the dashboard (no API call of ours, no webhook delivered): a refund balance
   * transaction for `chargeId` (a sandbox charge or a generated one).
   */
  injectRefund(input: {
    chargeId: string;
    paymentIntentId: string | null;
    amount: number;
    currency: string;
    created?: number;
  }): GeneratedRefund {
    const created = input.created ?? this.options.now();
    const balanceTransactionId = `txn_${randomString(24)}`;
    const refundId = this.syntheticRefund({ ...input, created, balanceTransactionId });
    this.recordRefund({ id: balanceTransactionId, refundId, amount: input.amount, currency: input.currency, created });
    return {
      refundId,
      paymentIntentId: input.paymentIntentId ?? '',
      chargeId: input.chargeId,
      balanceTransactionId,
      amount: input.amount,
      currency: input.currency.toLowerCase(),
      created,
    };
  }

  /** Stripe's record says another amount than the one it had (amount and net change). */
  changeAmount(idOrSource: string, amount: number): BalanceTransactionRecord {
    const record = this.mustFind(idOrSource);
    record.amount = amount;
    return record;
  }

  /** Stripe's fee on a record changes (e.g. a fee corrected after the fact). */
  changeFee(idOrSource: string, fee: number): BalanceTransactionRecord {
    const record = this.mustFind(idOrSource);
    record.fee = fee;
    return record;
  }

  /** The record disappears from Stripe's report (a record missing at the provider). */
  remove(idOrSource: string): BalanceTransactionRecord {
    const record = this.mustFind(idOrSource);
    const index = this.transactions.indexOf(record);
    if (index >= 0) this.transactions.splice(index, 1);
    this.byId.delete(record.id);
    if (record.sourceId) this.bySource.delete(record.sourceId);
    return record;
  }

  /**
   * A dispute (chargeback) on a charge, as Stripe books it: an `adjustment` balance transaction whose source is the
   * dispute (from the `dispute` fixture: charge, payment_intent, amount, status). `withdrawn` (default): the disputed
   * amount taken back (negative) with Stripe's dispute fee (default 1500, fee_details "Dispute fee"), reporting
   * category `dispute`. `reinstated`: the dispute was won and the amount comes back (positive, fee 0 by default),
   * category `dispute_reversal`; pass the same `disputeId` as the withdrawal.
   */
  injectDispute(input: {
    chargeId: string;
    paymentIntentId: string | null;
    amount: number;
    currency?: string;
    created?: number;
    fee?: number;
    phase?: 'withdrawn' | 'reinstated';
    disputeId?: string;
  }): GeneratedDispute {
    const phase = input.phase ?? 'withdrawn';
    const currency = (input.currency ?? 'usd').toLowerCase();
    const created = input.created ?? this.options.now();
    const disputeId = input.disputeId ?? `dp_${randomString(24)}`;
    const fee = input.fee ?? (phase === 'withdrawn' ? 1_500 : 0);
    const dispute = cloneJson(this.templates.dispute);
    Object.assign(dispute, {
      id: disputeId,
      object: 'dispute',
      amount: input.amount,
      charge: input.chargeId,
      payment_intent: input.paymentIntentId,
      created,
      currency,
      livemode: false,
      reason: 'fraudulent',
      status: phase === 'withdrawn' ? 'needs_response' : 'won',
      is_charge_refundable: false,
    });
    this.syntheticSources.set(disputeId, dispute);
    const bt = this.add({
      created,
      type: 'adjustment',
      amount: phase === 'withdrawn' ? -Math.abs(input.amount) : Math.abs(input.amount),
      currency,
      fee,
      sourceId: disputeId,
      description: `${phase === 'withdrawn' ? 'Chargeback withdrawal' : 'Chargeback reversal'} for ${input.chargeId}`,
      reportingCategory: phase === 'withdrawn' ? 'dispute' : 'dispute_reversal',
      feeDescription: 'Dispute fee',
    });
    dispute.balance_transactions = [this.renderBalanceTransaction(bt, false)];
    return {
      disputeId,
      chargeId: input.chargeId,
      paymentIntentId: input.paymentIntentId,
      balanceTransactionId: bt.id,
      amount: bt.amount,
      fee,
      currency,
      created,
    };
  }

  /** An account-level Stripe fee (not tied to a sale). */
  injectStripeFee(input: { amount: number; currency?: string; created?: number; description?: string }) {
    return this.add({
      created: input.created ?? this.options.now(),
      type: 'stripe_fee',
      amount: -Math.abs(input.amount),
      currency: input.currency ?? 'usd',
      fee: 0,
      sourceId: null,
      description: input.description ?? 'Radar for Fraud Teams',
    });
  }

  /**
   * Pays out every not yet paid-out transaction created before `created` (default now): one payout
   * of their net total and its own `payout` balance transaction.
   */
  createPayout(input: { created?: number; currency?: string } = {}): PayoutRecord {
    const created = input.created ?? this.options.now();
    const currency = (input.currency ?? 'usd').toLowerCase();
    const id = `po_${randomString(24)}`;
    let total = 0;
    const included: BalanceTransactionRecord[] = [];
    for (const record of this.transactions) {
      if (record.created >= created) break;
      if (record.payoutId || record.type === 'payout' || record.currency !== currency) continue;
      total += record.amount - record.fee;
      included.push(record);
    }
    const bt = this.add({
      created,
      type: 'payout',
      amount: -total,
      currency,
      fee: 0,
      sourceId: id,
      description: 'STRIPE PAYOUT',
    });
    for (const record of included) record.payoutId = id;
    bt.payoutId = id;
    const payout: PayoutRecord = {
      id,
      created,
      arrivalDate: created + 2 * 86_400,
      amount: total,
      currency,
      balanceTransactionId: bt.id,
      status: 'paid',
    };
    this.payouts.set(id, payout);
    return payout;
  }

  /**
   * Generates a day of sales (test control, for volume tests and the benchmark): `charges` charges
   * spread evenly over the UTC day, and a full refund of every `refundEvery`-th charge later that
   * day. Amounts come from `amountFor(i)` (default: 1,000–25,999 cents). Returns what it made, so our
   * side can be given the matching books.
   */
  generateDay(input: {
    day: string;
    charges: number;
    refundEvery?: number;
    currency?: string;
    amountFor?: (index: number) => number;
    orderIdFor?: (index: number) => string | null;
  }): { charges: GeneratedCharge[]; refunds: GeneratedRefund[] } {
    const start = dayStartSeconds(input.day);
    const currency = (input.currency ?? 'usd').toLowerCase();
    const charges: GeneratedCharge[] = [];
    const refunds: GeneratedRefund[] = [];
    const step = 86_000 / Math.max(1, input.charges);
    for (let i = 0; i < input.charges; i++) {
      const amount = input.amountFor?.(i) ?? 1_000 + ((i * 7919) % 25_000);
      const created = start + Math.floor(i * step);
      charges.push(this.injectCharge({ amount, currency, created, orderId: input.orderIdFor?.(i) ?? null }));
    }
    if (input.refundEvery && input.refundEvery > 0) {
      for (let i = 0; i < charges.length; i += input.refundEvery) {
        const charge = charges[i] as GeneratedCharge;
        refunds.push(
          this.injectRefund({
            chargeId: charge.chargeId,
            paymentIntentId: charge.paymentIntentId,
            amount: charge.amount,
            currency,
            created: Math.min(start + 86_399, charge.created + 300),
          }),
        );
      }
    }
    return { charges, refunds };
  }

  private mustFind(idOrSource: string): BalanceTransactionRecord {
    const record = this.find(idOrSource);
    if (!record) throw new Error(`stripe sandbox: no balance transaction for ${idOrSource}`);
    return record;
  }

  // ----- rendering -----

  private renderSource(id: string): JsonValue {
    return this.syntheticSources.get(id) ?? this.renderKnownSource?.(id) ?? id;
  }

  renderBalanceTransaction(record: BalanceTransactionRecord, expandSource: boolean): JsonObject {
    const out = cloneJson(this.templates.balanceTransaction);
    const reportingCategory: Record<BalanceTransactionType, string> = {
      charge: 'charge',
      refund: 'refund',
      adjustment: 'other_adjustment',
      stripe_fee: 'fee',
      payout: 'payout',
    };
    Object.assign(out, {
      id: record.id,
      object: 'balance_transaction',
      amount: record.amount,
      available_on: record.created + 2 * 86_400,
      created: record.created,
      currency: record.currency,
      description: record.description,
      exchange_rate: null,
      fee: record.fee,
      fee_details:
        record.fee === 0
          ? []
          : [
              {
                amount: record.fee,
                application: null,
                currency: record.currency,
                description: record.feeDescription ?? 'Stripe processing fees',
                type: 'stripe_fee',
              },
            ],
      net: record.amount - record.fee,
      reporting_category: record.reportingCategory ?? reportingCategory[record.type],
      source: record.sourceId === null ? null : expandSource ? this.renderSource(record.sourceId) : record.sourceId,
      status: record.created + 2 * 86_400 <= this.options.now() ? 'available' : 'pending',
      type: record.type,
      balance_type: 'payments',
    });
    return out;
  }

  renderPayout(payout: PayoutRecord): JsonObject {
    const out = cloneJson(this.templates.payout);
    Object.assign(out, {
      id: payout.id,
      object: 'payout',
      amount: payout.amount,
      arrival_date: payout.arrivalDate,
      automatic: true,
      balance_transaction: payout.balanceTransactionId,
      created: payout.created,
      currency: payout.currency,
      status: payout.status,
      reconciliation_status: 'completed',
    });
    return out;
  }

  // ----- HTTP -----

  /** Answers the reporting routes; undefined for any other request (the sandbox routes it). */
  handle(request: RecordedRequest): { status: number; body: JsonObject } | undefined {
    if (request.method !== 'GET') return undefined;
    const query = parseForm(request.rawQuery);
    const expand = expandList(query.expand);
    if (request.path === '/v1/balance_transactions') {
      return { status: 200, body: this.listBalanceTransactions(query, expand.includes('data.source')) };
    }
    let m = /^\/v1\/balance_transactions\/([^/]+)$/.exec(request.path);
    if (m) {
      const record = this.byId.get(decodeURIComponent(m[1] ?? ''));
      if (!record) throw noSuch('balance_transaction', m[1] ?? '', 'id');
      return { status: 200, body: this.renderBalanceTransaction(record, expand.includes('source')) };
    }
    if (request.path === '/v1/payouts') return { status: 200, body: this.listPayouts(query) };
    m = /^\/v1\/payouts\/([^/]+)$/.exec(request.path);
    if (m) {
      const payout = this.payouts.get(decodeURIComponent(m[1] ?? ''));
      if (!payout) throw noSuch('payout', m[1] ?? '', 'payout');
      return { status: 200, body: this.renderPayout(payout) };
    }
    return undefined;
  }

  private listBalanceTransactions(query: FormObject, expandSource: boolean): JsonObject {
    const known = new Set([
      'created',
      'limit',
      'starting_after',
      'ending_before',
      'type',
      'source',
      'payout',
      'currency',
      'expand',
    ]);
    for (const key of Object.keys(query)) if (!known.has(key)) throw unknownParameter(key);
    const limit = parseLimit(query.limit);
    const range = parseCreated(query.created);
    const type = stringParam(query.type, 'type');
    const source = stringParam(query.source, 'source');
    const payout = stringParam(query.payout, 'payout');
    const currency = stringParam(query.currency, 'currency')?.toLowerCase();
    const startingAfter = stringParam(query.starting_after, 'starting_after');
    const endingBefore = stringParam(query.ending_before, 'ending_before');
    const matches = (r: BalanceTransactionRecord) =>
      r.created >= range.gte &&
      r.created <= range.lte &&
      (type === undefined || r.type === type) &&
      (source === undefined || r.sourceId === source) &&
      (payout === undefined || r.payoutId === payout) &&
      (currency === undefined || r.currency === currency);

    // Newest first. Walk from the top of the created range down.
    let index = this.upperIndex(range.lte) - 1;
    if (startingAfter !== undefined) {
      const anchor = this.byId.get(startingAfter);
      if (!anchor) throw noSuch('balance_transaction', startingAfter, 'starting_after', 400);
      index = this.indexOf(anchor) - 1;
    }
    const data: JsonObject[] = [];
    let hasMore = false;
    if (endingBefore !== undefined) {
      const anchor = this.byId.get(endingBefore);
      if (!anchor) throw noSuch('balance_transaction', endingBefore, 'ending_before', 400);
      const newer: BalanceTransactionRecord[] = [];
      for (let i = this.indexOf(anchor) + 1; i < this.transactions.length; i++) {
        const r = this.transactions[i] as BalanceTransactionRecord;
        if (r.created > range.lte) break;
        if (matches(r)) newer.push(r);
      }
      const page = newer.slice(0, limit);
      hasMore = newer.length > limit;
      for (const r of page.reverse()) data.push(this.renderBalanceTransaction(r, expandSource));
    } else {
      for (; index >= 0; index--) {
        const r = this.transactions[index] as BalanceTransactionRecord;
        if (r.created < range.gte) break;
        if (!matches(r)) continue;
        if (data.length === limit) {
          hasMore = true;
          break;
        }
        data.push(this.renderBalanceTransaction(r, expandSource));
      }
    }
    return { object: 'list', data, has_more: hasMore, url: '/v1/balance_transactions' };
  }

  private listPayouts(query: FormObject): JsonObject {
    const limit = parseLimit(query.limit);
    const range = parseCreated(query.created);
    const status = stringParam(query.status, 'status');
    const startingAfter = stringParam(query.starting_after, 'starting_after');
    let all = [...this.payouts.values()]
      .filter((p) => p.created >= range.gte && p.created <= range.lte && (status === undefined || p.status === status))
      .sort((a, b) => b.created - a.created);
    if (startingAfter !== undefined) {
      const at = all.findIndex((p) => p.id === startingAfter);
      if (at < 0) throw noSuch('payout', startingAfter, 'starting_after', 400);
      all = all.slice(at + 1);
    }
    return {
      object: 'list',
      data: all.slice(0, limit).map((p) => this.renderPayout(p)),
      has_more: all.length > limit,
      url: '/v1/payouts',
    };
  }

  /** Index of the first transaction created after `lte`. */
  private upperIndex(lte: number): number {
    let lo = 0;
    let hi = this.transactions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.transactions[mid] as BalanceTransactionRecord).created <= lte) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(record: BalanceTransactionRecord): number {
    let lo = 0;
    let hi = this.transactions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.transactions[mid] as BalanceTransactionRecord, record) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function expandList(value: FormValue | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function stringParam(value: FormValue | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new StripeApiErrorLike(400, `Invalid string: ${param}`, param, 'parameter_invalid_string');
  return value;
}

function integer(value: FormValue, param: string): number {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw new StripeApiErrorLike(400, `Invalid integer: ${String(value)}`, param, 'parameter_invalid_integer');
  }
  return Number(value);
}

function parseLimit(value: FormValue | undefined): number {
  const limit = value === undefined ? 10 : integer(value, 'limit');
  if (limit < 1 || limit > 100) {
    throw new StripeApiErrorLike(400, 'This value must be between 1 and 100.', 'limit', 'parameter_invalid_integer');
  }
  return limit;
}

function parseCreated(value: FormValue | undefined): { gte: number; lte: number } {
  const range = { gte: Number.NEGATIVE_INFINITY, lte: Number.POSITIVE_INFINITY };
  if (value === undefined) return range;
  if (typeof value === 'string') {
    const at = integer(value, 'created');
    return { gte: at, lte: at };
  }
  if (Array.isArray(value)) throw new StripeApiErrorLike(400, 'Invalid created filter', 'created', 'parameter_invalid_integer');
  for (const [op, raw] of Object.entries(value)) {
    const at = integer(raw, `created[${op}]`);
    if (op === 'gte') range.gte = Math.max(range.gte, at);
    else if (op === 'gt') range.gte = Math.max(range.gte, at + 1);
    else if (op === 'lte') range.lte = Math.min(range.lte, at);
    else if (op === 'lt') range.lte = Math.min(range.lte, at - 1);
    else throw unknownParameter(`created[${op}]`);
  }
  return range;
}

function unknownParameter(key: string): StripeApiErrorLike {
  return new StripeApiErrorLike(400, `Received unknown parameter: ${key}`, key, 'parameter_unknown');
}

function noSuch(kind: string, id: string, param: string, status = 404): StripeApiErrorLike {
  return new StripeApiErrorLike(status, `No such ${kind}: '${id}'`, param, 'resource_missing');
}

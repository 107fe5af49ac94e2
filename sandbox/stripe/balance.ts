import type { JsonObject } from '../http-kit.js';

/**
 * The Stripe sandbox's balance: one balance transaction per succeeded charge (type `charge`, with
 * Stripe's processing fee) and per succeeded refund (type `refund`, no fee returned), kept in the
 * sandbox's state so that a PaymentIntent retrieved with `expand[]=latest_charge.balance_transaction`
 * shows the fee, `GET /v1/balance_transactions/:id` answers, and reconciliation can list them.
 * Objects are the fixture `balance_transaction` (stripe/fixtures3.json) with our values.
 */

export interface BalanceTransactionRecord {
  id: string;
  /** Unix seconds. */
  created: number;
  /** Minor units, signed (a refund is negative). */
  amount: number;
  currency: string;
  fee: number;
  feeDetails: { amount: number; currency: string; description: string; type: 'stripe_fee' }[];
  net: number;
  /** The charge (ch_...) or refund (re_...) it belongs to. */
  source: string;
  type: 'charge' | 'refund';
  description: string | null;
}

/**
 * Stripe's standard card pricing in the US: 2.9 % + 30 ¢ per successful charge (rounded half up).
 * The sandbox uses it for every currency (the fee's currency is the charge's).
 */
export function stripeProcessingFee(amount: number): number {
  if (amount <= 0) return 0;
  return Math.floor((amount * 29 + 500) / 1000) + 30;
}

export class StripeBalance {
  private readonly records = new Map<string, BalanceTransactionRecord>();

  constructor(
    private readonly template: JsonObject,
    private readonly newId: () => string,
  ) {}

  /** The balance transaction of a succeeded charge; `feeOverride` lets a test inject another fee. */
  recordCharge(input: {
    chargeId: string;
    amount: number;
    currency: string;
    created: number;
    description?: string | null;
    feeOverride?: number;
  }): BalanceTransactionRecord {
    const fee = input.feeOverride ?? stripeProcessingFee(input.amount);
    const record: BalanceTransactionRecord = {
      id: this.newId(),
      created: input.created,
      amount: input.amount,
      currency: input.currency,
      fee,
      feeDetails:
        fee > 0 ? [{ amount: fee, currency: input.currency, description: 'Stripe processing fees', type: 'stripe_fee' }] : [],
      net: input.amount - fee,
      source: input.chargeId,
      type: 'charge',
      description: input.description ?? null,
    };
    this.records.set(record.id, record);
    return record;
  }

  /** The balance transaction of a succeeded refund (Stripe keeps the original fee). */
  recordRefund(input: { refundId: string; amount: number; currency: string; created: number }): BalanceTransactionRecord {
    const record: BalanceTransactionRecord = {
      id: this.newId(),
      created: input.created,
      amount: -input.amount,
      currency: input.currency,
      fee: 0,
      feeDetails: [],
      net: -input.amount,
      source: input.refundId,
      type: 'refund',
      description: 'REFUND FOR CHARGE',
    };
    this.records.set(record.id, record);
    return record;
  }

  get(id: string): BalanceTransactionRecord | undefined {
    return this.records.get(id);
  }

  /** Oldest first. */
  all(): BalanceTransactionRecord[] {
    return [...this.records.values()];
  }

  /** Changes a recorded fee (reconciliation tests inject "fee differs"). */
  setFee(id: string, fee: number): void {
    const record = this.records.get(id);
    if (!record) throw new Error(`no balance transaction ${id}`);
    record.fee = fee;
    record.feeDetails =
      fee > 0 ? [{ amount: fee, currency: record.currency, description: 'Stripe processing fees', type: 'stripe_fee' }] : [];
    record.net = record.amount - fee;
  }

  clear(): void {
    this.records.clear();
  }

  render(record: BalanceTransactionRecord): JsonObject {
    const out = structuredClone(this.template);
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
      fee_details: record.feeDetails.map((d) => ({
        amount: d.amount,
        application: null,
        currency: d.currency,
        description: d.description,
        type: d.type,
      })),
      net: record.net,
      reporting_category: record.type,
      source: record.source,
      status: 'pending',
      type: record.type,
      balance_type: 'payments',
    });
    const { id = null, object = null, ...rest } = out;
    return { id, object, ...rest };
  }
}

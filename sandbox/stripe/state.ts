import { randomString, type SandboxServer } from '../http-kit.js';
import { StripeBalance } from './balance.js';
import { StripeReportingStore } from './reporting.js';
import {
  type ChargeRecord,
  type IdempotencyRecord,
  loadTemplates,
  type PaymentIntentRecord,
  type RefundRecord,
  type SessionRecord,
  type StripeTemplates,
} from './records.js';
import { DEFAULT_STRIPE_EVENT_API_VERSION, type StripeSandboxOptions } from './types.js';

/**
 * Everything one Stripe sandbox holds: its settings, the objects it made (by id), the idempotency keys it saw,
 * the webhook target (changeable at run time) and, once bound, its server. Every part of the sandbox
 * (render, events, payment, page, api) reads and writes this one object.
 */
export interface StripeState {
  readonly templates: StripeTemplates;
  /** The one secret key the API accepts (none: any sk_test_/rk_test_ key). */
  readonly secretKey: string | undefined;
  readonly now: () => Date;
  readonly nowSeconds: () => number;
  readonly webhookTimeoutMs: number;
  readonly apiVersion: string;
  readonly emitRefundEvents: boolean;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  /** Set once the server is bound (the handlers only run after that). */
  publicUrl: string;
  /** The bound server (throws before it is). */
  server: SandboxServer;
  readonly sessions: Map<string, SessionRecord>;
  readonly paymentIntents: Map<string, PaymentIntentRecord>;
  readonly charges: Map<string, ChargeRecord>;
  readonly refunds: Map<string, RefundRecord>;
  readonly refundedByPaymentIntent: Map<string, number>;
  readonly idempotency: Map<string, IdempotencyRecord>;
  /** Balance transactions (one per succeeded charge and per refund) and payouts: what reconciliation reads. */
  readonly reporting: StripeReportingStore;
  /** Balance transactions: one per succeeded charge (with the fee) and per refund. */
  readonly balance: StripeBalance;
}

export function createStripeState(options: StripeSandboxOptions): StripeState {
  const now = options.now ?? (() => new Date());
  let server: SandboxServer | undefined;
  const nowSeconds = (): number => Math.floor(now().getTime() / 1000);
  const templates = loadTemplates();
  return {
    templates,
    secretKey: options.secretKey,
    now,
    nowSeconds,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 10_000,
    apiVersion: options.apiVersion ?? DEFAULT_STRIPE_EVENT_API_VERSION,
    emitRefundEvents: options.emitRefundEvents ?? true,
    webhookUrl: options.webhookUrl,
    webhookSecret: options.webhookSecret,
    publicUrl: '',
    get server(): SandboxServer {
      if (!server) throw new Error('stripe sandbox: server not started yet');
      return server;
    },
    set server(value: SandboxServer) {
      server = value;
    },
    sessions: new Map(),
    paymentIntents: new Map(),
    charges: new Map(),
    refunds: new Map(),
    refundedByPaymentIntent: new Map(),
    idempotency: new Map(),
    reporting: new StripeReportingStore({ now: nowSeconds }),
    balance: new StripeBalance(templates.balanceTransaction, () => `txn_${randomString(24)}`),
  };
}

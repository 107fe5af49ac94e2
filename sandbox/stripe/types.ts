import type { StripeReportingStore } from './reporting.js';
import type { JsonObject, SandboxBasics, WebhookDelivery } from '../http-kit.js';

/** The Stripe sandbox's public types: its options, the payment results, the handle it returns. */

/** API version written into events when none is configured (the version stripe-node 23.1 pins). */
export const DEFAULT_STRIPE_EVENT_API_VERSION = '2026-10-28.endive';

export interface StripeSandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Where to POST webhooks (e.g. http://127.0.0.1:3000/api/webhooks/stripe). Without it deliveries are recorded, not sent. */
  webhookUrl?: string;
  /** Endpoint secret (`whsec_...`) used to sign webhooks. */
  webhookSecret?: string;
  /** Base URL the payment page and links use (default: the bound http://127.0.0.1:PORT). */
  publicUrl?: string;
  /** When set, only this exact secret key is accepted; otherwise any `sk_test_`/`rk_test_` key. */
  secretKey?: string;
  /** `api_version` written into events (default DEFAULT_STRIPE_EVENT_API_VERSION). */
  apiVersion?: string;
  /** Clock (default: real time). Lets tests move past `expires_at`. */
  now?: () => Date;
  /** Webhook request timeout (default 10 s). */
  webhookTimeoutMs?: number;
  /** Send `charge.refunded` and `refund.created` after a refund (default true). */
  emitRefundEvents?: boolean;
}

/** A Stripe API object as JSON (`object` tells which). */
export type StripeObject = JsonObject;

export interface StripeCardInput {
  /** Card number; spaces and dashes are ignored. */
  number: string;
  email?: string;
  name?: string;
}

/** What a payment attempt with a known test card leaves: the objects as rendered after it and the webhook it sent. */
export interface StripeChargeAttempt {
  session: StripeObject;
  paymentIntent: StripeObject;
  charge: StripeObject;
  event: StripeObject;
  delivery: WebhookDelivery;
}

/** What an async (bank debit) payment step leaves: the objects as rendered after it, the webhook event it sent. */
export type StripeAsyncPayment = StripeChargeAttempt;

export type StripePayResult =
  | (StripeChargeAttempt & {
      outcome: 'succeeded';
      /** success_url with {CHECKOUT_SESSION_ID} replaced (null when the session has none). */
      redirectUrl: string | null;
    })
  | (StripeChargeAttempt & { outcome: 'declined'; declineCode: string; message: string })
  | {
      outcome: 'rejected';
      reason: 'no_such_session' | 'session_not_open' | 'invalid_card';
      message: string;
    };

export interface StripeSignOptions {
  /** Defaults to the sandbox's webhookSecret. */
  secret?: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

/** `url` is the apiBaseUrl to give createStripeClient; `publicUrl` is used for the payment page and `url` fields. */
export interface StripeSandbox extends SandboxBasics {
  readonly webhookUrl: string | undefined;
  readonly webhookSecret: string | undefined;
  /** Changes where (and with which secret) webhooks go from now on. */
  setWebhookTarget(url: string | undefined, secret?: string): void;
  /** Pays a session as the payment page would (same state changes and webhook), without HTTP. */
  pay(sessionId: string, card: string | StripeCardInput): Promise<StripePayResult>;
  /**
   * Pays a session by US bank account debit (ACH), an async method: the session completes `unpaid`, the
   * PaymentIntent is `processing` (charge `pending`), and `checkout.session.completed` is sent.
   */
  payByBankDebit(sessionId: string, buyer?: { email?: string; name?: string }): Promise<StripeAsyncPayment>;
  /**
   * The processing debit clears (`succeeded`: paid, `checkout.session.async_payment_succeeded`) or fails (`failed`:
   * PaymentIntent back to requires_payment_method, `checkout.session.async_payment_failed`).
   */
  settleAsyncPayment(sessionId: string, outcome: 'succeeded' | 'failed'): Promise<StripeAsyncPayment>;
  /** Builds an event envelope (from the fixture `event`) around `object`; it is stored, so resendEvent() works. */
  buildEvent(type: string, object: StripeObject): StripeObject;
  /** The `Stripe-Signature` header value for `payload`: `t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">`. */
  signPayload(payload: string, options?: StripeSignOptions): string;
  /** Signs and POSTs an event (as built by buildEvent) to the webhook URL. */
  deliverEvent(event: StripeObject): Promise<WebhookDelivery>;
  /** Sends an earlier event again (same body, fresh signature), as Stripe's retries do. */
  resendEvent(eventId: string): Promise<WebhookDelivery>;
  /** Expires an open session now (as if expires_at passed) and sends `checkout.session.expired`. */
  expireSession(sessionId: string): Promise<StripeObject>;
  /** Total refunded so far for a payment intent, in minor units (0 when none or unknown). */
  refundedAmount(paymentIntentId: string): number;
  getSession(sessionId: string): StripeObject | undefined;
  getPaymentIntent(paymentIntentId: string): StripeObject | undefined;
  getCharge(chargeId: string): StripeObject | undefined;
  /** Every balance transaction (one per succeeded charge, with Stripe's fee; one per refund), oldest first. */
  balanceTransactions(): StripeObject[];
  /** All sessions created so far (rendered), oldest first. */
  listSessions(): StripeObject[];
  /** Forgets all state: objects, idempotency keys, recorded requests/webhooks, pending failures. */
  reset(): void;
  /** Balance transactions and payouts (what reconciliation reads), with the test controls that change them. */
  readonly reporting: StripeReportingStore;
  /** A refund made in Stripe's dashboard: the money goes back, its webhooks (charge.refunded, refund.created) are dropped. */
  dashboardRefund(paymentIntentId: string, amount?: number): Promise<StripeObject>;
}

import type { PayPalReportingStore } from './reporting.js';
import type { JsonObject, SandboxBasics, WebhookDelivery } from '../http-kit.js';

/** The PayPal sandbox's public types: its options, approval results, signatures, the handle it returns. */

export interface PayPalSandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Where to POST webhooks. Without it deliveries are recorded, not sent. */
  webhookUrl?: string;
  /** Webhook id that signatures are computed with (as configured in the PayPal dashboard). */
  webhookId?: string;
  /** Base URL for links, the approval page and the certificate URL (default: the bound http://127.0.0.1:PORT). */
  publicUrl?: string;
  /** When both are set, only these OAuth client credentials are accepted; otherwise any non-empty pair. */
  clientId?: string;
  clientSecret?: string;
  /** Access token lifetime (default 32400 s, like PayPal). */
  tokenTtlSeconds?: number;
  /** Refuse a capture whose invoice_id was already captured (PayPal's default account setting; default true). */
  blockDuplicateInvoiceId?: boolean;
  /** Clock (default: real time). */
  now?: () => Date;
  /** Webhook request timeout (default 10 s). */
  webhookTimeoutMs?: number;
  /** CA that issues the webhook signing certificate (default: the sandbox CA in sandbox/fixtures; null: self-signed, as a forger would). */
  signingCa?: { key: string; cert: string } | null;
  /**
   * Give part of PayPal's fee back on refunds (seller_payable_breakdown.paypal_fee of the refund): the
   * percentage part of the fee in proportion to the amount refunded, the fixed part kept. Default false:
   * PayPal keeps its fees (paypal_fee 0). Also settable later with setReturnFeesOnRefund.
   */
  returnFeesOnRefund?: boolean;
}

/** A PayPal API object or webhook event as JSON. */
export type PayPalObject = JsonObject;

export interface PayPalApproveOptions {
  payerEmail?: string;
  payerId?: string;
  givenName?: string;
  surname?: string;
}

export type PayPalApproveResult =
  | {
      outcome: 'approved';
      order: PayPalObject;
      event: PayPalObject;
      delivery: WebhookDelivery;
      payerId: string;
      /** return_url with `token` and `PayerID` added (null when the order has no return_url). */
      redirectUrl: string | null;
    }
  | { outcome: 'rejected'; reason: 'no_such_order' | 'not_approvable'; message: string };

export interface PayPalSignOptions {
  webhookId?: string;
  transmissionId?: string;
  transmissionTime?: Date;
}

/** Headers of one signed webhook transmission (names as PayPal sends them). */
export interface PayPalSignatureHeaders {
  'PAYPAL-TRANSMISSION-ID': string;
  'PAYPAL-TRANSMISSION-TIME': string;
  'PAYPAL-TRANSMISSION-SIG': string;
  'PAYPAL-CERT-URL': string;
  'PAYPAL-AUTH-ALGO': 'SHA256withRSA';
}

/** `url` is the apiBaseUrl to give createPayPalClient. */
export interface PayPalSandbox extends SandboxBasics {
  readonly webhookUrl: string | undefined;
  readonly webhookId: string | undefined;
  /** PEM of the self-signed webhook signing certificate. */
  readonly certificatePem: string;
  /** The URL the certificate is served at (sent as PAYPAL-CERT-URL). */
  readonly certUrl: string;
  setWebhookTarget(url: string | undefined, webhookId?: string): void;
  /** Approves an order as the buyer would on the approval page (same state change and webhook), without HTTP. */
  approve(orderId: string, options?: PayPalApproveOptions): Promise<PayPalApproveResult>;
  /** Builds a webhook event envelope (stored, so resendEvent() works). */
  buildEvent(eventType: string, resourceType: string, resource: PayPalObject, summary?: string): PayPalObject;
  /** Signs a raw body: RSA-SHA256 over `transmissionId|transmissionTime|webhookId|crc32(rawBody)`. */
  signPayload(rawBody: string, options?: PayPalSignOptions): PayPalSignatureHeaders;
  /** Signs and POSTs an event to the webhook URL. */
  deliverEvent(event: PayPalObject): Promise<WebhookDelivery>;
  /** Sends an earlier event again (same body, new transmission id/time/signature). */
  resendEvent(eventId: string): Promise<WebhookDelivery>;
  /** Total refunded so far for a capture, in minor units (0 when none or unknown). */
  refundedAmount(captureId: string): number;
  getOrder(orderId: string): PayPalObject | undefined;
  getCapture(captureId: string): PayPalObject | undefined;
  /** Forgets all state except the signing key: orders, captures, refunds, tokens, request ids, records, failures. */
  reset(): void;
  /** Transaction Search records (what reconciliation reads), with the test controls that change them. */
  readonly reporting: PayPalReportingStore;
  /** A refund made in PayPal's dashboard: the money goes back, its webhook (PAYMENT.CAPTURE.REFUNDED) is dropped. */
  dashboardRefund(captureId: string, amountMinor?: number): Promise<PayPalObject>;
  /**
   * PayPal voids an order that was never captured (status VOIDED, as PayPal does when an approval ages out or the
   * buyer's payment is reversed before capture): it can no longer be approved or captured. PayPal sends the app no
   * webhook for it. Throws for an unknown or completed order. Returns the order as GET shows it.
   */
  voidOrder(orderId: string): PayPalObject;
  /** Whether later refunds give part of the fee back (see PayPalSandboxOptions.returnFeesOnRefund). */
  setReturnFeesOnRefund(on: boolean): void;
  /**
   * The buyer disputes a capture (default amount: what is not refunded; reason a `dispute_reason` of PayPal's
   * Disputes spec): the dispute object is built from sandbox/fixtures/paypal-dispute.json and CUSTOMER.DISPUTE.CREATED
   * is signed and delivered (awaited), like every other event.
   */
  openDispute(captureId: string, options?: { amountMinor?: number; reason?: string }): Promise<PayPalDisputeResult>;
  /** A status change that does not end the dispute (e.g. UNDER_REVIEW): CUSTOMER.DISPUTE.UPDATED. */
  updateDispute(disputeId: string, status: string, stage?: string): Promise<PayPalDisputeResult>;
  /** PayPal resolves it (`RESOLVED_BUYER_FAVOUR`, `RESOLVED_SELLER_FAVOUR`, ...): CUSTOMER.DISPUTE.RESOLVED. */
  resolveDispute(disputeId: string, outcomeCode: string): Promise<PayPalDisputeResult>;
}

/** A dispute control's result: the dispute as PayPal shows it, the event sent and its delivery. */
export interface PayPalDisputeResult {
  dispute: PayPalObject;
  event: PayPalObject;
  delivery: WebhookDelivery;
}

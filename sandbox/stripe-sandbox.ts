/**
 * Local Stripe API sandbox (never deployed): answers the endpoints the app calls the way the real
 * API does, with objects built from Stripe's published example objects (sandbox/fixtures), serves a
 * hosted payment page, and sends correctly signed webhooks to the app.
 *
 * Endpoints: POST/GET /v1/checkout/sessions, GET /v1/checkout/sessions/:id[/line_items],
 * POST /v1/checkout/sessions/:id/expire, POST /v1/refunds, GET /v1/refunds/:id,
 * GET /v1/payment_intents/:id, GET /v1/charges/:id; payment page GET/POST /pay/:id;
 * control endpoints under /__sandbox/ (see http-kit.ts).
 */
import { createHmac } from 'node:crypto';
import { stripeObject } from './fixtures/index.js';
import {
  basicCredentials,
  bearerToken,
  canonicalJson,
  cloneJson,
  EventLog,
  escapeHtml,
  type FailNextOptions,
  type FormObject,
  type FormValue,
  type HandlerResult,
  htmlReply,
  type InjectedFailure,
  isHttpUrl,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonReply,
  jsonTextReply,
  minorToDecimal,
  type PageLook,
  parseForm,
  pathParam,
  type RecordedRequest,
  type Reply,
  randomString,
  redirectReply,
  type SandboxBasics,
  SandboxServer,
  type StoredEvent,
  sandboxHandle,
  sandboxPage,
  textReply,
  type WebhookDelivery,
} from './http-kit.js';

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
  /** All sessions created so far (rendered), oldest first. */
  listSessions(): StripeObject[];
  /** Forgets all state: objects, idempotency keys, recorded requests/webhooks, pending failures. */
  reset(): void;
}

// ---------------------------------------------------------------------------------------------
// Internal records

type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'rate_limit_error'
  | 'authentication_error';

class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
    readonly extra: JsonObject = {},
  ) {
    super(message);
  }
}

interface LineItemRecord {
  id: string;
  priceId: string;
  productId: string;
  name: string;
  description: string | null;
  unitAmount: number;
  currency: string;
  quantity: number;
  created: number;
}

interface SessionRecord {
  id: string;
  created: number;
  expiresAt: number;
  status: 'open' | 'complete' | 'expired';
  paymentStatus: 'unpaid' | 'paid';
  currency: string;
  amountTotal: number;
  lineItems: LineItemRecord[];
  customerEmail: string | null;
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  successUrl: string | null;
  cancelUrl: string | null;
  locale: string | null;
  submitType: string | null;
  paymentIntentId: string | null;
  paymentIntentMetadata: Record<string, string>;
  paymentIntentDescription: string | null;
  customerDetails: { email: string | null; name: string | null } | null;
}

interface DeclineInfo {
  code: string;
  declineCode: string;
  message: string;
}

interface PaymentIntentRecord {
  id: string;
  created: number;
  amount: number;
  currency: string;
  status: 'requires_payment_method' | 'succeeded';
  latestChargeId: string | null;
  paymentMethodId: string | null;
  metadata: Record<string, string>;
  description: string | null;
  receiptEmail: string | null;
  lastPaymentError: (DeclineInfo & { chargeId: string; card: TestCard; paymentMethodId: string }) | null;
  clientSecret: string;
}

interface ChargeRecord {
  id: string;
  created: number;
  amount: number;
  currency: string;
  paymentIntentId: string;
  paymentMethodId: string;
  status: 'succeeded' | 'failed';
  card: TestCard;
  amountRefunded: number;
  failure: DeclineInfo | null;
  billingEmail: string | null;
  billingName: string | null;
  metadata: Record<string, string>;
  refundIds: string[];
  balanceTransactionId: string | null;
}

interface RefundRecord {
  id: string;
  created: number;
  amount: number;
  currency: string;
  chargeId: string;
  paymentIntentId: string;
  reason: string | null;
  metadata: Record<string, string>;
  balanceTransactionId: string;
}

interface IdempotencyRecord {
  route: string;
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
}

interface TestCard {
  number: string;
  brand: string;
  funding: 'credit' | 'debit';
  country: string;
  decline: DeclineInfo | null;
}

/** A US test card that succeeds. */
function acceptedCard(number: string, brand: string, funding: TestCard['funding'] = 'credit'): TestCard {
  return { number, brand, funding, country: 'US', decline: null };
}

/** A US Visa credit test card that is declined with `code` / `declineCode` and `message`. */
function declinedVisa(number: string, code: string, declineCode: string, message: string): TestCard {
  return { number, brand: 'visa', funding: 'credit', country: 'US', decline: { code, declineCode, message } };
}

const TEST_CARDS: readonly TestCard[] = [
  acceptedCard('4242424242424242', 'visa'),
  acceptedCard('4000056655665556', 'visa', 'debit'),
  acceptedCard('5555555555554444', 'mastercard'),
  acceptedCard('378282246310005', 'amex'),
  declinedVisa('4000000000000002', 'card_declined', 'generic_decline', 'Your card was declined.'),
  declinedVisa('4000000000009995', 'card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
  declinedVisa('4000000000009987', 'card_declined', 'lost_card', 'Your card was declined.'),
  declinedVisa('4000000000000069', 'expired_card', 'expired_card', 'Your card has expired.'),
  declinedVisa('4000000000000127', 'incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."),
];

/** Currencies Stripe treats as zero-decimal (amounts are whole units). */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
/** Minimum charge amounts (minor units) for the currencies the festival might use. */
const MINIMUM_AMOUNT: Record<string, number> = { usd: 50, eur: 50, gbp: 30, cad: 50, aud: 50, mxn: 1000, chf: 50 };
const MAXIMUM_AMOUNT = 99_999_999;
const CURRENCY_SYMBOL: Record<string, string> = { usd: '$', cad: '$', aud: '$', mxn: '$', eur: '€', gbp: '£', jpy: '¥' };

const SESSION_CREATE_PARAMS = new Set([
  'mode',
  'line_items',
  'customer_email',
  'client_reference_id',
  'metadata',
  'expires_at',
  'success_url',
  'cancel_url',
  'payment_intent_data',
  'expand',
  'payment_method_types',
  'locale',
  'submit_type',
  'billing_address_collection',
  'phone_number_collection',
  'custom_text',
  'custom_fields',
  'allow_promotion_codes',
  'automatic_tax',
  'ui_mode',
  'customer_creation',
  'invoice_creation',
  'consent_collection',
  'payment_method_options',
]);
const REFUND_CREATE_PARAMS = new Set([
  'payment_intent',
  'charge',
  'amount',
  'reason',
  'metadata',
  'expand',
  'instructions_email',
]);
const REFUND_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

interface StripeTemplates {
  session: StripeObject;
  paymentIntent: StripeObject;
  charge: StripeObject;
  refund: StripeObject;
  event: StripeObject;
  item: StripeObject;
}

function loadTemplates(): StripeTemplates {
  return {
    session: stripeObject('checkout.session'),
    paymentIntent: stripeObject('payment_intent'),
    charge: stripeObject('charge'),
    refund: stripeObject('refund'),
    event: stripeObject('event'),
    item: stripeObject('item'),
  };
}

// ---------------------------------------------------------------------------------------------

export async function startStripeSandbox(options: StripeSandboxOptions = {}): Promise<StripeSandbox> {
  const templates = loadTemplates();
  const now = options.now ?? (() => new Date());
  const nowSeconds = (): number => Math.floor(now().getTime() / 1000);
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 10_000;
  const apiVersion = options.apiVersion ?? DEFAULT_STRIPE_EVENT_API_VERSION;
  const emitRefundEvents = options.emitRefundEvents ?? true;
  let webhookUrl = options.webhookUrl;
  let webhookSecret = options.webhookSecret;

  const sessions = new Map<string, SessionRecord>();
  const paymentIntents = new Map<string, PaymentIntentRecord>();
  const charges = new Map<string, ChargeRecord>();
  const refunds = new Map<string, RefundRecord>();
  const refundedByPaymentIntent = new Map<string, number>();
  const idempotency = new Map<string, IdempotencyRecord>();
  // Stripe sends events pretty-printed; receivers must verify the raw bytes, not a re-serialization.
  const events = new EventLog({ name: 'stripe', serialize: (event) => JSON.stringify(event, null, 2), send: sendStored });

  // Set once the server is bound (the handlers below only run after that).
  let publicUrl = '';

  // ----- rendering (fixture template + state) -----

  function renderLineItem(item: LineItemRecord): StripeObject {
    const out = cloneJson(templates.item);
    const amount = item.unitAmount * item.quantity;
    Object.assign(out, {
      id: item.id,
      object: 'item',
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: item.currency,
      description: item.name,
      quantity: item.quantity,
      metadata: {},
      adjustable_quantity: null,
    });
    const rendered = idFirst(out);
    const price = isJsonObject(rendered.price) ? rendered.price : {};
    Object.assign(price, {
      id: item.priceId,
      object: 'price',
      active: false,
      created: item.created,
      currency: item.currency,
      product: item.productId,
      recurring: null,
      transform_quantity: null,
      type: 'one_time',
      unit_amount: item.unitAmount,
      unit_amount_decimal: String(item.unitAmount),
      metadata: {},
    });
    rendered.price = idFirst(price);
    return rendered;
  }

  function renderSession(session: SessionRecord, expand: readonly string[] = []): StripeObject {
    const out = cloneJson(templates.session);
    const customerDetails: JsonValue = session.customerDetails
      ? {
          address: { city: null, country: 'US', line1: null, line2: null, postal_code: null, state: null },
          email: session.customerDetails.email,
          name: session.customerDetails.name,
          phone: null,
          tax_exempt: 'none',
          tax_ids: [],
          business_name: null,
          individual_name: null,
        }
      : null;
    Object.assign(out, {
      id: session.id,
      object: 'checkout.session',
      after_expiration: null,
      allow_promotion_codes: null,
      amount_subtotal: session.amountTotal,
      amount_total: session.amountTotal,
      automatic_tax: { enabled: false, liability: null, status: null, provider: null },
      cancel_url: session.cancelUrl,
      client_reference_id: session.clientReferenceId,
      consent: null,
      consent_collection: null,
      created: session.created,
      currency: session.currency,
      currency_conversion: null,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: null,
      customer_creation: 'if_required',
      customer_details: customerDetails,
      customer_email: session.customerEmail,
      expires_at: session.expiresAt,
      invoice: null,
      invoice_creation: {
        enabled: false,
        invoice_data: {
          account_tax_ids: null,
          custom_fields: null,
          description: null,
          footer: null,
          issuer: null,
          metadata: {},
          rendering_options: null,
        },
      },
      livemode: false,
      locale: session.locale,
      metadata: { ...session.metadata },
      mode: 'payment',
      payment_intent: session.paymentIntentId,
      payment_link: null,
      payment_method_collection: 'if_required',
      payment_method_configuration_details: null,
      payment_method_options: { card: { request_three_d_secure: 'automatic' } },
      payment_method_types: ['card'],
      payment_status: session.paymentStatus,
      phone_number_collection: { enabled: false },
      recovered_from: null,
      saved_payment_method_options: null,
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: session.status,
      submit_type: session.submitType,
      subscription: null,
      success_url: session.successUrl,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: 'hosted',
      url: session.status === 'open' ? `${publicUrl}/pay/${session.id}` : null,
      adaptive_pricing: { enabled: false },
      discounts: [],
      collected_information: null,
      permissions: null,
      wallet_options: null,
      origin_context: null,
      customer_account: null,
      integration_identifier: null,
      managed_payments: { enabled: false },
    });
    if (expand.includes('line_items')) out.line_items = renderLineItemList(session);
    if (session.paymentIntentId && expand.some((e) => e === 'payment_intent' || e.startsWith('payment_intent.'))) {
      const pi = paymentIntents.get(session.paymentIntentId);
      if (pi)
        out.payment_intent = renderPaymentIntent(pi, expand.includes('payment_intent.latest_charge') ? ['latest_charge'] : []);
    }
    return idFirst(out);
  }

  function renderLineItemList(session: SessionRecord): StripeObject {
    return {
      object: 'list',
      data: session.lineItems.map(renderLineItem),
      has_more: false,
      url: `/v1/checkout/sessions/${session.id}/line_items`,
    };
  }

  function renderPaymentIntent(pi: PaymentIntentRecord, expand: readonly string[] = []): StripeObject {
    const out = cloneJson(templates.paymentIntent);
    let lastPaymentError: JsonValue = null;
    if (pi.lastPaymentError) {
      const e = pi.lastPaymentError;
      lastPaymentError = {
        type: 'card_error',
        charge: e.chargeId,
        code: e.code,
        decline_code: e.declineCode,
        doc_url: `https://stripe.com/docs/error-codes/${e.code.replaceAll('_', '-')}`,
        message: e.message,
        payment_method: {
          id: e.paymentMethodId,
          object: 'payment_method',
          type: 'card',
          card: { brand: e.card.brand, last4: e.card.number.slice(-4), funding: e.card.funding, country: e.card.country },
        },
      };
    }
    Object.assign(out, {
      id: pi.id,
      object: 'payment_intent',
      amount: pi.amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: pi.status === 'succeeded' ? pi.amount : 0,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: 'automatic',
      client_secret: pi.clientSecret,
      confirmation_method: 'automatic',
      created: pi.created,
      currency: pi.currency,
      customer: null,
      description: pi.description,
      last_payment_error: lastPaymentError,
      latest_charge: pi.latestChargeId,
      livemode: false,
      metadata: { ...pi.metadata },
      next_action: null,
      on_behalf_of: null,
      payment_method: pi.paymentMethodId,
      payment_method_configuration_details: null,
      payment_method_options: {
        card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
      },
      payment_method_types: ['card'],
      processing: null,
      receipt_email: pi.receiptEmail,
      review: null,
      setup_future_usage: null,
      shipping: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: pi.status,
      transfer_data: null,
      transfer_group: null,
      source: null,
      excluded_payment_method_types: null,
      customer_account: null,
      managed_payments: { enabled: false },
    });
    if (expand.includes('latest_charge') && pi.latestChargeId) {
      const charge = charges.get(pi.latestChargeId);
      if (charge) out.latest_charge = renderCharge(charge);
    }
    return idFirst(out);
  }

  function renderCharge(charge: ChargeRecord): StripeObject {
    const out = cloneJson(templates.charge);
    const succeeded = charge.status === 'succeeded';
    const details = isJsonObject(out.payment_method_details) ? out.payment_method_details : {};
    const card = isJsonObject(details.card) ? details.card : {};
    Object.assign(card, {
      amount_authorized: succeeded ? charge.amount : null,
      brand: charge.card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: succeeded ? 'pass' : null },
      country: charge.card.country,
      exp_month: 12,
      exp_year: new Date(charge.created * 1000).getUTCFullYear() + 3,
      fingerprint: `sbx${charge.card.number.slice(-4)}${charge.card.brand.slice(0, 4)}`,
      funding: charge.card.funding,
      last4: charge.card.number.slice(-4),
      network: charge.card.brand,
      network_token: { used: false },
      overcapture: { maximum_amount_capturable: charge.amount, status: 'unavailable' },
      three_d_secure: null,
      wallet: null,
    });
    details.card = card;
    details.type = 'card';
    Object.assign(out, {
      id: charge.id,
      object: 'charge',
      amount: charge.amount,
      amount_captured: succeeded ? charge.amount : 0,
      amount_refunded: charge.amountRefunded,
      application: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: charge.balanceTransactionId,
      billing_details: {
        address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
        email: charge.billingEmail,
        name: charge.billingName,
        phone: null,
        tax_id: null,
      },
      calculated_statement_descriptor: 'BOULDER FEST SANDBOX',
      captured: succeeded,
      created: charge.created,
      currency: charge.currency,
      customer: null,
      description: null,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: charge.failure?.code ?? null,
      failure_message: charge.failure?.message ?? null,
      fraud_details: {},
      livemode: false,
      metadata: { ...charge.metadata },
      on_behalf_of: null,
      outcome: succeeded
        ? {
            advice_code: null,
            network_advice_code: null,
            network_decline_code: null,
            network_status: 'approved_by_network',
            reason: null,
            risk_level: 'normal',
            risk_score: 20,
            seller_message: 'Payment complete.',
            type: 'authorized',
          }
        : {
            advice_code: 'try_again_later',
            network_advice_code: null,
            network_decline_code: null,
            network_status: 'declined_by_network',
            reason: charge.failure?.declineCode ?? 'generic_decline',
            risk_level: 'normal',
            risk_score: 20,
            seller_message: 'The bank did not return any further details with this decline.',
            type: 'issuer_declined',
          },
      paid: succeeded,
      payment_intent: charge.paymentIntentId,
      payment_method: charge.paymentMethodId,
      payment_method_details: details,
      receipt_email: charge.billingEmail,
      receipt_number: null,
      receipt_url: `${publicUrl}/receipts/${charge.id}`,
      refunded: charge.amountRefunded > 0 && charge.amountRefunded >= charge.amount,
      refunds: {
        object: 'list',
        data: charge.refundIds.flatMap((id) => {
          const refund = refunds.get(id);
          return refund ? [renderRefund(refund)] : [];
        }),
        has_more: false,
        url: `/v1/charges/${charge.id}/refunds`,
      },
      review: null,
      shipping: null,
      source: null,
      source_transfer: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: charge.status,
      transfer_data: null,
      transfer_group: null,
    });
    return idFirst(out);
  }

  function renderRefund(refund: RefundRecord): StripeObject {
    const out = cloneJson(templates.refund);
    Object.assign(out, {
      id: refund.id,
      object: 'refund',
      amount: refund.amount,
      balance_transaction: refund.balanceTransactionId,
      charge: refund.chargeId,
      created: refund.created,
      currency: refund.currency,
      destination_details: {
        card: { reference: null, reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
        type: 'card',
      },
      metadata: { ...refund.metadata },
      payment_intent: refund.paymentIntentId,
      reason: refund.reason,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
      customer: null,
      customer_account: null,
      payment_method: null,
    });
    return idFirst(out);
  }

  // ----- events and webhooks -----

  function buildEvent(
    type: string,
    object: StripeObject,
    request: { id: string | null; idempotencyKey: string | null } = { id: null, idempotencyKey: null },
  ): StripeObject {
    const event: StripeObject = idFirst(cloneJson(templates.event));
    Object.assign(event, {
      id: `evt_${randomString(24)}`,
      object: 'event',
      api_version: apiVersion,
      created: nowSeconds(),
      data: { object: cloneJson(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: request.id, idempotency_key: request.idempotencyKey },
      type,
    });
    events.record(event);
    return event;
  }

  function signPayload(payload: string, signOptions: StripeSignOptions = {}): string {
    const secret = signOptions.secret ?? webhookSecret;
    if (!secret) throw new Error('stripe sandbox: no webhook secret (pass webhookSecret or options.secret)');
    const timestamp = signOptions.timestamp ?? nowSeconds();
    const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
    return `t=${timestamp},v1=${signature}`;
  }

  async function sendStored(stored: StoredEvent): Promise<WebhookDelivery> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'Cache-Control': 'no-cache',
      Accept: '*/*; q=0.5, application/xml',
    };
    if (webhookSecret) headers['Stripe-Signature'] = signPayload(stored.payload);
    return server.deliver({
      url: webhookUrl,
      eventId: String(stored.event.id),
      eventType: String(stored.event.type),
      payload: stored.payload,
      headers,
      timeoutMs: webhookTimeoutMs,
    });
  }

  /** Builds and sends an event in the background (used where Stripe sends events asynchronously). */
  function emitInBackground(
    type: string,
    object: StripeObject,
    request: { id: string | null; idempotencyKey: string | null },
  ): void {
    server.track(events.deliver(buildEvent(type, object, request)));
  }

  // ----- state helpers -----

  /** Applies expiry lazily: an open session whose expires_at has passed becomes expired (and the event is sent). */
  function refreshExpiry(session: SessionRecord): void {
    if (session.status === 'open' && nowSeconds() >= session.expiresAt) {
      session.status = 'expired';
      emitInBackground('checkout.session.expired', renderSession(session), { id: null, idempotencyKey: null });
    }
  }

  function findSession(id: string): SessionRecord | undefined {
    const session = sessions.get(id);
    if (session) refreshExpiry(session);
    return session;
  }

  function successRedirect(session: SessionRecord): string | null {
    return session.successUrl ? session.successUrl.replaceAll('{CHECKOUT_SESSION_ID}', session.id) : null;
  }

  // ----- payment (page and programmatic) -----

  async function pay(sessionId: string, input: string | StripeCardInput): Promise<StripePayResult> {
    const cardInput: StripeCardInput = typeof input === 'string' ? { number: input } : input;
    const session = findSession(sessionId);
    if (!session) return { outcome: 'rejected', reason: 'no_such_session', message: `No such checkout.session: '${sessionId}'` };
    if (session.status !== 'open') {
      const message =
        session.status === 'complete' ? 'This Checkout Session has already been paid.' : 'This Checkout Session has expired.';
      return { outcome: 'rejected', reason: 'session_not_open', message };
    }
    const digits = cardInput.number.replace(/[\s-]/g, '');
    const card = TEST_CARDS.find((c) => c.number === digits);
    if (!card) {
      const message = luhnValid(digits)
        ? 'This sandbox only accepts Stripe test cards, e.g. 4242 4242 4242 4242 (success) or 4000 0000 0000 0002 (declined).'
        : 'Your card number is invalid.';
      return { outcome: 'rejected', reason: 'invalid_card', message };
    }

    const created = nowSeconds();
    const email = cardInput.email?.trim() || session.customerEmail;
    const name = cardInput.name?.trim() || null;
    let pi = session.paymentIntentId ? paymentIntents.get(session.paymentIntentId) : undefined;
    if (!pi) {
      const piId = `pi_${randomString(24)}`;
      pi = {
        id: piId,
        created,
        amount: session.amountTotal,
        currency: session.currency,
        status: 'requires_payment_method',
        latestChargeId: null,
        paymentMethodId: null,
        metadata: { ...session.paymentIntentMetadata },
        description: session.paymentIntentDescription,
        receiptEmail: null,
        lastPaymentError: null,
        clientSecret: `${piId}_secret_${randomString(25)}`,
      };
      paymentIntents.set(pi.id, pi);
      session.paymentIntentId = pi.id;
    }
    const paymentMethodId = `pm_${randomString(24)}`;
    const charge: ChargeRecord = {
      id: `ch_${randomString(24)}`,
      created,
      amount: pi.amount,
      currency: pi.currency,
      paymentIntentId: pi.id,
      paymentMethodId,
      status: card.decline ? 'failed' : 'succeeded',
      card,
      amountRefunded: 0,
      failure: card.decline,
      billingEmail: email,
      billingName: name,
      metadata: { ...pi.metadata },
      refundIds: [],
      balanceTransactionId: card.decline ? null : `txn_${randomString(24)}`,
    };
    charges.set(charge.id, charge);
    pi.latestChargeId = charge.id;
    pi.paymentMethodId = paymentMethodId;

    if (card.decline) {
      pi.status = 'requires_payment_method';
      pi.lastPaymentError = { ...card.decline, chargeId: charge.id, card, paymentMethodId };
      const paymentIntent = renderPaymentIntent(pi);
      const event = buildEvent('payment_intent.payment_failed', paymentIntent);
      const delivery = await events.deliver(event);
      return {
        outcome: 'declined',
        declineCode: card.decline.declineCode,
        message: card.decline.message,
        session: renderSession(session),
        paymentIntent,
        charge: renderCharge(charge),
        event,
        delivery,
      };
    }

    pi.status = 'succeeded';
    pi.lastPaymentError = null;
    pi.receiptEmail = email;
    session.status = 'complete';
    session.paymentStatus = 'paid';
    session.customerDetails = { email, name };
    const rendered = renderSession(session);
    const event = buildEvent('checkout.session.completed', rendered);
    const delivery = await events.deliver(event);
    return {
      outcome: 'succeeded',
      session: rendered,
      paymentIntent: renderPaymentIntent(pi),
      charge: renderCharge(charge),
      event,
      delivery,
      redirectUrl: successRedirect(session),
    };
  }

  // ----- API handlers -----

  function createSession(form: FormObject): StripeObject {
    for (const key of Object.keys(form)) {
      if (!SESSION_CREATE_PARAMS.has(key)) throw unknownParameter(key);
    }
    const mode = optionalString(form.mode, 'mode');
    if (mode === undefined) throw missingParameter('mode');
    if (mode !== 'payment') {
      throw invalidRequest(
        `Invalid mode: this sandbox supports mode=payment only (got '${mode}').`,
        'parameter_invalid_string',
        'mode',
      );
    }
    const uiMode = optionalString(form.ui_mode, 'ui_mode');
    if (uiMode !== undefined && uiMode !== 'hosted') {
      throw invalidRequest('This sandbox supports ui_mode=hosted only.', 'parameter_invalid_string', 'ui_mode');
    }
    const created = nowSeconds();
    const lineItemsValue = form.line_items;
    if (lineItemsValue === undefined || (Array.isArray(lineItemsValue) && lineItemsValue.length === 0)) {
      throw invalidRequest('You must provide at least one line item in `payment` mode.', 'parameter_missing', 'line_items');
    }
    if (!Array.isArray(lineItemsValue)) throw invalidArray('line_items');
    if (lineItemsValue.length > 100) {
      throw invalidRequest('You may only specify up to 100 line items.', 'parameter_invalid_array', 'line_items');
    }
    const lineItems = lineItemsValue.map((value, index) => parseLineItem(value, index, created));
    const currency = lineItems[0]?.currency ?? 'usd';
    lineItems.forEach((item, index) => {
      if (item.currency !== currency) {
        throw invalidRequest(
          'All line items must use the same currency.',
          'parameter_invalid_string',
          `line_items[${index}][price_data][currency]`,
        );
      }
    });
    const amountTotal = lineItems.reduce((sum, item) => sum + item.unitAmount * item.quantity, 0);
    const minimum = MINIMUM_AMOUNT[currency];
    if (minimum !== undefined && amountTotal < minimum) {
      throw invalidRequest(
        `The Checkout Session's total amount due must add up to at least ${formatMoney(minimum, currency)} ${currency}`,
        'amount_too_small',
        'line_items',
      );
    }
    if (amountTotal > MAXIMUM_AMOUNT) {
      throw invalidRequest(
        `The Checkout Session's total amount due must be no more than ${formatMoney(MAXIMUM_AMOUNT, currency)} ${currency}`,
        'amount_too_large',
        'line_items',
      );
    }

    const expiresAtRaw = optionalInteger(form.expires_at, 'expires_at');
    const expiresAt = expiresAtRaw ?? created + 24 * 3600;
    if (expiresAt < created + 30 * 60) {
      throw invalidRequest(
        'The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.',
        undefined,
        'expires_at',
      );
    }
    if (expiresAt > created + 24 * 3600) {
      throw invalidRequest(
        'The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.',
        undefined,
        'expires_at',
      );
    }

    const customerEmail = optionalString(form.customer_email, 'customer_email') ?? null;
    if (customerEmail !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(customerEmail)) {
      throw invalidRequest(`Invalid email address: ${customerEmail}`, 'email_invalid', 'customer_email');
    }
    const clientReferenceId = optionalString(form.client_reference_id, 'client_reference_id') ?? null;
    if (clientReferenceId !== null && clientReferenceId.length > 200) {
      throw invalidRequest(
        'Invalid string: client_reference_id must be at most 200 characters',
        'string_length_too_long',
        'client_reference_id',
      );
    }
    const successUrl = optionalUrl(form.success_url, 'success_url');
    const cancelUrl = optionalUrl(form.cancel_url, 'cancel_url');
    const metadata = parseMetadata(form.metadata, 'metadata');
    let paymentIntentMetadata: Record<string, string> = {};
    let paymentIntentDescription: string | null = null;
    if (form.payment_intent_data !== undefined) {
      const pid = asObject(form.payment_intent_data, 'payment_intent_data');
      paymentIntentMetadata = parseMetadata(pid.metadata, 'payment_intent_data[metadata]');
      paymentIntentDescription = optionalString(pid.description, 'payment_intent_data[description]') ?? null;
    }

    const session: SessionRecord = {
      id: `cs_test_${randomString(58)}`,
      created,
      expiresAt,
      status: 'open',
      paymentStatus: 'unpaid',
      currency,
      amountTotal,
      lineItems,
      customerEmail,
      clientReferenceId,
      metadata,
      successUrl,
      cancelUrl,
      locale: optionalString(form.locale, 'locale') ?? null,
      submitType: optionalString(form.submit_type, 'submit_type') ?? null,
      paymentIntentId: null,
      paymentIntentMetadata,
      paymentIntentDescription,
      customerDetails: null,
    };
    sessions.set(session.id, session);
    return renderSession(session, expandList(form.expand));
  }

  function parseLineItem(value: FormValue, index: number, created: number): LineItemRecord {
    const param = `line_items[${index}]`;
    const item = asObject(value, param);
    if (item.price !== undefined) {
      const priceId = optionalString(item.price, `${param}[price]`);
      throw invalidRequest(`No such price: '${priceId ?? ''}'`, 'resource_missing', `${param}[price]`);
    }
    if (item.price_data === undefined) throw missingParameter(`${param}[price_data]`);
    const priceData = asObject(item.price_data, `${param}[price_data]`);
    const currencyRaw = optionalString(priceData.currency, `${param}[price_data][currency]`);
    if (currencyRaw === undefined) throw missingParameter(`${param}[price_data][currency]`);
    const currency = currencyRaw.toLowerCase();
    if (!/^[a-z]{3}$/.test(currency)) {
      throw invalidRequest(`Invalid currency: ${currencyRaw}.`, 'parameter_invalid_string', `${param}[price_data][currency]`);
    }
    let unitAmount = optionalInteger(priceData.unit_amount, `${param}[price_data][unit_amount]`);
    if (unitAmount === undefined && priceData.unit_amount_decimal !== undefined) {
      const decimal = optionalString(priceData.unit_amount_decimal, `${param}[price_data][unit_amount_decimal]`) ?? '';
      if (!/^\d+$/.test(decimal)) {
        throw invalidRequest(
          'This sandbox accepts whole-number unit_amount_decimal values only.',
          'parameter_invalid_string',
          `${param}[price_data][unit_amount_decimal]`,
        );
      }
      unitAmount = Number(decimal);
    }
    if (unitAmount === undefined) throw missingParameter(`${param}[price_data][unit_amount]`);
    if (unitAmount < 0) {
      throw invalidRequest(
        'This value must be greater than or equal to 0.',
        'parameter_invalid_integer',
        `${param}[price_data][unit_amount]`,
      );
    }
    if (priceData.product !== undefined) {
      const productId = optionalString(priceData.product, `${param}[price_data][product]`);
      throw invalidRequest(`No such product: '${productId ?? ''}'`, 'resource_missing', `${param}[price_data][product]`);
    }
    if (priceData.product_data === undefined) throw missingParameter(`${param}[price_data][product_data]`);
    const productData = asObject(priceData.product_data, `${param}[price_data][product_data]`);
    const name = optionalString(productData.name, `${param}[price_data][product_data][name]`);
    if (name === undefined || name.trim() === '') throw missingParameter(`${param}[price_data][product_data][name]`);
    const quantity = optionalInteger(item.quantity, `${param}[quantity]`);
    if (quantity === undefined) throw missingParameter(`${param}[quantity]`);
    if (quantity < 1 || quantity > 999_999) {
      throw invalidRequest('Quantity must be between 1 and 999999.', 'parameter_invalid_integer', `${param}[quantity]`);
    }
    return {
      id: `li_${randomString(24)}`,
      priceId: `price_${randomString(24)}`,
      productId: `prod_${randomString(14)}`,
      name,
      description: optionalString(productData.description, `${param}[price_data][product_data][description]`) ?? null,
      unitAmount,
      currency,
      quantity,
      created,
    };
  }

  function expireSessionNow(session: SessionRecord, request: { id: string | null; idempotencyKey: string | null }): StripeObject {
    if (session.status !== 'open') {
      throw invalidRequest(
        `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has status "${session.status}".`,
        undefined,
        'session',
      );
    }
    session.status = 'expired';
    const rendered = renderSession(session);
    emitInBackground('checkout.session.expired', rendered, request);
    return rendered;
  }

  function createRefund(form: FormObject, request: { id: string; idempotencyKey: string | null }): StripeObject {
    for (const key of Object.keys(form)) {
      if (!REFUND_CREATE_PARAMS.has(key)) throw unknownParameter(key);
    }
    const paymentIntentId = optionalString(form.payment_intent, 'payment_intent');
    const chargeId = optionalString(form.charge, 'charge');
    if (paymentIntentId === undefined && chargeId === undefined) {
      throw invalidRequest(
        'One of the following params should be provided for this request: payment_intent or charge.',
        'parameter_missing',
      );
    }
    let charge: ChargeRecord | undefined;
    let pi: PaymentIntentRecord | undefined;
    if (paymentIntentId !== undefined) {
      pi = paymentIntents.get(paymentIntentId);
      if (!pi) {
        throw invalidRequest(`No such payment_intent: '${paymentIntentId}'`, 'resource_missing', 'payment_intent');
      }
      if (pi.status !== 'succeeded' || !pi.latestChargeId) {
        throw invalidRequest(
          `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
          undefined,
          'payment_intent',
        );
      }
      charge = charges.get(pi.latestChargeId);
    } else if (chargeId !== undefined) {
      charge = charges.get(chargeId);
      if (!charge) throw invalidRequest(`No such charge: '${chargeId}'`, 'resource_missing', 'charge');
      pi = paymentIntents.get(charge.paymentIntentId);
    }
    if (!charge || !pi)
      throw new StripeApiError(500, 'api_error', 'Sandbox state is inconsistent (charge without payment intent).');
    if (charge.status !== 'succeeded') {
      throw invalidRequest(`Charge ${charge.id} has not succeeded and cannot be refunded.`, undefined, 'charge');
    }
    const remaining = charge.amount - charge.amountRefunded;
    const amount = optionalInteger(form.amount, 'amount') ?? remaining;
    if (remaining <= 0) {
      throw invalidRequest(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
    }
    if (amount < 1) {
      throw invalidRequest('This value must be greater than or equal to 1.', 'parameter_invalid_integer', 'amount');
    }
    if (amount > remaining) {
      // Stripe sends no `code` for this one, only `param: amount` and the message.
      throw invalidRequest(
        `Refund amount (${formatMoney(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatMoney(remaining, charge.currency)})`,
        undefined,
        'amount',
      );
    }
    const reason = optionalString(form.reason, 'reason') ?? null;
    if (reason !== null && !REFUND_REASONS.has(reason)) {
      throw invalidRequest(
        `Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer`,
        'parameter_invalid_string',
        'reason',
      );
    }
    const refund: RefundRecord = {
      id: `re_${randomString(24)}`,
      created: nowSeconds(),
      amount,
      currency: charge.currency,
      chargeId: charge.id,
      paymentIntentId: pi.id,
      reason,
      metadata: parseMetadata(form.metadata, 'metadata'),
      balanceTransactionId: `txn_${randomString(24)}`,
    };
    refunds.set(refund.id, refund);
    charge.amountRefunded += amount;
    charge.refundIds.push(refund.id);
    refundedByPaymentIntent.set(pi.id, (refundedByPaymentIntent.get(pi.id) ?? 0) + amount);
    const rendered = renderRefund(refund);
    if (emitRefundEvents) {
      emitInBackground('charge.refunded', renderCharge(charge), request);
      emitInBackground('refund.created', rendered, request);
    }
    return rendered;
  }

  function listSessions(query: FormObject): StripeObject {
    const paymentIntent = optionalString(query.payment_intent, 'payment_intent');
    const status = optionalString(query.status, 'status');
    const limit = optionalInteger(query.limit, 'limit') ?? 10;
    if (limit < 1 || limit > 100) {
      throw invalidRequest('This value must be between 1 and 100.', 'parameter_invalid_integer', 'limit');
    }
    const all = [...sessions.values()].reverse().filter((s) => {
      refreshExpiry(s);
      return (
        (paymentIntent === undefined || s.paymentIntentId === paymentIntent) && (status === undefined || s.status === status)
      );
    });
    const expand = expandList(query.expand).map((e) => e.replace(/^data\./, ''));
    return {
      object: 'list',
      data: all.slice(0, limit).map((s) => renderSession(s, expand)),
      has_more: all.length > limit,
      url: '/v1/checkout/sessions',
    };
  }

  // ----- routing -----

  function authenticate(request: RecordedRequest): void {
    const key = bearerToken(request) ?? basicCredentials(request)?.user ?? '';
    if (!key) {
      throw new StripeApiError(
        401,
        'invalid_request_error',
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      );
    }
    const acceptable = options.secretKey ? key === options.secretKey : /^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key);
    if (!acceptable) {
      throw new StripeApiError(401, 'invalid_request_error', `Invalid API Key provided: ${redactKey(key)}`, 'api_key_invalid');
    }
  }

  function handleApi(request: RecordedRequest, requestId: string): { status: number; body: StripeObject } {
    authenticate(request);
    const form = isFormObject(request.body) ? request.body : {};
    const query = parseForm(request.rawQuery);
    const idempotencyKey = request.headers['idempotency-key'] ?? null;
    const origin = { id: requestId, idempotencyKey };
    const { method, path } = request;
    /** The object `id` names, or Stripe's 404 `No such <kind>` for `param`. */
    const existing = <R>(records: { get(id: string): R | undefined }, id: string, kind: string, param: string): R => {
      const record = records.get(id);
      if (!record) throw noSuchObject(kind, id, param, 404);
      return record;
    };
    /** Sessions are looked up with findSession, which applies a passed expires_at first. */
    const existingSession = (sessionId: string): SessionRecord =>
      existing({ get: findSession }, sessionId, 'checkout.session', 'session');
    let id: string | undefined;

    if (path === '/v1/checkout/sessions') {
      if (method === 'POST') return { status: 200, body: createSession(form) };
      if (method === 'GET') return { status: 200, body: listSessions(query) };
    }
    id = pathParam(request, 'GET', /^\/v1\/checkout\/sessions\/([^/]+)$/);
    if (id !== undefined) {
      return { status: 200, body: renderSession(existingSession(id), expandList(query.expand)) };
    }
    id = pathParam(request, 'GET', /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/);
    if (id !== undefined) return { status: 200, body: renderLineItemList(existingSession(id)) };
    id = pathParam(request, 'POST', /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/);
    if (id !== undefined) return { status: 200, body: expireSessionNow(existingSession(id), origin) };
    if (path === '/v1/refunds' && method === 'POST') {
      return { status: 200, body: createRefund(form, { id: requestId, idempotencyKey }) };
    }
    id = pathParam(request, 'GET', /^\/v1\/refunds\/([^/]+)$/);
    if (id !== undefined) return { status: 200, body: renderRefund(existing(refunds, id, 'refund', 'refund')) };
    id = pathParam(request, 'GET', /^\/v1\/payment_intents\/([^/]+)$/);
    if (id !== undefined) {
      const pi = existing(paymentIntents, id, 'payment_intent', 'intent');
      return { status: 200, body: renderPaymentIntent(pi, expandList(query.expand)) };
    }
    id = pathParam(request, 'GET', /^\/v1\/charges\/([^/]+)$/);
    if (id !== undefined) return { status: 200, body: renderCharge(existing(charges, id, 'charge', 'charge')) };
    throw new StripeApiError(
      404,
      'invalid_request_error',
      `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    );
  }

  async function handle(request: RecordedRequest): Promise<HandlerResult> {
    if (request.path.startsWith('/v1/')) return handleApiWithIdempotency(request);
    return handlePage(request);
  }

  function handleApiWithIdempotency(request: RecordedRequest): Reply {
    const requestId = `req_${randomString(14)}`;
    const baseHeaders: Record<string, string> = { 'request-id': requestId };
    if (request.headers['stripe-version']) baseHeaders['stripe-version'] = request.headers['stripe-version'];
    const key = request.method === 'POST' ? request.headers['idempotency-key'] : undefined;
    const route = `${request.method} ${request.path}`;
    const fingerprint = canonicalJson(request.body ?? {});
    if (key !== undefined) {
      baseHeaders['idempotency-key'] = key;
      const previous = idempotency.get(key);
      if (previous) {
        const reuseError = (misuse: string) =>
          stripeErrorReply(
            new StripeApiError(
              400,
              'idempotency_error',
              `Keys for idempotent requests can only be used ${misuse}. Try using a key other than '${key}' if you meant to execute a different request.`,
            ),
            baseHeaders,
          );
        if (previous.route !== route) {
          return reuseError(`for the same endpoint they were first used for ('${previous.route}' vs '${route}')`);
        }
        if (previous.fingerprint !== fingerprint) return reuseError('with the same parameters they were first used with');
        return jsonTextReply(previous.status, previous.body, {
          ...baseHeaders,
          'idempotent-replayed': 'true',
          'original-request': previous.requestId,
        });
      }
    }
    try {
      const result = handleApi(request, requestId);
      const body = JSON.stringify(result.body, null, 2);
      if (key !== undefined) idempotency.set(key, { route, fingerprint, status: result.status, body, requestId });
      return jsonTextReply(result.status, body, baseHeaders);
    } catch (error) {
      if (error instanceof StripeApiError) return stripeErrorReply(error, baseHeaders);
      throw error;
    }
  }

  async function handlePage(request: RecordedRequest): Promise<HandlerResult> {
    const m = /^\/pay\/([^/]+)$/.exec(request.path);
    if (m) {
      const sessionId = decodeURIComponent(m[1] ?? '');
      if (request.method === 'GET') {
        const session = findSession(sessionId);
        if (!session) return htmlReply(404, pageShell('Not found', `<p>No such Checkout Session.</p>`));
        return htmlReply(session.status === 'open' ? 200 : 410, paymentPage(session, null));
      }
      if (request.method === 'POST') {
        const form = isFormObject(request.body) ? request.body : {};
        const card = typeof form.card === 'string' ? form.card : '';
        const email = typeof form.email === 'string' ? form.email : undefined;
        const name = typeof form.name === 'string' ? form.name : undefined;
        const result = await pay(sessionId, { number: card, email, name });
        if (result.outcome === 'succeeded') {
          return redirectReply(result.redirectUrl ?? `${publicUrl}/pay/${encodeURIComponent(sessionId)}/complete`);
        }
        const session = sessions.get(sessionId);
        if (!session) return htmlReply(404, pageShell('Not found', `<p>No such Checkout Session.</p>`));
        if (result.outcome === 'declined') return htmlReply(402, paymentPage(session, result.message));
        return htmlReply(result.reason === 'session_not_open' ? 410 : 400, paymentPage(session, result.message));
      }
    }
    const done = /^\/pay\/([^/]+)\/complete$/.exec(request.path);
    if (done && request.method === 'GET') {
      return htmlReply(200, pageShell('Payment complete', '<p>Payment complete. The session had no success_url.</p>'));
    }
    const receiptId = pathParam(request, 'GET', /^\/receipts\/([^/]+)$/);
    if (receiptId !== undefined) {
      const charge = charges.get(receiptId);
      if (!charge) return htmlReply(404, pageShell('Not found', '<p>No such receipt.</p>'));
      return htmlReply(
        200,
        pageShell(
          'Receipt',
          `<p>Receipt for ${escapeHtml(formatMoney(charge.amount, charge.currency))} (${escapeHtml(charge.id)})</p>`,
        ),
      );
    }
    return textReply(404, 'Not found');
  }

  function paymentPage(session: SessionRecord, message: string | null): string {
    const rows = session.lineItems
      .map(
        (item) =>
          `<tr><td>${escapeHtml(item.name)}</td><td>${item.quantity}</td><td>${escapeHtml(formatMoney(item.unitAmount * item.quantity, item.currency))}</td></tr>`,
      )
      .join('');
    const total = escapeHtml(formatMoney(session.amountTotal, session.currency));
    const notice = message ? `<p class="error" role="alert" id="message">${escapeHtml(message)}</p>` : '';
    let body: string;
    if (session.status === 'open') {
      const cancel = session.cancelUrl
        ? `<p><a id="cancel" href="${escapeHtml(session.cancelUrl)}">Cancel and go back</a></p>`
        : '';
      body = `
        <table><thead><tr><th>Item</th><th>Qty</th><th>Amount</th></tr></thead><tbody>${rows}</tbody></table>
        <p>Total: <strong id="total">${total}</strong></p>
        ${notice}
        <form method="post" action="/pay/${encodeURIComponent(session.id)}">
          <label>Email <input name="email" type="email" value="${escapeHtml(session.customerEmail ?? '')}"></label>
          <label>Name on card <input name="name" autocomplete="cc-name"></label>
          <label>Card number <input name="card" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required></label>
          <button type="submit">Pay ${total}</button>
        </form>
        <p class="hint">Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.</p>
        ${cancel}`;
    } else {
      const text =
        session.status === 'complete' ? 'This Checkout Session has already been paid.' : 'This Checkout Session has expired.';
      body = `${notice}<p id="status">${escapeHtml(text)}</p>`;
    }
    return pageShell(`Pay ${total}`, body);
  }

  // ----- server -----

  const server = await SandboxServer.start({
    name: 'stripe',
    port: options.port,
    host: options.host,
    publicUrl: options.publicUrl,
    handle,
    renderFailure: (failure) => stripeErrorReply(injectedStripeError(failure), { 'request-id': `req_${randomString(14)}` }),
    onReset: () => {
      sessions.clear();
      paymentIntents.clear();
      charges.clear();
      refunds.clear();
      refundedByPaymentIntent.clear();
      idempotency.clear();
      events.clear();
    },
    describe: () => ({
      sessions: [...sessions.values()].map((s) => renderSession(s)),
      refundedByPaymentIntent: Object.fromEntries(refundedByPaymentIntent),
    }),
  });
  publicUrl = server.publicUrl;

  return sandboxHandle<Omit<StripeSandbox, keyof SandboxBasics>>(server, {
    get webhookUrl() {
      return webhookUrl;
    },
    get webhookSecret() {
      return webhookSecret;
    },
    setWebhookTarget(url, secret) {
      webhookUrl = url;
      if (secret !== undefined) webhookSecret = secret;
    },
    pay,
    buildEvent: (type, object) => buildEvent(type, object),
    signPayload,
    deliverEvent: (event) => events.deliver(event),
    resendEvent: (eventId) => events.resend(eventId),
    async expireSession(sessionId) {
      const session = findSession(sessionId);
      if (!session) throw new Error(`stripe sandbox: no session ${sessionId}`);
      const rendered = expireSessionNow(session, { id: null, idempotencyKey: null });
      await server.idle();
      return rendered;
    },
    refundedAmount: (paymentIntentId) => refundedByPaymentIntent.get(paymentIntentId) ?? 0,
    getSession(sessionId) {
      const session = findSession(sessionId);
      return session ? renderSession(session) : undefined;
    },
    getPaymentIntent(paymentIntentId) {
      const pi = paymentIntents.get(paymentIntentId);
      return pi ? renderPaymentIntent(pi) : undefined;
    },
    getCharge(chargeId) {
      const charge = charges.get(chargeId);
      return charge ? renderCharge(charge) : undefined;
    },
    listSessions: () => [...sessions.values()].map((s) => renderSession(s)),
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

function stripeErrorReply(error: StripeApiError, headers: Record<string, string>): Reply {
  const body: JsonObject = { type: error.type, message: error.message };
  if (error.code) {
    body.code = error.code;
    body.doc_url = `https://stripe.com/docs/error-codes/${error.code.replaceAll('_', '-')}`;
  }
  if (error.param) body.param = error.param;
  Object.assign(body, error.extra);
  return jsonReply(error.status, { error: body }, headers);
}

function injectedStripeError(failure: InjectedFailure): StripeApiError {
  const status = failure.status ?? (failure.code === 'card_declined' ? 402 : failure.code ? 400 : 500);
  if (status >= 500) {
    return new StripeApiError(
      status,
      'api_error',
      failure.message ?? 'An unknown error occurred (injected by the sandbox).',
      failure.code,
    );
  }
  if (status === 402) {
    const code = failure.code ?? 'card_declined';
    return new StripeApiError(status, 'card_error', failure.message ?? 'Your card was declined.', code, undefined, {
      decline_code: 'generic_decline',
    });
  }
  if (status === 429) {
    return new StripeApiError(
      status,
      'invalid_request_error',
      failure.message ?? 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
      failure.code ?? 'rate_limit',
    );
  }
  if (status === 401) {
    return new StripeApiError(status, 'invalid_request_error', failure.message ?? 'Invalid API Key provided.', failure.code);
  }
  return new StripeApiError(
    status,
    'invalid_request_error',
    failure.message ?? 'Invalid request (injected by the sandbox).',
    failure.code,
  );
}

/** Same object with `id` and `object` as the first keys, the order Stripe's JSON has. */
function idFirst(value: StripeObject): StripeObject {
  const { id = null, object = null, ...rest } = value;
  return { id, object, ...rest };
}

function isFormObject(value: JsonValue): value is FormObject {
  return isJsonObject(value);
}

/** A 400 invalid_request_error (the most common Stripe error). */
function invalidRequest(message: string, code?: string, param?: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', message, code, param);
}

function unknownParameter(key: string): StripeApiError {
  return invalidRequest(`Received unknown parameter: ${key}`, 'parameter_unknown', key);
}

function missingParameter(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, 'parameter_missing', param);
}

function invalidArray(param: string): StripeApiError {
  return invalidRequest(`Invalid array`, 'parameter_invalid_array', param);
}

function noSuchObject(kind: string, id: string, param: string, status: number): StripeApiError {
  return new StripeApiError(status, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);
}

function asObject(value: FormValue, param: string): { [key: string]: FormValue } {
  if (typeof value === 'object' && !Array.isArray(value)) return value;
  throw invalidRequest(`Invalid object`, 'parameter_invalid_object', param);
}

function optionalString(value: FormValue | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw invalidRequest(`Invalid string: ${param} must be a string`, 'parameter_invalid_string', param);
  }
  return value === '' ? undefined : value;
}

function optionalInteger(value: FormValue | undefined, param: string): number | undefined {
  const text = optionalString(value, param);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw invalidRequest(`Invalid integer: ${text}`, 'parameter_invalid_integer', param);
  }
  return Number(text);
}

function optionalUrl(value: FormValue | undefined, param: string): string | null {
  const text = optionalString(value, param);
  if (text === undefined) return null;
  if (!isHttpUrl(text.replaceAll('{CHECKOUT_SESSION_ID}', 'x'))) throw invalidRequest('Not a valid URL', 'url_invalid', param);
  return text;
}

function parseMetadata(value: FormValue | undefined, param: string): Record<string, string> {
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest('Invalid object', 'parameter_invalid_object', param);
  }
  const out: Record<string, string> = {};
  const entries = Object.entries(value);
  if (entries.length > 50) {
    throw invalidRequest('You can specify up to 50 keys in metadata.', 'parameter_invalid_object', param);
  }
  for (const [key, v] of entries) {
    if (typeof v !== 'string') {
      throw invalidRequest(`Invalid value for metadata key ${key}`, 'parameter_invalid_string', `${param}[${key}]`);
    }
    if (key.length > 40) {
      throw invalidRequest('Metadata keys can be at most 40 characters long.', 'parameter_invalid_string', `${param}[${key}]`);
    }
    if (v.length > 500) {
      throw invalidRequest('Metadata values can be at most 500 characters long.', 'parameter_invalid_string', `${param}[${key}]`);
    }
    if (v !== '') out[key] = v;
  }
  return out;
}

function expandList(value: FormValue | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return Object.values(value).filter((v): v is string => typeof v === 'string');
}

function formatMoney(amount: number, currency: string): string {
  const symbol = CURRENCY_SYMBOL[currency] ?? '';
  const major = minorToDecimal(amount, ZERO_DECIMAL.has(currency) ? 0 : 2);
  return symbol ? `${symbol}${major}` : `${major} ${currency.toUpperCase()}`;
}

function redactKey(key: string): string {
  if (key.length <= 12) return '****';
  return `${key.slice(0, 8)}****${key.slice(-4)}`;
}

function luhnValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const PAGE_LOOK: PageLook = {
  sandbox: 'Stripe sandbox',
  hint: 'Stripe sandbox (local, test mode)',
  css: 'button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}\ntable{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.2rem 0}',
};

function pageShell(title: string, body: string): string {
  return sandboxPage(PAGE_LOOK, title, body);
}

export type { FailNextOptions, RecordedRequest, WebhookDelivery };

/**
 * Local PayPal REST API sandbox (never deployed): OAuth2 client credentials, Orders v2 (create, get,
 * capture), Payments v2 (capture refunds, get capture/refund), webhook signing with a generated
 * RSA key and self-signed certificate (served like PayPal's cert URLs) and
 * POST /v1/notifications/verify-webhook-signature. Error bodies and issue descriptions come from
 * PayPal's OpenAPI specs (sandbox/fixtures/paypal-errors.json).
 *
 * Buyer approval page: GET/POST /approve/:orderId. Control endpoints under /__sandbox/ (http-kit.ts).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomUUID,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { generate as generateCertificate } from 'selfsigned';
import { paypalErrorCatalog } from './fixtures/index.js';
import {
  basicCredentials,
  bearerToken,
  canonicalJson,
  EventLog,
  escapeHtml,
  type FailNextOptions,
  type HandlerResult,
  htmlReply,
  type InjectedFailure,
  isHttpUrl,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonReply,
  minorToDecimal,
  type PageLook,
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
  UPPER_ALPHANUMERIC,
  type WebhookDelivery,
} from './http-kit.js';

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
}

// ---------------------------------------------------------------------------------------------

interface PayPalErrorDetail {
  issue: string;
  field?: string;
  value?: string;
  location?: 'body' | 'path' | 'query' | 'header';
  description?: string;
}

class PayPalApiError extends Error {
  constructor(
    readonly status: number,
    readonly details: PayPalErrorDetail[] = [],
    message?: string,
  ) {
    super(message ?? 'PayPal API error');
  }
}

interface PurchaseUnitRecord {
  referenceId: string;
  currency: string;
  valueMinor: number;
  /** The amount object as sent (breakdown included), for rendering. */
  amount: JsonObject;
  customId: string | null;
  invoiceId: string | null;
  description: string | null;
  softDescriptor: string | null;
  items: JsonValue[] | null;
  captureIds: string[];
}

interface PayerRecord {
  payerId: string;
  email: string;
  givenName: string;
  surname: string;
}

type OrderStatus = 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'COMPLETED';

interface OrderRecord {
  id: string;
  status: OrderStatus;
  createTime: string;
  updateTime: string;
  purchaseUnits: PurchaseUnitRecord[];
  returnUrl: string | null;
  cancelUrl: string | null;
  brandName: string | null;
  /** Created with payment_source.paypal (modern flow: PAYER_ACTION_REQUIRED + payer-action link). */
  paymentSourceFlow: boolean;
  payer: PayerRecord | null;
}

type CaptureStatus = 'COMPLETED' | 'PARTIALLY_REFUNDED' | 'REFUNDED';

interface CaptureRecord {
  id: string;
  orderId: string;
  status: CaptureStatus;
  currency: string;
  amountMinor: number;
  feeMinor: number;
  refundedMinor: number;
  invoiceId: string | null;
  customId: string | null;
  createTime: string;
  updateTime: string;
  refundIds: string[];
}

interface RefundRecord {
  id: string;
  captureId: string;
  currency: string;
  amountMinor: number;
  invoiceId: string | null;
  customId: string | null;
  noteToPayer: string | null;
  createTime: string;
  updateTime: string;
}

interface IdempotencyRecord {
  kind: 'order' | 'capture' | 'refund';
  id: string;
}

interface ErrorCatalog {
  errors: Record<string, { name: string; message: string }>;
  issues: Record<string, string>;
}

const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);
const DEFAULT_MERCHANT = { email_address: 'merchant@boulderfest.example', merchant_id: 'SBXMERCHANT7Q' };

function loadErrorCatalog(): ErrorCatalog {
  return paypalErrorCatalog();
}

const generateRsaKeyPair = promisify(generateKeyPair);

// ---------------------------------------------------------------------------------------------

export async function startPayPalSandbox(options: PayPalSandboxOptions = {}): Promise<PayPalSandbox> {
  const catalog = loadErrorCatalog();
  const now = options.now ?? (() => new Date());
  const timestamp = (): string => isoSeconds(now());
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 10_000;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 32_400;
  const blockDuplicateInvoiceId = options.blockDuplicateInvoiceId ?? true;
  let webhookUrl = options.webhookUrl;
  let webhookId = options.webhookId;

  // Signing key + self-signed certificate (valid from a day before "now" for a year).
  const keys = await generateRsaKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const certificate = await generateCertificate([{ name: 'commonName', value: 'messageverificationcerts.sandbox.paypal.com' }], {
    keyPair: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    algorithm: 'sha256',
    notBeforeDate: new Date(now().getTime() - 24 * 3600 * 1000),
    notAfterDate: new Date(now().getTime() + 365 * 24 * 3600 * 1000),
  });
  const privateKey: KeyObject = createPrivateKey(keys.privateKey);
  const publicKey: KeyObject = createPublicKey(keys.publicKey);
  const certName = `CERT-360caa42-fca2a594-${randomString(8, '0123456789abcdef')}`;

  const orders = new Map<string, OrderRecord>();
  const captures = new Map<string, CaptureRecord>();
  const refunds = new Map<string, RefundRecord>();
  const tokens = new Map<string, number>();
  const idempotency = new Map<string, IdempotencyRecord>();
  const events = new EventLog({ name: 'paypal', serialize: (event) => JSON.stringify(event), send: sendStored });

  let publicUrl = '';
  let certUrl = '';

  // ----- errors -----

  function errorBody(status: number, details: PayPalErrorDetail[], message?: string): { body: JsonObject; debugId: string } {
    const known = catalog.errors[String(status)] ?? {
      name: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'INVALID_REQUEST',
      message: 'Request failed.',
    };
    const debugId = randomString(13, '0123456789abcdef');
    const body: JsonObject = { name: known.name, message: message ?? known.message, debug_id: debugId };
    if (details.length > 0) {
      body.details = details.map((d) => {
        const out: JsonObject = {};
        if (d.field !== undefined) out.field = d.field;
        if (d.value !== undefined) out.value = d.value;
        if (d.location !== undefined) out.location = d.location;
        out.issue = d.issue;
        out.description = d.description ?? catalog.issues[d.issue] ?? d.issue;
        return out;
      });
    }
    const anchor = details[0]?.issue ?? known.name;
    body.links = [
      {
        href: `https://developer.paypal.com/api/rest/reference/orders/v2/errors/#${anchor}`,
        rel: 'information_link',
        method: 'GET',
      },
    ];
    return { body, debugId };
  }

  function errorReply(error: PayPalApiError): Reply {
    const { body, debugId } = errorBody(
      error.status,
      error.details,
      error.message === 'PayPal API error' ? undefined : error.message,
    );
    return jsonReply(error.status, body, { 'paypal-debug-id': debugId });
  }

  function issue(
    status: number,
    code: string,
    field?: string,
    value?: string,
    location: PayPalErrorDetail['location'] = 'body',
  ): PayPalApiError {
    const detail: PayPalErrorDetail = { issue: code };
    if (field !== undefined) {
      detail.field = field;
      detail.location = location;
    }
    if (value !== undefined) detail.value = value;
    return new PayPalApiError(status, [detail]);
  }

  /** The record `id` names, or PayPal's 404 INVALID_RESOURCE_ID for the path parameter `field`. */
  function existing<R>(records: { get(id: string): R | undefined }, id: string, field: string): R {
    const record = records.get(id);
    if (!record) throw issue(404, 'INVALID_RESOURCE_ID', field, id, 'path');
    return record;
  }

  // ----- money -----

  function parseAmount(value: JsonValue | undefined, field: string): { currency: string; minor: number; raw: JsonObject } {
    if (!isJsonObject(value)) throw issue(400, 'MISSING_REQUIRED_PARAMETER', field);
    const currency = value.currency_code;
    if (currency === undefined) throw issue(400, 'MISSING_REQUIRED_PARAMETER', `${field}/currency_code`);
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
      throw issue(422, 'INVALID_CURRENCY_CODE', `${field}/currency_code`, String(currency));
    }
    const minor = parseMoneyValue(value.value, currency, `${field}/value`);
    return { currency, minor, raw: { currency_code: currency, value: String(value.value) } };
  }

  function parseMoneyValue(value: JsonValue | undefined, currency: string, field: string): number {
    if (value === undefined) throw issue(400, 'MISSING_REQUIRED_PARAMETER', field);
    if (typeof value !== 'string' || value.length > 32 || !/^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$/.test(value)) {
      throw issue(400, 'INVALID_PARAMETER_SYNTAX', field, String(value));
    }
    if (value.startsWith('-')) throw issue(422, 'CANNOT_BE_NEGATIVE', field, value);
    const [whole = '0', fraction = ''] = value.split('.');
    const decimals = ZERO_DECIMAL.has(currency) ? 0 : 2;
    if (decimals === 0 && fraction.length > 0) throw issue(422, 'DECIMALS_NOT_SUPPORTED', field, value);
    if (fraction.length > decimals) throw issue(422, 'DECIMAL_PRECISION', field, value);
    const minor = Number(whole || '0') * 10 ** decimals + Number(fraction.padEnd(decimals, '0') || '0');
    if (!Number.isSafeInteger(minor)) throw issue(422, 'MAX_VALUE_EXCEEDED', field, value);
    return minor;
  }

  function money(currency: string, minor: number): JsonObject {
    return { currency_code: currency, value: formatMinor(currency, minor) };
  }

  // ----- rendering -----

  function orderLinks(order: OrderRecord): JsonValue[] {
    const self = { href: `${publicUrl}/v2/checkout/orders/${order.id}`, rel: 'self', method: 'GET' };
    if (order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED') {
      const approve = `${publicUrl}/approve/${order.id}`;
      if (order.paymentSourceFlow) return [self, { href: approve, rel: 'payer-action', method: 'GET' }];
      return [
        self,
        { href: approve, rel: 'approve', method: 'GET' },
        { href: `${publicUrl}/v2/checkout/orders/${order.id}`, rel: 'update', method: 'PATCH' },
        { href: `${publicUrl}/v2/checkout/orders/${order.id}/capture`, rel: 'capture', method: 'POST' },
      ];
    }
    if (order.status === 'APPROVED') {
      return [
        self,
        { href: `${publicUrl}/v2/checkout/orders/${order.id}`, rel: 'update', method: 'PATCH' },
        { href: `${publicUrl}/v2/checkout/orders/${order.id}/capture`, rel: 'capture', method: 'POST' },
      ];
    }
    return [self];
  }

  function renderPayer(payer: PayerRecord): { paymentSource: JsonObject; payer: JsonObject } {
    return {
      paymentSource: {
        paypal: {
          email_address: payer.email,
          account_id: payer.payerId,
          account_status: 'VERIFIED',
          name: { given_name: payer.givenName, surname: payer.surname },
          address: { country_code: 'US' },
        },
      },
      payer: {
        name: { given_name: payer.givenName, surname: payer.surname },
        email_address: payer.email,
        payer_id: payer.payerId,
        address: { country_code: 'US' },
      },
    };
  }

  function renderCapture(capture: CaptureRecord, withRelatedIds = false): PayPalObject {
    const out: PayPalObject = {
      id: capture.id,
      status: capture.status,
      amount: money(capture.currency, capture.amountMinor),
      final_capture: true,
      seller_protection: { status: 'ELIGIBLE', dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'] },
      seller_receivable_breakdown: {
        gross_amount: money(capture.currency, capture.amountMinor),
        paypal_fee: money(capture.currency, capture.feeMinor),
        net_amount: money(capture.currency, capture.amountMinor - capture.feeMinor),
      },
    };
    if (capture.invoiceId !== null) out.invoice_id = capture.invoiceId;
    if (capture.customId !== null) out.custom_id = capture.customId;
    if (withRelatedIds) out.supplementary_data = { related_ids: { order_id: capture.orderId } };
    out.links = [
      { href: `${publicUrl}/v2/payments/captures/${capture.id}`, rel: 'self', method: 'GET' },
      { href: `${publicUrl}/v2/payments/captures/${capture.id}/refund`, rel: 'refund', method: 'POST' },
      { href: `${publicUrl}/v2/checkout/orders/${capture.orderId}`, rel: 'up', method: 'GET' },
    ];
    out.create_time = capture.createTime;
    out.update_time = capture.updateTime;
    return out;
  }

  function renderRefund(refund: RefundRecord, representation: boolean): PayPalObject {
    const links: JsonValue[] = [
      { href: `${publicUrl}/v2/payments/refunds/${refund.id}`, rel: 'self', method: 'GET' },
      { href: `${publicUrl}/v2/payments/captures/${refund.captureId}`, rel: 'up', method: 'GET' },
    ];
    if (!representation) return { id: refund.id, status: 'COMPLETED', links };
    const capture = captures.get(refund.captureId);
    const out: PayPalObject = {
      id: refund.id,
      amount: money(refund.currency, refund.amountMinor),
      seller_payable_breakdown: {
        gross_amount: money(refund.currency, refund.amountMinor),
        paypal_fee: money(refund.currency, 0),
        net_amount: money(refund.currency, refund.amountMinor),
        total_refunded_amount: money(refund.currency, capture?.refundedMinor ?? refund.amountMinor),
      },
      status: 'COMPLETED',
    };
    if (refund.invoiceId !== null) out.invoice_id = refund.invoiceId;
    if (refund.customId !== null) out.custom_id = refund.customId;
    if (refund.noteToPayer !== null) out.note_to_payer = refund.noteToPayer;
    out.create_time = refund.createTime;
    out.update_time = refund.updateTime;
    out.links = links;
    return out;
  }

  function renderPurchaseUnit(unit: PurchaseUnitRecord): PayPalObject {
    const out: PayPalObject = { reference_id: unit.referenceId, amount: unit.amount, payee: { ...DEFAULT_MERCHANT } };
    if (unit.description !== null) out.description = unit.description;
    if (unit.customId !== null) out.custom_id = unit.customId;
    if (unit.invoiceId !== null) out.invoice_id = unit.invoiceId;
    if (unit.softDescriptor !== null) out.soft_descriptor = unit.softDescriptor;
    if (unit.items !== null) out.items = unit.items;
    if (unit.captureIds.length > 0) out.payments = { captures: capturesOf(unit) };
    return out;
  }

  function capturesOf(unit: PurchaseUnitRecord): JsonValue[] {
    return unit.captureIds.flatMap((id) => {
      const capture = captures.get(id);
      return capture ? [renderCapture(capture)] : [];
    });
  }

  /** Full order representation (GET, Prefer: return=representation, webhook resource). */
  function renderOrder(order: OrderRecord): PayPalObject {
    const out: PayPalObject = { id: order.id, intent: 'CAPTURE', status: order.status };
    if (order.payer) out.payment_source = renderPayer(order.payer).paymentSource;
    out.purchase_units = order.purchaseUnits.map(renderPurchaseUnit);
    if (order.payer) out.payer = renderPayer(order.payer).payer;
    out.create_time = order.createTime;
    if (order.updateTime !== order.createTime) out.update_time = order.updateTime;
    out.links = orderLinks(order);
    return out;
  }

  /** Default (minimal) answer of create: id, status, links. */
  function renderOrderMinimal(order: OrderRecord): PayPalObject {
    return { id: order.id, status: order.status, links: orderLinks(order) };
  }

  /** Default answer of capture: id, status, payment_source, purchase_units with their captures, payer, links. */
  function renderCaptureResult(order: OrderRecord): PayPalObject {
    const out: PayPalObject = { id: order.id, status: order.status };
    if (order.payer) out.payment_source = renderPayer(order.payer).paymentSource;
    out.purchase_units = order.purchaseUnits.map((unit) => ({
      reference_id: unit.referenceId,
      payments: { captures: capturesOf(unit) },
    }));
    if (order.payer) out.payer = renderPayer(order.payer).payer;
    out.links = orderLinks(order);
    return out;
  }

  // ----- events and webhooks -----

  function buildEvent(eventType: string, resourceType: string, resource: PayPalObject, summary?: string): PayPalObject {
    const id = `WH-${randomString(17, UPPER_ALPHANUMERIC)}-${randomString(17, UPPER_ALPHANUMERIC)}`;
    const event: PayPalObject = {
      id,
      event_version: '1.0',
      create_time: now().toISOString(),
      resource_type: resourceType,
      resource_version: '2.0',
      event_type: eventType,
      summary: summary ?? `${eventType} event`,
      resource,
      links: [
        { href: `${publicUrl}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' },
        { href: `${publicUrl}/v1/notifications/webhooks-events/${id}/resend`, rel: 'resend', method: 'POST' },
      ],
    };
    events.record(event);
    return event;
  }

  function signPayload(rawBody: string, signOptions: PayPalSignOptions = {}): PayPalSignatureHeaders {
    const id = signOptions.webhookId ?? webhookId;
    if (!id) throw new Error('paypal sandbox: no webhook id (pass webhookId or options.webhookId)');
    const transmissionId = signOptions.transmissionId ?? randomUUID();
    const transmissionTime = isoSeconds(signOptions.transmissionTime ?? now());
    const checksum = crc32(Buffer.from(rawBody, 'utf8'));
    const message = `${transmissionId}|${transmissionTime}|${id}|${checksum}`;
    const signature = cryptoSign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
    return {
      'PAYPAL-TRANSMISSION-ID': transmissionId,
      'PAYPAL-TRANSMISSION-TIME': transmissionTime,
      'PAYPAL-TRANSMISSION-SIG': signature,
      'PAYPAL-CERT-URL': certUrl,
      'PAYPAL-AUTH-ALGO': 'SHA256withRSA',
    };
  }

  async function sendStored(stored: StoredEvent): Promise<WebhookDelivery> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'PayPal/AUHD-214.0-58483442',
      Accept: '*/*',
    };
    if (webhookId) Object.assign(headers, signPayload(stored.payload));
    return server.deliver({
      url: webhookUrl,
      eventId: String(stored.event.id),
      eventType: String(stored.event.event_type),
      payload: stored.payload,
      headers,
      timeoutMs: webhookTimeoutMs,
    });
  }

  function emitInBackground(eventType: string, resourceType: string, resource: PayPalObject, summary: string): void {
    server.track(events.deliver(buildEvent(eventType, resourceType, resource, summary)));
  }

  // ----- buyer approval -----

  async function approve(orderId: string, approveOptions: PayPalApproveOptions = {}): Promise<PayPalApproveResult> {
    const order = orders.get(orderId);
    if (!order) return { outcome: 'rejected', reason: 'no_such_order', message: `No such order: ${orderId}` };
    if (order.status !== 'CREATED' && order.status !== 'PAYER_ACTION_REQUIRED') {
      return {
        outcome: 'rejected',
        reason: 'not_approvable',
        message: `Order ${orderId} is ${order.status} and cannot be approved.`,
      };
    }
    const payerId = approveOptions.payerId ?? randomString(13, UPPER_ALPHANUMERIC);
    order.payer = {
      payerId,
      email: approveOptions.payerEmail ?? 'buyer@example.com',
      givenName: approveOptions.givenName ?? 'Sandbox',
      surname: approveOptions.surname ?? 'Buyer',
    };
    order.status = 'APPROVED';
    order.updateTime = timestamp();
    const rendered = renderOrder(order);
    const event = buildEvent('CHECKOUT.ORDER.APPROVED', 'checkout-order', rendered, 'An order has been approved by buyer');
    const delivery = await events.deliver(event);
    let redirectUrl: string | null = null;
    if (order.returnUrl) {
      const url = new URL(order.returnUrl);
      url.searchParams.set('token', order.id);
      url.searchParams.set('PayerID', payerId);
      redirectUrl = url.toString();
    }
    return { outcome: 'approved', order: rendered, event, delivery, payerId, redirectUrl };
  }

  // ----- API handlers -----

  function createOrder(body: JsonObject): OrderRecord {
    const intent = body.intent;
    if (intent === undefined) throw issue(400, 'MISSING_REQUIRED_PARAMETER', '/intent');
    if (intent === 'AUTHORIZE') throw issue(422, 'UNSUPPORTED_INTENT', '/intent', 'AUTHORIZE');
    if (intent !== 'CAPTURE') throw issue(400, 'INVALID_PARAMETER_VALUE', '/intent', String(intent));
    const units = body.purchase_units;
    if (units === undefined) throw issue(400, 'MISSING_REQUIRED_PARAMETER', '/purchase_units');
    if (!Array.isArray(units)) throw issue(400, 'INVALID_PARAMETER_SYNTAX', '/purchase_units');
    if (units.length === 0) throw issue(400, 'INVALID_ARRAY_MIN_ITEMS', '/purchase_units');
    if (units.length > 10) throw issue(400, 'INVALID_ARRAY_MAX_ITEMS', '/purchase_units');

    const seenReferences = new Set<string>();
    const purchaseUnits = units.map((value, index): PurchaseUnitRecord => {
      if (!isJsonObject(value)) throw issue(400, 'INVALID_PARAMETER_SYNTAX', `/purchase_units/${index}`);
      const referenceId =
        optionalText(value.reference_id, `/purchase_units/${index}/reference_id`, 256) ?? (units.length > 1 ? null : 'default');
      if (referenceId === null) throw issue(422, 'REFERENCE_ID_REQUIRED', `/purchase_units/${index}/reference_id`);
      if (seenReferences.has(referenceId))
        throw issue(422, 'DUPLICATE_REFERENCE_ID', `/purchase_units/${index}/reference_id`, referenceId);
      seenReferences.add(referenceId);
      const base = `/purchase_units/@reference_id=='${referenceId}'`;
      return parsePurchaseUnit(value, referenceId, base);
    });
    const currencies = new Set(purchaseUnits.map((u) => u.currency));
    if (currencies.size > 1) throw issue(422, 'MULTI_CURRENCY_ORDER', '/purchase_units');

    let returnUrl: string | null = null;
    let cancelUrl: string | null = null;
    let brandName: string | null = null;
    let paymentSourceFlow = false;
    const paymentSource = body.payment_source;
    if (paymentSource !== undefined) {
      if (!isJsonObject(paymentSource) || !isJsonObject(paymentSource.paypal)) {
        throw issue(422, 'NOT_SUPPORTED', '/payment_source', undefined);
      }
      paymentSourceFlow = true;
      const ctx = paymentSource.paypal.experience_context;
      if (ctx !== undefined) {
        if (!isJsonObject(ctx)) throw issue(400, 'INVALID_PARAMETER_SYNTAX', '/payment_source/paypal/experience_context');
        returnUrl = optionalUrl(ctx.return_url, '/payment_source/paypal/experience_context/return_url');
        cancelUrl = optionalUrl(ctx.cancel_url, '/payment_source/paypal/experience_context/cancel_url');
        brandName = optionalText(ctx.brand_name, '/payment_source/paypal/experience_context/brand_name', 127);
      }
    }
    const appContext = body.application_context;
    if (appContext !== undefined) {
      if (!isJsonObject(appContext)) throw issue(400, 'INVALID_PARAMETER_SYNTAX', '/application_context');
      returnUrl = returnUrl ?? optionalUrl(appContext.return_url, '/application_context/return_url');
      cancelUrl = cancelUrl ?? optionalUrl(appContext.cancel_url, '/application_context/cancel_url');
      brandName = brandName ?? optionalText(appContext.brand_name, '/application_context/brand_name', 127);
    }

    const created = timestamp();
    const order: OrderRecord = {
      id: randomString(17, UPPER_ALPHANUMERIC),
      status: paymentSourceFlow ? 'PAYER_ACTION_REQUIRED' : 'CREATED',
      createTime: created,
      updateTime: created,
      purchaseUnits,
      returnUrl,
      cancelUrl,
      brandName,
      paymentSourceFlow,
      payer: null,
    };
    orders.set(order.id, order);
    return order;
  }

  function parsePurchaseUnit(value: JsonObject, referenceId: string, base: string): PurchaseUnitRecord {
    const amount = parseAmount(value.amount, `${base}/amount`);
    const raw = value.amount;
    const amountObject: JsonObject = { ...amount.raw };
    const breakdownValue = isJsonObject(raw) ? raw.breakdown : undefined;
    const items = value.items;

    const parsedItems: { unitMinor: number; taxMinor: number; quantity: number }[] = [];
    if (items !== undefined) {
      if (!Array.isArray(items)) throw issue(400, 'INVALID_PARAMETER_SYNTAX', `${base}/items`);
      items.forEach((item, index) => {
        const field = `${base}/items/${index}`;
        if (!isJsonObject(item)) throw issue(400, 'INVALID_PARAMETER_SYNTAX', field);
        if (optionalText(item.name, `${field}/name`, 127) === null)
          throw issue(400, 'MISSING_REQUIRED_PARAMETER', `${field}/name`);
        optionalText(item.description, `${field}/description`, 127);
        optionalText(item.sku, `${field}/sku`, 127);
        const quantity = item.quantity;
        if (quantity === undefined) throw issue(400, 'MISSING_REQUIRED_PARAMETER', `${field}/quantity`);
        if (typeof quantity !== 'string' || !/^[1-9][0-9]{0,9}$/.test(quantity)) {
          throw issue(400, 'INVALID_PARAMETER_SYNTAX', `${field}/quantity`, String(quantity));
        }
        const unit = parseAmount(item.unit_amount, `${field}/unit_amount`);
        if (unit.currency !== amount.currency)
          throw issue(422, 'INVALID_CURRENCY_CODE', `${field}/unit_amount/currency_code`, unit.currency);
        let taxMinor = 0;
        if (item.tax !== undefined) {
          const tax = parseAmount(item.tax, `${field}/tax`);
          if (tax.currency !== amount.currency)
            throw issue(422, 'INVALID_CURRENCY_CODE', `${field}/tax/currency_code`, tax.currency);
          taxMinor = tax.minor;
        }
        parsedItems.push({ unitMinor: unit.minor, taxMinor, quantity: Number(quantity) });
      });
    }

    if (breakdownValue !== undefined) {
      if (!isJsonObject(breakdownValue)) throw issue(400, 'INVALID_PARAMETER_SYNTAX', `${base}/amount/breakdown`);
      const part = (name: string): number | null => {
        const v = breakdownValue[name];
        if (v === undefined) return null;
        const parsed = parseAmount(v, `${base}/amount/breakdown/${name}`);
        if (parsed.currency !== amount.currency) {
          throw issue(422, 'INVALID_CURRENCY_CODE', `${base}/amount/breakdown/${name}/currency_code`, parsed.currency);
        }
        return parsed.minor;
      };
      const itemTotal = part('item_total');
      const taxTotal = part('tax_total');
      const shipping = part('shipping') ?? 0;
      const handling = part('handling') ?? 0;
      const insurance = part('insurance') ?? 0;
      const shippingDiscount = part('shipping_discount') ?? 0;
      const discount = part('discount') ?? 0;
      if (parsedItems.length > 0) {
        if (itemTotal === null) throw issue(422, 'ITEM_TOTAL_REQUIRED', `${base}/amount/breakdown/item_total`);
        const sum = parsedItems.reduce((acc, i) => acc + i.unitMinor * i.quantity, 0);
        if (sum !== itemTotal) {
          throw issue(
            422,
            'ITEM_TOTAL_MISMATCH',
            `${base}/amount/breakdown/item_total/value`,
            formatMinor(amount.currency, itemTotal),
          );
        }
        const taxSum = parsedItems.reduce((acc, i) => acc + i.taxMinor * i.quantity, 0);
        if (taxSum > 0 && taxTotal === null) throw issue(422, 'TAX_TOTAL_REQUIRED', `${base}/amount/breakdown/tax_total`);
        if (taxTotal !== null && taxSum !== taxTotal && parsedItems.some((i) => i.taxMinor > 0)) {
          throw issue(
            422,
            'TAX_TOTAL_MISMATCH',
            `${base}/amount/breakdown/tax_total/value`,
            formatMinor(amount.currency, taxTotal),
          );
        }
      }
      const expected = (itemTotal ?? 0) + (taxTotal ?? 0) + shipping + handling + insurance - shippingDiscount - discount;
      if (expected !== amount.minor) {
        throw issue(422, 'AMOUNT_MISMATCH', `${base}/amount/value`, formatMinor(amount.currency, amount.minor));
      }
      amountObject.breakdown = breakdownValue;
    } else if (parsedItems.length > 0) {
      throw issue(422, 'ITEM_TOTAL_REQUIRED', `${base}/amount/breakdown/item_total`);
    }

    return {
      referenceId,
      currency: amount.currency,
      valueMinor: amount.minor,
      amount: amountObject,
      customId: optionalText(value.custom_id, `${base}/custom_id`, 127),
      invoiceId: optionalText(value.invoice_id, `${base}/invoice_id`, 127),
      description: optionalText(value.description, `${base}/description`, 127),
      softDescriptor: optionalText(value.soft_descriptor, `${base}/soft_descriptor`, 22),
      items: Array.isArray(items) ? items : null,
      captureIds: [],
    };
  }

  function captureOrder(orderId: string): OrderRecord {
    const order = existing(orders, orderId, 'order_id');
    if (order.status === 'COMPLETED') throw issue(422, 'ORDER_ALREADY_CAPTURED');
    if (order.status !== 'APPROVED') throw issue(422, 'ORDER_NOT_APPROVED');
    if (blockDuplicateInvoiceId) {
      for (const unit of order.purchaseUnits) {
        if (unit.invoiceId === null) continue;
        const duplicate = [...captures.values()].some((c) => c.invoiceId === unit.invoiceId);
        if (duplicate) throw issue(422, 'DUPLICATE_INVOICE_ID');
      }
    }
    const time = timestamp();
    for (const unit of order.purchaseUnits) {
      const capture: CaptureRecord = {
        id: randomString(17, UPPER_ALPHANUMERIC),
        orderId: order.id,
        status: 'COMPLETED',
        currency: unit.currency,
        amountMinor: unit.valueMinor,
        feeMinor: paypalFee(unit.currency, unit.valueMinor),
        refundedMinor: 0,
        invoiceId: unit.invoiceId,
        customId: unit.customId,
        createTime: time,
        updateTime: time,
        refundIds: [],
      };
      captures.set(capture.id, capture);
      unit.captureIds.push(capture.id);
      emitInBackground(
        'PAYMENT.CAPTURE.COMPLETED',
        'capture',
        renderCapture(capture, true),
        `Payment completed for ${formatMinor(capture.currency, capture.amountMinor)} ${capture.currency}`,
      );
    }
    order.status = 'COMPLETED';
    order.updateTime = time;
    return order;
  }

  function refundCapture(captureId: string, body: JsonObject): RefundRecord {
    const capture = existing(captures, captureId, 'capture_id');
    const remaining = capture.amountMinor - capture.refundedMinor;
    if (remaining <= 0) throw issue(422, 'CAPTURE_FULLY_REFUNDED');
    let amountMinor = remaining;
    if (body.amount !== undefined) {
      const amount = parseAmount(body.amount, '/amount');
      if (amount.currency !== capture.currency)
        throw issue(422, 'REFUND_CAPTURE_CURRENCY_MISMATCH', '/amount/currency_code', amount.currency);
      if (amount.minor <= 0)
        throw issue(422, 'CANNOT_BE_ZERO_OR_NEGATIVE', '/amount/value', formatMinor(amount.currency, amount.minor));
      if (amount.minor > remaining)
        throw issue(422, 'REFUND_AMOUNT_EXCEEDED', '/amount/value', formatMinor(amount.currency, amount.minor));
      amountMinor = amount.minor;
    }
    const time = timestamp();
    const refund: RefundRecord = {
      id: randomString(17, UPPER_ALPHANUMERIC),
      captureId,
      currency: capture.currency,
      amountMinor,
      invoiceId: optionalText(body.invoice_id, '/invoice_id', 127),
      customId: optionalText(body.custom_id, '/custom_id', 127),
      noteToPayer: optionalText(body.note_to_payer, '/note_to_payer', 255),
      createTime: time,
      updateTime: time,
    };
    refunds.set(refund.id, refund);
    capture.refundedMinor += amountMinor;
    capture.refundIds.push(refund.id);
    capture.status = capture.refundedMinor >= capture.amountMinor ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    capture.updateTime = time;
    emitInBackground(
      'PAYMENT.CAPTURE.REFUNDED',
      'refund',
      renderRefund(refund, true),
      `A ${formatMinor(refund.currency, refund.amountMinor)} ${refund.currency} capture payment was refunded`,
    );
    return refund;
  }

  function verifyWebhookSignature(body: JsonObject): PayPalObject {
    const required = [
      'auth_algo',
      'cert_url',
      'transmission_id',
      'transmission_sig',
      'transmission_time',
      'webhook_id',
      'webhook_event',
    ];
    for (const field of required) {
      if (body[field] === undefined || body[field] === null || body[field] === '')
        throw issue(400, 'MISSING_REQUIRED_PARAMETER', `/${field}`);
    }
    const strings = required.filter((f) => f !== 'webhook_event');
    for (const field of strings) {
      if (typeof body[field] !== 'string') throw issue(400, 'INVALID_PARAMETER_SYNTAX', `/${field}`);
    }
    const event = body.webhook_event;
    if (!isJsonObject(event)) throw issue(400, 'INVALID_PARAMETER_SYNTAX', '/webhook_event');
    const failure: PayPalObject = { verification_status: 'FAILURE' };
    if (body.auth_algo !== 'SHA256withRSA' || body.cert_url !== certUrl) return failure;
    // PayPal checks the signature against the event as it sent it: use the delivered bytes when the event matches.
    let raw = JSON.stringify(event);
    const stored = typeof event.id === 'string' ? events.get(event.id) : undefined;
    if (stored && canonicalJson(stored.event) === canonicalJson(event)) raw = stored.payload;
    const message = `${String(body.transmission_id)}|${String(body.transmission_time)}|${String(body.webhook_id)}|${crc32(Buffer.from(raw, 'utf8'))}`;
    let ok = false;
    try {
      ok = cryptoVerify('sha256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(String(body.transmission_sig), 'base64'));
    } catch {
      ok = false;
    }
    return ok ? { verification_status: 'SUCCESS' } : failure;
  }

  // ----- routing -----

  function issueToken(request: RecordedRequest): Reply {
    const { user: id, password: secret } = basicCredentials(request) ?? { user: '', password: '' };
    const expected = options.clientId !== undefined && options.clientSecret !== undefined;
    const valid = id !== '' && secret !== '' && (!expected || (id === options.clientId && secret === options.clientSecret));
    if (!valid) return jsonReply(401, { error: 'invalid_client', error_description: 'Client Authentication failed' });
    const form = new URLSearchParams(request.rawBody);
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return jsonReply(400, {
        error: 'unsupported_grant_type',
        error_description: grantType ? `Grant Type ${grantType} is not supported` : 'Grant Type is NULL',
      });
    }
    const token = `A21AA${randomString(92)}`;
    tokens.set(token, now().getTime() + tokenTtlSeconds * 1000);
    return jsonReply(200, {
      scope:
        'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/checkout/one-click-with-merchant-issued-token',
      access_token: token,
      token_type: 'Bearer',
      app_id: 'APP-80W284485P519543T',
      expires_in: tokenTtlSeconds,
      nonce: `${timestamp()}${randomString(43)}`,
    });
  }

  function authenticate(request: RecordedRequest): void {
    const token = bearerToken(request);
    const expiresAt = token ? tokens.get(token) : undefined;
    if (expiresAt === undefined || expiresAt <= now().getTime()) throw new PayPalApiError(401);
  }

  function jsonBody(request: RecordedRequest, allowEmpty: boolean): JsonObject {
    if (request.rawBody.trim() === '') {
      if (allowEmpty) return {};
      throw issue(400, 'MALFORMED_REQUEST_JSON');
    }
    if (!isJsonObject(request.body)) throw issue(400, 'MALFORMED_REQUEST_JSON');
    return request.body;
  }

  function wantsRepresentation(request: RecordedRequest): boolean {
    return /return=representation/i.test(request.headers.prefer ?? '');
  }

  function handleApi(request: RecordedRequest): Reply {
    const { method, path } = request;
    let id: string | undefined;
    if (path === '/v1/oauth2/token' && method === 'POST') return issueToken(request);
    id = pathParam(request, 'GET', /^\/v1\/notifications\/certs\/([^/]+)$/);
    if (id !== undefined) {
      if (id !== certName) return jsonReply(404, errorBody(404, []).body);
      return { status: 200, headers: { 'content-type': 'application/x-pem-file' }, body: certificate.cert };
    }

    authenticate(request);
    const requestId = request.headers['paypal-request-id'];
    const idemKey = requestId ? `${method} ${path}|${requestId}` : undefined;
    const previous = idemKey ? idempotency.get(idemKey) : undefined;
    /**
     * A create request: a retry with the same PayPal-Request-Id gets the record it created before (answered with
     * `replayStatus`), anything else creates a new one (201), remembered under that request id.
     */
    const createOnce = <R extends { id: string }>({
      kind,
      records,
      replayStatus,
      create,
      render,
    }: {
      kind: IdempotencyRecord['kind'];
      records: Map<string, R>;
      replayStatus: 200 | 201;
      create: () => R;
      render: (record: R) => PayPalObject;
    }): Reply => {
      if (previous?.kind === kind) {
        const record = records.get(previous.id);
        if (record) return jsonReply(replayStatus, render(record));
      }
      const record = create();
      if (idemKey) idempotency.set(idemKey, { kind, id: record.id });
      return jsonReply(201, render(record));
    };

    if (path === '/v2/checkout/orders' && method === 'POST') {
      return createOnce({
        kind: 'order',
        records: orders,
        replayStatus: 200,
        create: () => createOrder(jsonBody(request, false)),
        render: (order) => (wantsRepresentation(request) ? renderOrder(order) : renderOrderMinimal(order)),
      });
    }
    id = pathParam(request, 'GET', /^\/v2\/checkout\/orders\/([^/]+)$/);
    if (id !== undefined) return jsonReply(200, renderOrder(existing(orders, id, 'order_id')));
    id = pathParam(request, 'POST', /^\/v2\/checkout\/orders\/([^/]+)\/capture$/);
    if (id !== undefined) {
      const orderId = id;
      return createOnce({
        kind: 'capture',
        records: orders,
        replayStatus: 200,
        create: () => {
          jsonBody(request, true);
          return captureOrder(orderId);
        },
        render: (order) => (wantsRepresentation(request) ? renderOrder(order) : renderCaptureResult(order)),
      });
    }
    id = pathParam(request, 'GET', /^\/v2\/payments\/captures\/([^/]+)$/);
    if (id !== undefined) return jsonReply(200, renderCapture(existing(captures, id, 'capture_id'), true));
    id = pathParam(request, 'POST', /^\/v2\/payments\/captures\/([^/]+)\/refund$/);
    if (id !== undefined) {
      const captureId = id;
      return createOnce({
        kind: 'refund',
        records: refunds,
        replayStatus: 201,
        create: () => refundCapture(captureId, jsonBody(request, true)),
        render: (refund) => renderRefund(refund, wantsRepresentation(request)),
      });
    }
    id = pathParam(request, 'GET', /^\/v2\/payments\/refunds\/([^/]+)$/);
    if (id !== undefined) return jsonReply(200, renderRefund(existing(refunds, id, 'refund_id'), true));
    if (path === '/v1/notifications/verify-webhook-signature' && method === 'POST') {
      return jsonReply(200, verifyWebhookSignature(jsonBody(request, false)));
    }
    id = pathParam(request, 'GET', /^\/v1\/notifications\/webhooks-events\/([^/]+)$/);
    if (id !== undefined) return jsonReply(200, existing(events, id, 'event_id').event);
    throw new PayPalApiError(404, [], `No route for ${method} ${path}.`);
  }

  async function handle(request: RecordedRequest): Promise<HandlerResult> {
    if (request.path.startsWith('/v1/') || request.path.startsWith('/v2/')) {
      try {
        return handleApi(request);
      } catch (error) {
        if (error instanceof PayPalApiError) return errorReply(error);
        throw error;
      }
    }
    return handlePage(request);
  }

  async function handlePage(request: RecordedRequest): Promise<HandlerResult> {
    const m = /^\/approve\/([^/]+)$/.exec(request.path);
    const checkoutNow = request.path === '/checkoutnow' ? request.query.token : undefined;
    const orderId = m ? decodeURIComponent(m[1] ?? '') : checkoutNow;
    if (orderId !== undefined && request.method === 'GET') {
      const order = orders.get(orderId);
      if (!order) return htmlReply(404, pageShell('Not found', '<p>No such order.</p>'));
      return htmlReply(200, approvalPage(order, null));
    }
    if (m && request.method === 'POST') {
      const id = decodeURIComponent(m[1] ?? '');
      const order = orders.get(id);
      if (!order) return htmlReply(404, pageShell('Not found', '<p>No such order.</p>'));
      const form = new URLSearchParams(request.rawBody);
      if (form.get('action') === 'cancel') {
        if (order.cancelUrl) {
          const url = new URL(order.cancelUrl);
          url.searchParams.set('token', order.id);
          return redirectReply(url.toString());
        }
        return htmlReply(200, pageShell('Cancelled', '<p>You cancelled this payment.</p>'));
      }
      const email = form.get('email')?.trim();
      const result = await approve(id, email ? { payerEmail: email } : {});
      if (result.outcome === 'rejected') return htmlReply(409, approvalPage(order, result.message));
      if (result.redirectUrl) return redirectReply(result.redirectUrl);
      return htmlReply(200, pageShell('Approved', '<p>Order approved. The order had no return_url.</p>'));
    }
    if (request.path === '/' && request.method === 'GET') {
      return htmlReply(200, pageShell('PayPal sandbox', '<p>Local PayPal sandbox.</p>'));
    }
    return textReply(404, 'Not found');
  }

  function approvalPage(order: OrderRecord, message: string | null): string {
    const units = order.purchaseUnits
      .map(
        (u) =>
          `<li>${escapeHtml(u.description ?? u.referenceId)}: <strong>${escapeHtml(formatMinor(u.currency, u.valueMinor))} ${escapeHtml(u.currency)}</strong></li>`,
      )
      .join('');
    const notice = message ? `<p class="error" role="alert" id="message">${escapeHtml(message)}</p>` : '';
    const approvable = order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED';
    const form = approvable
      ? `<form method="post" action="/approve/${encodeURIComponent(order.id)}">
          <label>PayPal account email <input name="email" type="email" value="buyer@example.com"></label>
          <button type="submit" name="action" value="approve">Approve and continue</button>
          <button type="submit" name="action" value="cancel">Cancel</button>
        </form>`
      : `<p id="status">This order is ${escapeHtml(order.status)}.</p>`;
    const merchant = order.brandName ? `<p>Pay ${escapeHtml(order.brandName)}</p>` : '';
    return pageShell('Review your payment', `${merchant}<ul>${units}</ul>${notice}${form}`);
  }

  // ----- server -----

  const server = await SandboxServer.start({
    name: 'paypal',
    port: options.port,
    host: options.host,
    publicUrl: options.publicUrl,
    handle,
    renderFailure: (failure) => renderInjected(failure),
    onReset: () => {
      orders.clear();
      captures.clear();
      refunds.clear();
      tokens.clear();
      idempotency.clear();
      events.clear();
    },
    describe: () => ({
      orders: [...orders.values()].map(renderOrder),
      refundedByCapture: Object.fromEntries([...captures.values()].map((c) => [c.id, formatMinor(c.currency, c.refundedMinor)])),
    }),
  });
  publicUrl = server.publicUrl;
  certUrl = `${publicUrl}/v1/notifications/certs/${certName}`;

  function renderInjected(failure: InjectedFailure): Reply {
    const status = failure.status ?? (failure.code ? 422 : 500);
    const details: PayPalErrorDetail[] = failure.code ? [{ issue: failure.code }] : [];
    return errorReply(new PayPalApiError(status, details, failure.message));
  }

  return sandboxHandle<Omit<PayPalSandbox, keyof SandboxBasics>>(server, {
    get webhookUrl() {
      return webhookUrl;
    },
    get webhookId() {
      return webhookId;
    },
    certificatePem: certificate.cert,
    get certUrl() {
      return certUrl;
    },
    setWebhookTarget(url, id) {
      webhookUrl = url;
      if (id !== undefined) webhookId = id;
    },
    approve,
    buildEvent,
    signPayload,
    deliverEvent: (event) => events.deliver(event),
    resendEvent: (eventId) => events.resend(eventId),
    refundedAmount: (captureId) => captures.get(captureId)?.refundedMinor ?? 0,
    getOrder(orderId) {
      const order = orders.get(orderId);
      return order ? renderOrder(order) : undefined;
    },
    getCapture(captureId) {
      const capture = captures.get(captureId);
      return capture ? renderCapture(capture, true) : undefined;
    },
  });
}

// ---------------------------------------------------------------------------------------------

/** Formats minor units as PayPal's decimal string (2 decimals, none for HUF/JPY/TWD). */
export function formatMinor(currency: string, minor: number): string {
  return minorToDecimal(minor, ZERO_DECIMAL.has(currency) ? 0 : 2);
}

/** A PayPal-like fee: 3.49% (half up) + a fixed 0.49 (49 units for zero-decimal currencies), in integer arithmetic. */
function paypalFee(_currency: string, amountMinor: number): number {
  return Math.floor((amountMinor * 349 + 5000) / 10000) + 49;
}

function optionalText(value: JsonValue | undefined, field: string, maxLength: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new PayPalApiError(400, [{ issue: 'INVALID_PARAMETER_SYNTAX', field, location: 'body' }]);
  if (value.length < 1 || value.length > maxLength) {
    throw new PayPalApiError(400, [{ issue: 'INVALID_STRING_LENGTH', field, value, location: 'body' }]);
  }
  return value;
}

function optionalUrl(value: JsonValue | undefined, field: string): string | null {
  const text = optionalText(value, field, 4000);
  if (text === null) return null;
  if (isHttpUrl(text)) return text;
  throw new PayPalApiError(400, [{ issue: 'INVALID_PARAMETER_SYNTAX', field, value: text, location: 'body' }]);
}

const PAGE_LOOK: PageLook = {
  sandbox: 'PayPal sandbox',
  hint: 'PayPal sandbox (local)',
  css: 'button{margin:1rem .5rem 0 0;padding:.6rem 1.2rem;font-size:1rem}\n',
};

function pageShell(title: string, body: string): string {
  return sandboxPage(PAGE_LOOK, title, body);
}

/** ISO 8601 time without milliseconds (`2026-01-02T03:04:05Z`), as PayPal writes times. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type { FailNextOptions, RecordedRequest, WebhookDelivery };

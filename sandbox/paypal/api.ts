import { PayPalReportingError } from './reporting.js';
import {
  basicCredentials,
  bearerToken,
  canonicalJson,
  escapeHtml,
  type HandlerResult,
  htmlReply,
  isJsonObject,
  type JsonObject,
  jsonReply,
  pathParam,
  randomString,
  type RecordedRequest,
  redirectReply,
  type Reply,
  textReply,
  UPPER_ALPHANUMERIC,
} from '../http-kit.js';
import { formatMinor, optionalText, optionalUrl, pageShell, paypalFee, returnedRefundFee } from './helpers.js';
import {
  type CaptureRecord,
  type IdempotencyRecord,
  type OrderRecord,
  PayPalApiError,
  type PayPalErrorDetail,
  type PurchaseUnitRecord,
  type RefundRecord,
} from './records.js';
import type { PayPalObject } from './types.js';
import { verify as cryptoVerify } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { PayPalState } from './state.js';
import { readFileSync } from 'node:fs';

/** PayPal's request/response schemas of POST /v1/notifications/verify-webhook-signature (from the spec). */
const verifySpec = JSON.parse(
  readFileSync(new URL('../fixtures/paypal-verify-webhook-signature.json', import.meta.url), 'utf8'),
) as { request: { required: string[] }; response: { properties: { verification_status: { enum: string[] } } } };
import type { PayPalErrors } from './errors.js';
import type { Renderers } from './render.js';
import type { PayPalEvents } from './events.js';
import type { Approval } from './approval.js';

/** The REST API: OAuth2 tokens, Orders v2, Payments v2, webhook signature verification; routing and idempotency. */
export function createApi(state: PayPalState, errors: PayPalErrors, render: Renderers, ev: PayPalEvents, approval: Approval) {
  const {
    now,
    timestamp,
    tokenTtlSeconds,
    blockDuplicateInvoiceId,
    certificate,
    publicKey,
    certName,
    orders,
    captures,
    refunds,
    tokens,
    idempotency,
  } = state;
  const { errorBody, errorReply, existing, issue, parseAmount } = errors;
  const { renderCapture, renderCaptureResult, renderOrder, renderOrderMinimal, renderRefund } = render;
  const { emitInBackground, events } = ev;
  const { approve } = approval;

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
      state.reporting.recordCapture({
        captureId: capture.id,
        amountMinor: capture.amountMinor,
        feeMinor: capture.feeMinor,
        currency: capture.currency,
        at: Date.parse(time),
        invoiceId: capture.invoiceId,
        customId: capture.customId,
        payerEmail: order.payer?.email ?? null,
      });
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
    const alreadyReturned = capture.refundIds.reduce((sum, id) => sum + (refunds.get(id)?.feeMinor ?? 0), 0);
    const refund: RefundRecord = {
      id: randomString(17, UPPER_ALPHANUMERIC),
      captureId,
      currency: capture.currency,
      amountMinor,
      feeMinor: state.returnFeesOnRefund ? returnedRefundFee(amountMinor, capture.feeMinor, alreadyReturned) : 0,
      invoiceId: optionalText(body.invoice_id, '/invoice_id', 127),
      customId: optionalText(body.custom_id, '/custom_id', 127),
      noteToPayer: optionalText(body.note_to_payer, '/note_to_payer', 255),
      createTime: time,
      updateTime: time,
    };
    refunds.set(refund.id, refund);
    state.reporting.recordRefund({
      refundId: refund.id,
      captureId,
      amountMinor,
      currency: capture.currency,
      at: Date.parse(time),
      invoiceId: capture.invoiceId,
      customId: capture.customId,
    });
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
    // The request's required fields as PayPal's spec lists them (sandbox/fixtures/paypal-verify-webhook-signature.json).
    const required = verifySpec.request.required;
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
    if (body.auth_algo !== 'SHA256withRSA' || body.cert_url !== state.certUrl) return failure;
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

  function issueToken(request: RecordedRequest): Reply {
    const { user: id, password: secret } = basicCredentials(request) ?? { user: '', password: '' };
    const expected = state.options.clientId !== undefined && state.options.clientSecret !== undefined;
    const valid =
      id !== '' && secret !== '' && (!expected || (id === state.options.clientId && secret === state.options.clientSecret));
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
    // Transaction Search (reconciliation): sandbox/paypal/reporting.ts.
    try {
      const reported = state.reporting.handle(request, state.publicUrl);
      if (reported) return jsonReply(200, reported);
    } catch (error) {
      if (error instanceof PayPalReportingError) {
        const detail: PayPalErrorDetail = { issue: error.issue, description: error.description };
        if (error.field) Object.assign(detail, { field: error.field, location: 'query' });
        throw new PayPalApiError(error.status, [detail]);
      }
      throw error;
    }
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

  return {
    approvalPage,
    authenticate,
    captureOrder,
    createOrder,
    handle,
    handleApi,
    handlePage,
    issueToken,
    jsonBody,
    parsePurchaseUnit,
    refundCapture,
    verifyWebhookSignature,
    wantsRepresentation,
  };
}

export type Api = ReturnType<typeof createApi>;

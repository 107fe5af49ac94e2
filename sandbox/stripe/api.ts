import { StripeApiErrorLike } from './reporting.js';
import {
  basicCredentials,
  bearerToken,
  canonicalJson,
  type FormObject,
  type FormValue,
  type HandlerResult,
  jsonTextReply,
  parseForm,
  pathParam,
  randomString,
  type RecordedRequest,
  type Reply,
} from '../http-kit.js';
import {
  asObject,
  expandList,
  formatMoney,
  invalidArray,
  invalidRequest,
  isFormObject,
  missingParameter,
  noSuchObject,
  optionalInteger,
  optionalString,
  optionalUrl,
  parseMetadata,
  redactKey,
  stripeErrorReply,
  unknownParameter,
} from './helpers.js';
import {
  type ChargeRecord,
  type LineItemRecord,
  MAXIMUM_AMOUNT,
  MINIMUM_AMOUNT,
  type PaymentIntentRecord,
  REFUND_CREATE_PARAMS,
  REFUND_REASONS,
  type RefundRecord,
  SESSION_CREATE_PARAMS,
  type SessionRecord,
  StripeApiError,
} from './records.js';
import type { StripeObject } from './types.js';
import type { StripeState } from './state.js';
import type { Renderers } from './render.js';
import type { StripeEvents } from './events.js';
import type { Payment } from './payment.js';
import type { PaymentPage } from './page.js';

/** The REST API: checkout sessions, refunds, payment intents, charges; authentication, routing, idempotency. */
export function createApi(state: StripeState, render: Renderers, ev: StripeEvents, payment: Payment, page: PaymentPage) {
  const { nowSeconds, emitRefundEvents, sessions, paymentIntents, charges, refunds, refundedByPaymentIntent, idempotency } =
    state;
  const { renderCharge, renderLineItemList, renderPaymentIntent, renderRefund, renderSession } = render;
  const { emitInBackground } = ev;
  const { findSession, refreshExpiry } = payment;
  const { handlePage } = page;

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
      balanceTransactionId: '',
    };
    refund.balanceTransactionId = state.balance.recordRefund({
      refundId: refund.id,
      amount,
      currency: charge.currency,
      created: refund.created,
    }).id;
    refunds.set(refund.id, refund);
    state.reporting.recordRefund({
      id: refund.balanceTransactionId,
      refundId: refund.id,
      amount,
      currency: refund.currency,
      created: refund.created,
    });
    charge.amountRefunded += amount;
    charge.refundIds.push(refund.id);
    refundedByPaymentIntent.set(pi.id, (refundedByPaymentIntent.get(pi.id) ?? 0) + amount);
    const rendered = renderRefund(refund);
    if (emitRefundEvents) {
      emitInBackground('charge.refunded', renderCharge(charge), request);
      emitInBackground('refund.created', rendered, request);
    }
    const expand = expandList(form.expand);
    return expand.length > 0 ? renderRefund(refund, expand) : rendered;
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

  function authenticate(request: RecordedRequest): void {
    const key = bearerToken(request) ?? basicCredentials(request)?.user ?? '';
    if (!key) {
      throw new StripeApiError(
        401,
        'invalid_request_error',
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      );
    }
    const acceptable = state.secretKey ? key === state.secretKey : /^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key);
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
    if (id !== undefined)
      return { status: 200, body: renderRefund(existing(refunds, id, 'refund', 'refund'), expandList(query.expand)) };
    id = pathParam(request, 'GET', /^\/v1\/payment_intents\/([^/]+)$/);
    if (id !== undefined) {
      const pi = existing(paymentIntents, id, 'payment_intent', 'intent');
      return { status: 200, body: renderPaymentIntent(pi, expandList(query.expand)) };
    }
    id = pathParam(request, 'GET', /^\/v1\/charges\/([^/]+)$/);
    if (id !== undefined) {
      return { status: 200, body: renderCharge(existing(charges, id, 'charge', 'charge'), expandList(query.expand)) };
    }
    // One balance transaction by id: the store that books each charge's fee (sandbox/stripe/balance.ts);
    // listing, payouts and the synthetic records of reconciliation tests: sandbox/stripe/reporting.ts.
    id = pathParam(request, 'GET', /^\/v1\/balance_transactions\/([^/]+)$/);
    const booked = id === undefined ? undefined : state.balance.get(id);
    if (booked) return { status: 200, body: state.balance.render(booked) };
    try {
      const reported = state.reporting.handle(request);
      if (reported) return reported;
    } catch (error) {
      if (error instanceof StripeApiErrorLike) {
        throw new StripeApiError(error.status, 'invalid_request_error', error.message, error.code, error.param);
      }
      throw error;
    }
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

  return {
    authenticate,
    createRefund,
    createSession,
    expireSessionNow,
    handle,
    handleApi,
    handleApiWithIdempotency,
    listSessions,
    parseLineItem,
  };
}

export type Api = ReturnType<typeof createApi>;

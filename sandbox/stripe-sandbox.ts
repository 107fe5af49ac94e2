/**
 * Local Stripe API sandbox (never deployed): answers the endpoints the app calls the way the real
 * API does, with objects built from Stripe's published example objects (sandbox/fixtures), serves a
 * hosted payment page, and sends correctly signed webhooks to the app.
 *
 * Endpoints: POST/GET /v1/checkout/sessions, GET /v1/checkout/sessions/:id[/line_items],
 * POST /v1/checkout/sessions/:id/expire, POST /v1/refunds, GET /v1/refunds/:id,
 * GET /v1/payment_intents/:id, GET /v1/charges/:id; payment page GET/POST /pay/:id; test controls on the
 * handle (expireSession, dashboardRefund, payByBankDebit / settleAsyncPayment for async methods, reporting);
 * control endpoints under /__sandbox/ (see http-kit.ts).
 *
 * One sandbox = one state (stripe/state.ts) and the parts that read and write it, each in its file under stripe/:
 * render.ts (objects as the API returns them, from the fixtures), events.ts (events, signatures, webhook delivery),
 * payment.ts (expiry and card payments), page.ts (the hosted payment page), api.ts (the REST API, routing,
 * idempotency); records.ts and helpers.ts hold the records, test cards, limits and stateless helpers. This file
 * wires them to a SandboxServer and returns the handle.
 */
import { randomString, type SandboxBasics, SandboxServer, sandboxHandle } from './http-kit.js';
import { createApi } from './stripe/api.js';
import { createEvents } from './stripe/events.js';
import { injectedStripeError, stripeErrorReply } from './stripe/helpers.js';
import { createPaymentPage } from './stripe/page.js';
import { createPayment } from './stripe/payment.js';
import { createRenderers } from './stripe/render.js';
import { createStripeState } from './stripe/state.js';
import type { StripeSandbox, StripeSandboxOptions } from './stripe/types.js';

export {
  DEFAULT_STRIPE_EVENT_API_VERSION,
  type StripeCardInput,
  type StripeChargeAttempt,
  type StripeObject,
  type StripePayResult,
  type StripeSandbox,
  type StripeSandboxOptions,
  type StripeSignOptions,
} from './stripe/types.js';

export async function startStripeSandbox(options: StripeSandboxOptions = {}): Promise<StripeSandbox> {
  const state = createStripeState(options);
  const render = createRenderers(state);
  const ev = createEvents(state);
  const payment = createPayment(state, render, ev);
  const page = createPaymentPage(state, payment);
  const { handle, expireSessionNow, createRefund } = createApi(state, render, ev, payment, page);
  const { sessions, paymentIntents, charges, refunds, refundedByPaymentIntent, idempotency } = state;
  const { renderSession, renderPaymentIntent, renderCharge, renderRefund } = render;
  state.reporting.setSourceRenderer((id) => {
    const charge = charges.get(id);
    if (charge) return renderCharge(charge);
    const refund = refunds.get(id);
    return refund ? renderRefund(refund) : undefined;
  });
  const { events, buildEvent, signPayload } = ev;
  const { pay, payByBankDebit, settleAsyncPayment, findSession } = payment;

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
      state.reporting.reset();
      state.balance.clear();
    },
    describe: () => ({
      sessions: [...sessions.values()].map((s) => renderSession(s)),
      refundedByPaymentIntent: Object.fromEntries(refundedByPaymentIntent),
    }),
  });
  state.server = server;
  state.publicUrl = server.publicUrl;

  return sandboxHandle<Omit<StripeSandbox, keyof SandboxBasics>>(server, {
    get webhookUrl() {
      return state.webhookUrl;
    },
    get webhookSecret() {
      return state.webhookSecret;
    },
    setWebhookTarget(url, secret) {
      state.webhookUrl = url;
      if (secret !== undefined) state.webhookSecret = secret;
    },
    pay,
    payByBankDebit,
    settleAsyncPayment,
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
    balanceTransactions: () => state.balance.all().map((record) => state.balance.render(record)),
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
    reporting: state.reporting,
    async dashboardRefund(paymentIntentId, amount) {
      // Made in the dashboard: not through our API, and its webhooks never reach the app.
      if (state.emitRefundEvents) server.drops.add({ match: /^(charge\.refunded|refund\.created)$/, times: 2 });
      const form: Record<string, string> = { payment_intent: paymentIntentId };
      if (amount !== undefined) form.amount = String(amount);
      const refund = createRefund(form, { id: `req_${randomString(14)}`, idempotencyKey: null });
      await server.idle();
      return refund;
    },
  });
}

export type { FailNextOptions, RecordedRequest, WebhookDelivery } from './http-kit.js';

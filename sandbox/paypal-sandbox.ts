/**
 * Local PayPal REST API sandbox (never deployed): OAuth2 client credentials, Orders v2 (create, get,
 * capture), Payments v2 (capture refunds, get capture/refund), webhook signing with a generated
 * RSA key and self-signed certificate (served like PayPal's cert URLs) and
 * POST /v1/notifications/verify-webhook-signature. Error bodies and issue descriptions come from
 * PayPal's OpenAPI specs (sandbox/fixtures/paypal-errors.json).
 *
 * Buyer approval page: GET/POST /approve/:orderId. Control endpoints under /__sandbox/ (http-kit.ts).
 *
 * One sandbox = one state (paypal/state.ts: settings, signing key and certificate, the objects it made) and the
 * parts that read and write it, each in its file under paypal/: errors.ts (PayPal's error shape, amounts),
 * render.ts (orders, captures, refunds as the API returns them), events.ts (events, RSA signatures, webhook
 * delivery), approval.ts (the buyer approving an order), api.ts (the REST API, the approval page, routing,
 * idempotency); records.ts and helpers.ts hold the records, constants and stateless helpers. This file wires them
 * to a SandboxServer and returns the handle.
 */
import { type InjectedFailure, type Reply, type SandboxBasics, SandboxServer, sandboxHandle } from './http-kit.js';
import type { JsonObject } from './http-kit.js';
import { createApi } from './paypal/api.js';
import { createApproval } from './paypal/approval.js';
import { createDisputes } from './paypal/disputes.js';
import { createErrors } from './paypal/errors.js';
import { createEvents } from './paypal/events.js';
import { formatMinor } from './paypal/helpers.js';
import { PayPalApiError, type PayPalErrorDetail } from './paypal/records.js';
import { createRenderers } from './paypal/render.js';
import { createPayPalState } from './paypal/state.js';
import type { PayPalSandbox, PayPalSandboxOptions } from './paypal/types.js';

export { formatMinor } from './paypal/helpers.js';
export type {
  PayPalApproveOptions,
  PayPalApproveResult,
  PayPalDisputeResult,
  PayPalObject,
  PayPalSandbox,
  PayPalSandboxOptions,
  PayPalSignatureHeaders,
  PayPalSignOptions,
} from './paypal/types.js';

export async function startPayPalSandbox(options: PayPalSandboxOptions = {}): Promise<PayPalSandbox> {
  const state = await createPayPalState(options);
  const errors = createErrors(state);
  const render = createRenderers(state, errors);
  const ev = createEvents(state);
  const approval = createApproval(state, render, ev);
  const { handle, refundCapture } = createApi(state, errors, render, ev, approval);
  const { orders, captures, refunds, tokens, idempotency } = state;
  const { errorReply } = errors;
  const { renderOrder, renderCapture, renderRefund } = render;
  const { events, buildEvent, signPayload } = ev;
  const { approve } = approval;
  const disputes = createDisputes(state, ev);

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
      disputes.disputes.clear();
      state.reporting.reset();
    },
    describe: () => ({
      orders: [...orders.values()].map(renderOrder),
      refundedByCapture: Object.fromEntries([...captures.values()].map((c) => [c.id, formatMinor(c.currency, c.refundedMinor)])),
    }),
  });
  state.server = server;
  state.publicUrl = server.publicUrl;
  state.certUrl = `${state.publicUrl}/v1/notifications/certs/${state.certName}`;

  function renderInjected(failure: InjectedFailure): Reply {
    const status = failure.status ?? (failure.code ? 422 : 500);
    const details: PayPalErrorDetail[] = failure.code ? [{ issue: failure.code }] : [];
    return errorReply(new PayPalApiError(status, details, failure.message));
  }

  return sandboxHandle<Omit<PayPalSandbox, keyof SandboxBasics>>(server, {
    get webhookUrl() {
      return state.webhookUrl;
    },
    get webhookId() {
      return state.webhookId;
    },
    certificatePem: state.certificate.cert,
    get certUrl() {
      return state.certUrl;
    },
    setWebhookTarget(url, id) {
      state.webhookUrl = url;
      if (id !== undefined) state.webhookId = id;
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
    reporting: state.reporting,
    setReturnFeesOnRefund(on) {
      state.returnFeesOnRefund = on;
    },
    async dashboardRefund(captureId, amountMinor) {
      // Made in PayPal's dashboard: not through our API, and its webhook never reaches the app.
      server.drops.add({ match: 'PAYMENT.CAPTURE.REFUNDED', times: 1 });
      const capture = captures.get(captureId);
      if (!capture) throw new Error(`paypal sandbox: no capture ${captureId}`);
      const body: JsonObject = {};
      if (amountMinor !== undefined)
        body.amount = { currency_code: capture.currency, value: formatMinor(capture.currency, amountMinor) };
      const refund = refundCapture(captureId, body);
      await server.idle();
      return renderRefund(refund, true);
    },
    voidOrder(orderId) {
      const order = orders.get(orderId);
      if (!order) throw new Error(`paypal sandbox: no order ${orderId}`);
      if (order.status === 'COMPLETED') throw new Error(`paypal sandbox: order ${orderId} is COMPLETED and cannot be voided`);
      order.status = 'VOIDED';
      order.updateTime = state.timestamp();
      return renderOrder(order);
    },
    openDispute: disputes.openDispute,
    updateDispute: disputes.updateDispute,
    resolveDispute: disputes.resolveDispute,
  });
}

export type { FailNextOptions, RecordedRequest, WebhookDelivery } from './http-kit.js';
export { sandboxCa } from './paypal/state.js';

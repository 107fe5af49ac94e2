import type { JsonObject, JsonValue } from '../http-kit.js';
import {
  type CaptureRecord,
  DEFAULT_MERCHANT,
  type OrderRecord,
  type PayerRecord,
  type PurchaseUnitRecord,
  type RefundRecord,
} from './records.js';
import type { PayPalObject } from './types.js';
import type { PayPalState } from './state.js';
import type { PayPalErrors } from './errors.js';

/** Rendering: orders, captures and refunds as the API returns them. */
export function createRenderers(state: PayPalState, errors: PayPalErrors) {
  const { captures } = state;
  const { money } = errors;

  function orderLinks(order: OrderRecord): JsonValue[] {
    const self = { href: `${state.publicUrl}/v2/checkout/orders/${order.id}`, rel: 'self', method: 'GET' };
    if (order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED') {
      const approve = `${state.publicUrl}/approve/${order.id}`;
      if (order.paymentSourceFlow) return [self, { href: approve, rel: 'payer-action', method: 'GET' }];
      return [
        self,
        { href: approve, rel: 'approve', method: 'GET' },
        { href: `${state.publicUrl}/v2/checkout/orders/${order.id}`, rel: 'update', method: 'PATCH' },
        { href: `${state.publicUrl}/v2/checkout/orders/${order.id}/capture`, rel: 'capture', method: 'POST' },
      ];
    }
    if (order.status === 'APPROVED') {
      return [
        self,
        { href: `${state.publicUrl}/v2/checkout/orders/${order.id}`, rel: 'update', method: 'PATCH' },
        { href: `${state.publicUrl}/v2/checkout/orders/${order.id}/capture`, rel: 'capture', method: 'POST' },
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
      { href: `${state.publicUrl}/v2/payments/captures/${capture.id}`, rel: 'self', method: 'GET' },
      { href: `${state.publicUrl}/v2/payments/captures/${capture.id}/refund`, rel: 'refund', method: 'POST' },
      { href: `${state.publicUrl}/v2/checkout/orders/${capture.orderId}`, rel: 'up', method: 'GET' },
    ];
    out.create_time = capture.createTime;
    out.update_time = capture.updateTime;
    return out;
  }

  function renderRefund(refund: RefundRecord, representation: boolean): PayPalObject {
    const links: JsonValue[] = [
      { href: `${state.publicUrl}/v2/payments/refunds/${refund.id}`, rel: 'self', method: 'GET' },
      { href: `${state.publicUrl}/v2/payments/captures/${refund.captureId}`, rel: 'up', method: 'GET' },
    ];
    if (!representation) return { id: refund.id, status: 'COMPLETED', links };
    const capture = captures.get(refund.captureId);
    const out: PayPalObject = {
      id: refund.id,
      amount: money(refund.currency, refund.amountMinor),
      seller_payable_breakdown: {
        gross_amount: money(refund.currency, refund.amountMinor),
        paypal_fee: money(refund.currency, refund.feeMinor),
        net_amount: money(refund.currency, refund.amountMinor - refund.feeMinor),
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

  return {
    capturesOf,
    orderLinks,
    renderCapture,
    renderCaptureResult,
    renderOrder,
    renderOrderMinimal,
    renderPayer,
    renderPurchaseUnit,
    renderRefund,
  };
}

export type Renderers = ReturnType<typeof createRenderers>;

import { paypalErrorCatalog } from '../fixtures/index.js';
import type { JsonObject, JsonValue } from '../http-kit.js';

/** What the PayPal sandbox keeps per order, capture, refund and idempotency key; its error type and constants. */

export interface PayPalErrorDetail {
  issue: string;
  field?: string;
  value?: string;
  location?: 'body' | 'path' | 'query' | 'header';
  description?: string;
}

export class PayPalApiError extends Error {
  constructor(
    readonly status: number,
    readonly details: PayPalErrorDetail[] = [],
    message?: string,
  ) {
    super(message ?? 'PayPal API error');
  }
}

export interface PurchaseUnitRecord {
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

export interface PayerRecord {
  payerId: string;
  email: string;
  givenName: string;
  surname: string;
}

/** Order statuses (PayPal's `order_status` enum, checkout_orders_v2.json; SAVED is not used here). */
export type OrderStatus = 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'COMPLETED' | 'VOIDED';

export interface OrderRecord {
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

export type CaptureStatus = 'COMPLETED' | 'PARTIALLY_REFUNDED' | 'REFUNDED';

export interface CaptureRecord {
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

export interface RefundRecord {
  id: string;
  captureId: string;
  currency: string;
  amountMinor: number;
  /** The part of the capture's fee given back with this refund (seller_payable_breakdown.paypal_fee). */
  feeMinor: number;
  invoiceId: string | null;
  customId: string | null;
  noteToPayer: string | null;
  createTime: string;
  updateTime: string;
}

export interface IdempotencyRecord {
  kind: 'order' | 'capture' | 'refund';
  id: string;
}

export interface ErrorCatalog {
  errors: Record<string, { name: string; message: string }>;
  issues: Record<string, string>;
}

export const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);
export const DEFAULT_MERCHANT = { email_address: 'merchant@boulderfest.example', merchant_id: 'SBXMERCHANT7Q' };

export function loadErrorCatalog(): ErrorCatalog {
  return paypalErrorCatalog();
}

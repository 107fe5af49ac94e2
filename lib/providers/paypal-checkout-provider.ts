import { ApiError, CheckoutPaymentIntent, ItemCategory, type OrdersController, OrderStatus } from '@paypal/paypal-server-sdk';
import { formatMinorUnits, parseDecimalAmount } from '../money.js';
import {
  type CheckoutProvider,
  type CreateCheckoutInput,
  type CreatedCheckout,
  type ExpireCheckoutResult,
  isObject,
  type PayPalCaptureResult,
  ProviderError,
} from './checkout-provider.js';
import type { PayPalClients } from './paypal-client.js';

/** PayPal Orders v2 through the real SDK (loaded on demand by lib/providers/index.ts). */

/** PayPal's fee from a capture's seller_receivable_breakdown (paypal_fee; net_amount when given). */
function feeOf(
  breakdown:
    | { paypalFee?: { value: string; currencyCode: string }; netAmount?: { value: string; currencyCode: string } }
    | undefined,
): { cents: number; currency: string; netCents: number | undefined } | undefined {
  const fee = breakdown?.paypalFee;
  if (!fee) return undefined;
  return {
    cents: paypalAmount(fee.value),
    currency: fee.currencyCode,
    netCents: breakdown.netAmount ? paypalAmount(breakdown.netAmount.value) : undefined,
  };
}

function paypalAmount(value: string): number {
  const cents = parseDecimalAmount(value);
  if (cents === undefined) {
    throw new ProviderError('paypal', 'invalid_amount', `PayPal sent an amount we cannot read: ${value}`, { kind: 'api' });
  }
  return cents;
}
interface PayPalErrorBody {
  name?: unknown;
  message?: unknown;
  details?: unknown;
}

/** The first `details[].issue` (e.g. ORDER_ALREADY_CAPTURED), else `name` (e.g. UNPROCESSABLE_ENTITY). */
function payPalIssue(result: unknown): { code: string | undefined; message: string | undefined } {
  if (!isObject(result)) return { code: undefined, message: undefined };
  const body = result as PayPalErrorBody;
  const details = Array.isArray(body.details) ? body.details : [];
  const first: unknown = details[0];
  const issue = isObject(first) && typeof first.issue === 'string' ? first.issue : undefined;
  const description = isObject(first) && typeof first.description === 'string' ? first.description : undefined;
  const name = typeof body.name === 'string' ? body.name : undefined;
  const message = typeof body.message === 'string' ? body.message : undefined;
  return { code: issue ?? name, message: description ?? message };
}

export function toPayPalProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof ApiError) {
    let result: unknown = error.result;
    if (result === undefined && typeof error.body === 'string') {
      try {
        result = JSON.parse(error.body) as unknown;
      } catch {
        result = undefined;
      }
    }
    const { code, message } = payPalIssue(result);
    return new ProviderError('paypal', code ?? `http_${error.statusCode}`, message ?? error.message, {
      kind: 'api',
      statusCode: error.statusCode,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  const errorCode = isObject(error) && typeof error.code === 'string' ? error.code : '';
  const timeout = /timeout|ECONNABORTED|ETIMEDOUT/i.test(`${message} ${errorCode}`);
  return new ProviderError('paypal', timeout ? 'timeout' : 'connection_error', message, {
    kind: timeout ? 'timeout' : 'network',
    cause: error,
  });
}

type PayPalOrder = Awaited<ReturnType<OrdersController['getOrder']>>['result'];

export class PayPalCheckoutProvider implements CheckoutProvider {
  readonly name = 'paypal' as const;

  constructor(
    private readonly clients: PayPalClients,
    private readonly brandName = 'A Lo Cubano Boulder Fest',
  ) {}

  async createCheckout(input: CreateCheckoutInput): Promise<CreatedCheckout> {
    const money = (cents: number) => ({ currencyCode: input.currency, value: formatMinorUnits(cents) });
    let order: PayPalOrder;
    try {
      const response = await this.clients.ordersController.createOrder({
        paypalRequestId: input.idempotencyKey,
        prefer: 'return=representation',
        body: {
          intent: CheckoutPaymentIntent.Capture,
          purchaseUnits: [
            {
              referenceId: input.orderId,
              customId: input.orderId,
              invoiceId: input.orderNumber,
              description: (input.description ?? `Order ${input.orderNumber}`).slice(0, 127),
              amount: {
                currencyCode: input.currency,
                value: formatMinorUnits(input.totalCents),
                breakdown: { itemTotal: money(input.totalCents) },
              },
              items: input.lines.map((line) => ({
                name: line.name.slice(0, 127),
                sku: line.sku,
                unitAmount: money(line.unitAmountCents),
                quantity: String(line.quantity),
                category: ItemCategory.DigitalGoods,
                ...(line.description ? { description: line.description.slice(0, 127) } : {}),
              })),
            },
          ],
          paymentSource: {
            paypal: {
              emailAddress: input.customerEmail,
              experienceContext: {
                brandName: this.brandName,
                returnUrl: input.successUrl,
                cancelUrl: input.cancelUrl,
              },
            },
          },
        },
      });
      order = response.result;
    } catch (error) {
      throw toPayPalProviderError(error);
    }
    const link = order.links?.find((l) => l.rel === 'payer-action') ?? order.links?.find((l) => l.rel === 'approve');
    if (!order.id || !link) {
      throw new ProviderError('paypal', 'missing_approve_link', 'PayPal returned an order without an approval link', {
        kind: 'api',
      });
    }
    return { sessionId: order.id, checkoutUrl: link.href };
  }

  /** PayPal has no "expire" for an unpaid order: it simply cannot be captured once our hold is gone. */
  async expireCheckout(): Promise<ExpireCheckoutResult> {
    return 'already_closed';
  }

  /** Captures an approved order. `requestId` makes a retried capture return the first one's answer. */
  async captureOrder(paypalOrderId: string, requestId: string): Promise<PayPalCaptureResult> {
    let order: PayPalOrder;
    try {
      const response = await this.clients.ordersController.captureOrder({
        id: paypalOrderId,
        paypalRequestId: requestId,
        prefer: 'return=representation',
      });
      order = response.result;
    } catch (error) {
      const mapped = toPayPalProviderError(error);
      if (mapped.code === 'ORDER_ALREADY_CAPTURED') return await this.readCapture(paypalOrderId);
      if (
        mapped.code === 'INSTRUMENT_DECLINED' ||
        mapped.code === 'PAYER_ACTION_REQUIRED' ||
        mapped.code === 'TRANSACTION_REFUSED'
      ) {
        return { outcome: 'declined', code: mapped.code, message: mapped.message };
      }
      if (mapped.code === 'ORDER_NOT_APPROVED') return { outcome: 'not_approved', code: mapped.code, message: mapped.message };
      throw mapped;
    }
    return this.captureFrom(order);
  }

  private async readCapture(paypalOrderId: string): Promise<PayPalCaptureResult> {
    try {
      const response = await this.clients.ordersController.getOrder({ id: paypalOrderId });
      return this.captureFrom(response.result);
    } catch (error) {
      throw toPayPalProviderError(error);
    }
  }

  private captureFrom(order: PayPalOrder): PayPalCaptureResult {
    const unit = order.purchaseUnits?.[0];
    const capture = unit?.payments?.captures?.[0];
    if (!capture?.id || !capture.amount) {
      if (order.status === OrderStatus.Approved || order.status === OrderStatus.Created) {
        return { outcome: 'not_approved', code: 'ORDER_NOT_CAPTURED', message: 'The order has no capture yet' };
      }
      throw new ProviderError('paypal', 'missing_capture', 'PayPal answered without a capture', { kind: 'api' });
    }
    const status = String(capture.status ?? 'UNKNOWN');
    if (status === 'DECLINED' || status === 'FAILED') {
      return { outcome: 'declined', code: `CAPTURE_${status}`, message: 'PayPal declined the capture' };
    }
    return {
      outcome: 'captured',
      captureId: capture.id,
      captureStatus: status,
      amountCents: paypalAmount(capture.amount.value),
      currency: capture.amount.currencyCode,
      customId: capture.customId ?? unit?.customId ?? unit?.referenceId,
      fee: feeOf(capture.sellerReceivableBreakdown),
    };
  }
}

import { formatMinorUnits, parseDecimalAmount } from '../money.js';
import { ProviderError } from './checkout-provider.js';
import type { PayPalClients } from './paypal-client.js';
import { toPayPalProviderError } from './paypal-checkout-provider.js';
import {
  type ProviderRefundRequest,
  type ProviderRefundResult,
  type RefundProvider,
  mapPayPalRefundStatus,
  refundFailure,
} from './refund-provider.js';

/** PayPal refunds (Payments v2 refundCapturedPayment on the capture) through the real SDK. */
export class PayPalRefundProvider implements RefundProvider {
  readonly name = 'paypal' as const;

  constructor(private readonly clients: PayPalClients) {}

  async refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
    let result: Awaited<ReturnType<PayPalClients['paymentsController']['refundCapturedPayment']>>['result'];
    try {
      ({ result } = await this.clients.paymentsController.refundCapturedPayment({
        captureId: request.providerPaymentId,
        paypalRequestId: request.idempotencyKey,
        prefer: 'return=representation',
        body: {
          ...(request.amountCents !== undefined
            ? { amount: { currencyCode: request.currency.toUpperCase(), value: formatMinorUnits(request.amountCents) } }
            : {}),
          customId: request.refundId,
          ...(request.orderNumber ? { invoiceId: `${request.orderNumber}-R-${request.refundId.slice(0, 8)}` } : {}),
          ...(request.noteToPayer ? { noteToPayer: request.noteToPayer } : {}),
        },
      }));
    } catch (error) {
      throw refundFailure(toPayPalProviderError(error));
    }
    if (!result.id) {
      throw refundFailure(new ProviderError('paypal', 'missing_refund_id', 'PayPal refund answer has no id', { kind: 'api' }));
    }
    const value = result.amount?.value;
    // seller_payable_breakdown.paypal_fee: the part of PayPal's fee refunded with it.
    const paypalFee = result.sellerPayableBreakdown?.paypalFee;
    const feeCents = paypalFee?.value ? parseDecimalAmount(paypalFee.value) : undefined;
    return {
      providerRefundId: result.id,
      status: mapPayPalRefundStatus(result.status),
      amountCents: (value ? parseDecimalAmount(value) : undefined) ?? request.amountCents ?? 0,
      ...(paypalFee && feeCents !== undefined
        ? { fee: { feeReturnedCents: feeCents, currency: paypalFee.currencyCode, providerRef: result.id } }
        : {}),
    };
  }
}

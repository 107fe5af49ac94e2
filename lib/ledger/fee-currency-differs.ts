import { log } from '../log.js';

/**
 * A provider fee (charged with a payment, or given back with a refund) is booked only in the payment's
 * currency: one in another currency (a Stripe account settling in another currency) is not comparable with
 * the order's money, so it is warned about and not booked; reconciliation reports it from the provider's
 * side. True when the currencies differ (the warning is then logged).
 */
export function feeCurrencyDiffers(
  what: 'provider fee' | 'refund fee',
  about: { paymentId: string } | { refundId: string },
  feeCurrency: string,
  paymentCurrency: string,
): boolean {
  if (feeCurrency.toUpperCase() === paymentCurrency) return false;
  log.warn(`${what} in another currency than the payment; not booked`, { ...about, feeCurrency, paymentCurrency });
  return true;
}

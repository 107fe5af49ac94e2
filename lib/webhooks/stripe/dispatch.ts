import type { EventHandler } from '../types.js';
import { chargeDisputeClosed } from './charge-dispute-closed.js';
import { chargeDisputeCreated } from './charge-dispute-created.js';
import { chargeRefunded } from './charge-refunded.js';
import { chargeUpdated } from './charge-updated.js';
import { checkoutSessionAsyncPaymentFailed } from './checkout-session-async-payment-failed.js';
import { checkoutSessionAsyncPaymentSucceeded } from './checkout-session-async-payment-succeeded.js';
import { checkoutSessionCompleted } from './checkout-session-completed.js';
import { checkoutSessionExpired } from './checkout-session-expired.js';
import { paymentIntentPaymentFailed } from './payment-intent-payment-failed.js';
import { refundChanged } from './refund-updated.js';

/** Stripe event type → handler. Any other type is stored and marked ignored. */
export const STRIPE_HANDLERS: Readonly<Record<string, EventHandler>> = {
  'checkout.session.completed': checkoutSessionCompleted,
  'checkout.session.async_payment_succeeded': checkoutSessionAsyncPaymentSucceeded,
  'checkout.session.async_payment_failed': checkoutSessionAsyncPaymentFailed,
  'checkout.session.expired': checkoutSessionExpired,
  'payment_intent.payment_failed': paymentIntentPaymentFailed,
  'charge.refunded': chargeRefunded,
  'charge.updated': chargeUpdated,
  'refund.created': refundChanged,
  'refund.updated': refundChanged,
  'refund.failed': refundChanged,
  'charge.dispute.created': chargeDisputeCreated,
  'charge.dispute.closed': chargeDisputeClosed,
};

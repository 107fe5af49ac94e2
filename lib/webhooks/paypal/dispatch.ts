import type { EventHandler } from '../types.js';
import { checkoutOrderApproved } from './checkout-order-approved.js';
import { customerDisputeCreated } from './customer-dispute-created.js';
import { customerDisputeResolved } from './customer-dispute-resolved.js';
import { customerDisputeUpdated } from './customer-dispute-updated.js';
import { paymentCaptureCompleted } from './payment-capture-completed.js';
import { paymentCaptureDenied } from './payment-capture-denied.js';
import { paymentCapturePending } from './payment-capture-pending.js';
import { paymentCaptureRefunded } from './payment-capture-refunded.js';

/** PayPal event type → handler. Any other type is stored and marked ignored. */
export const PAYPAL_HANDLERS: Readonly<Record<string, EventHandler>> = {
  'CHECKOUT.ORDER.APPROVED': checkoutOrderApproved,
  'PAYMENT.CAPTURE.COMPLETED': paymentCaptureCompleted,
  'PAYMENT.CAPTURE.PENDING': paymentCapturePending,
  'PAYMENT.CAPTURE.DENIED': paymentCaptureDenied,
  'PAYMENT.CAPTURE.DECLINED': paymentCaptureDenied,
  'PAYMENT.CAPTURE.REFUNDED': paymentCaptureRefunded,
  'PAYMENT.CAPTURE.REVERSED': paymentCaptureRefunded,
  'CUSTOMER.DISPUTE.CREATED': customerDisputeCreated,
  'CUSTOMER.DISPUTE.UPDATED': customerDisputeUpdated,
  'CUSTOMER.DISPUTE.RESOLVED': customerDisputeResolved,
};

import type { Actor } from '../db/models/audit-log.js';
import type { FollowUp } from './types.js';

/**
 * Runs one provider call an applied event asked for (after its transaction committed). Returns
 * further follow-ups (a PayPal capture that turned out to be a late payment asks for a refund).
 * Each is idempotent: deterministic provider idempotency keys and "already done" checks in the DB.
 */
export async function runFollowUp(followUp: FollowUp, actor: Actor): Promise<FollowUp[]> {
  switch (followUp.kind) {
    case 'refund_payment': {
      const { refundUnwantedPayment } = await import('../refunds/refund-unwanted-payment.js');
      await refundUnwantedPayment({ ...followUp, actor });
      return [];
    }
    case 'paypal_capture': {
      const { captureApprovedPayPalOrder } = await import('./paypal/capture.js');
      return await captureApprovedPayPalOrder({ ...followUp, actor });
    }
  }
}

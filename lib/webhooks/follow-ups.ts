import type { Actor } from '../db/models/audit-log.js';
import { recordStripeFee } from '../ledger/fetch-stripe-fee.js';
import { log } from '../log.js';
import { refundUnwantedPayment } from '../refunds/refund-unwanted-payment.js';
import { captureApprovedPayPalOrder } from './paypal/capture.js';
import type { FollowUp } from './types.js';

/**
 * Runs one provider call an applied event asked for (after its transaction committed). Returns
 * further follow-ups (a PayPal capture that turned out to be a late payment asks for a refund).
 * Each is idempotent: deterministic provider idempotency keys and "already done" checks in the DB.
 * (The provider SDKs themselves load on first use, in lib/providers/index.ts.)
 */
export async function runFollowUp(followUp: FollowUp, actor: Actor): Promise<FollowUp[]> {
  switch (followUp.kind) {
    case 'refund_payment':
      await refundUnwantedPayment({ ...followUp, actor });
      return [];
    case 'paypal_capture':
      return await captureApprovedPayPalOrder({ ...followUp, actor });
    case 'record_fee':
      // The fee is for the books, not for the sale: a provider that cannot answer now leaves the
      // payment's fee unknown (payments.fee_cents NULL) for a later read, and never fails the event.
      try {
        await recordStripeFee(followUp.paymentId, followUp.capturedAs);
      } catch (error) {
        log.warn('stripe fee not read', {
          paymentId: followUp.paymentId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      return [];
  }
}

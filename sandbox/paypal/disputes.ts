import { paypalDisputeExample } from '../fixtures/index.js';
import { randomString } from '../http-kit.js';
import type { PayPalEvents } from './events.js';
import { formatMinor } from './helpers.js';
import type { PayPalState } from './state.js';
import type { PayPalDisputeResult, PayPalObject } from './types.js';

/** A buyer disputing a capture, as PayPal's agents would: open, update, resolve; each sends its CUSTOMER.DISPUTE.* event. */
export function createDisputes(state: PayPalState, ev: PayPalEvents) {
  const { captures, timestamp } = state;
  const { buildEvent, events } = ev;
  /** Dispute id → the dispute as PayPal shows it (the spec's `dispute` object). */
  const disputes = new Map<string, PayPalObject>();

  async function emit(eventType: string, dispute: PayPalObject, summary: string): Promise<PayPalDisputeResult> {
    const event = buildEvent(eventType, 'dispute', structuredClone(dispute), summary);
    const delivery = await events.deliver(event);
    return { dispute: structuredClone(dispute), event, delivery };
  }

  function known(disputeId: string): PayPalObject {
    const dispute = disputes.get(disputeId);
    if (!dispute) throw new Error(`paypal sandbox: no dispute ${disputeId}`);
    return dispute;
  }

  /** The buyer disputes `amountMinor` (default: what was not refunded) of a capture: CUSTOMER.DISPUTE.CREATED. */
  async function openDispute(
    captureId: string,
    options: { amountMinor?: number; reason?: string } = {},
  ): Promise<PayPalDisputeResult> {
    const capture = captures.get(captureId);
    if (!capture) throw new Error(`paypal sandbox: no capture ${captureId}`);
    const amountMinor = options.amountMinor ?? capture.amountMinor - capture.refundedMinor;
    const money = { currency_code: capture.currency, value: formatMinor(capture.currency, amountMinor) };
    const id = `PP-D-${randomString(10, '0123456789')}`;
    const time = timestamp();
    // The spec's shape (sandbox/fixtures/paypal-dispute.json); the fields this dispute determines overwritten.
    const dispute = paypalDisputeExample();
    const [transaction] = Array.isArray(dispute.disputed_transactions) ? dispute.disputed_transactions : [];
    const base = typeof transaction === 'object' && transaction !== null && !Array.isArray(transaction) ? transaction : {};
    Object.assign(dispute, {
      dispute_id: id,
      create_time: time,
      update_time: time,
      disputed_transactions: [
        {
          ...base,
          seller_transaction_id: capture.id,
          create_time: capture.createTime,
          transaction_status: capture.status,
          gross_amount: { currency_code: capture.currency, value: formatMinor(capture.currency, capture.amountMinor) },
          ...(capture.invoiceId ? { invoice_number: capture.invoiceId } : {}),
          ...(capture.customId ? { custom: capture.customId } : {}),
        },
      ],
      reason: options.reason ?? 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
      status: 'OPEN',
      dispute_amount: money,
      dispute_outcome: { outcome_code: 'NONE' },
      links: [{ href: `${state.publicUrl}/v1/customer/disputes/${id}`, rel: 'self', method: 'GET' }],
    });
    if (!capture.customId) delete (dispute.disputed_transactions as PayPalObject[])[0]?.custom;
    if (!capture.invoiceId) delete (dispute.disputed_transactions as PayPalObject[])[0]?.invoice_number;
    disputes.set(id, dispute);
    return await emit('CUSTOMER.DISPUTE.CREATED', dispute, `A new dispute opened with Case # ${id}`);
  }

  /** The dispute's status changes without ending it (e.g. UNDER_REVIEW): CUSTOMER.DISPUTE.UPDATED. */
  async function updateDispute(disputeId: string, status: string, stage?: string): Promise<PayPalDisputeResult> {
    const dispute = known(disputeId);
    dispute.status = status;
    if (stage) dispute.dispute_life_cycle_stage = stage;
    dispute.update_time = timestamp();
    return await emit('CUSTOMER.DISPUTE.UPDATED', dispute, `A dispute was updated with Case # ${disputeId}`);
  }

  /** PayPal decides it (RESOLVED_BUYER_FAVOUR: the seller lost; RESOLVED_SELLER_FAVOUR: won): CUSTOMER.DISPUTE.RESOLVED. */
  async function resolveDispute(disputeId: string, outcomeCode: string): Promise<PayPalDisputeResult> {
    const dispute = known(disputeId);
    dispute.status = 'RESOLVED';
    dispute.update_time = timestamp();
    dispute.dispute_outcome =
      outcomeCode === 'RESOLVED_BUYER_FAVOUR'
        ? { outcome_code: outcomeCode, amount_refunded: dispute.dispute_amount ?? null }
        : { outcome_code: outcomeCode };
    return await emit('CUSTOMER.DISPUTE.RESOLVED', dispute, `A dispute was resolved with case # ${disputeId}`);
  }

  return { disputes, openDispute, resolveDispute, updateDispute };
}

export type Disputes = ReturnType<typeof createDisputes>;

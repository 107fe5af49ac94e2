import { z } from 'zod';
import { AppError } from '../../errors.js';
import { parseDecimalAmount } from '../../money.js';

/** The fields of PayPal webhook resources the handlers read (webhook JSON is snake_case). */

export const paypalEventSchema = z.object({
  id: z.string().min(1).max(255),
  event_type: z.string().min(1).max(255),
  resource: z.record(z.string(), z.unknown()),
});

const money = z.object({ currency_code: z.string(), value: z.string() });
const link = z.object({ href: z.string(), rel: z.string() }).loose();

export const captureSchema = z.object({
  id: z.string(),
  status: z.string(),
  amount: money,
  custom_id: z.string().nullish(),
  invoice_id: z.string().nullish(),
  status_details: z.object({ reason: z.string().nullish() }).loose().nullish(),
  supplementary_data: z
    .object({ related_ids: z.object({ order_id: z.string().nullish() }).loose().nullish() })
    .loose()
    .nullish(),
  links: z.array(link).nullish(),
  seller_receivable_breakdown: z.object({ paypal_fee: money.nullish(), net_amount: money.nullish() }).loose().nullish(),
});

export const checkoutOrderSchema = z.object({
  id: z.string(),
  status: z.string(),
  purchase_units: z
    .array(
      z
        .object({
          reference_id: z.string().nullish(),
          custom_id: z.string().nullish(),
          invoice_id: z.string().nullish(),
          payments: z
            .object({ captures: z.array(captureSchema).nullish() })
            .loose()
            .nullish(),
        })
        .loose(),
    )
    .min(1),
});

export const refundSchema = z.object({
  id: z.string(),
  status: z.string().nullish(),
  amount: money,
  custom_id: z.string().nullish(),
  invoice_id: z.string().nullish(),
  links: z.array(link).nullish(),
  /** paypal_fee: the part of PayPal's fee refunded with it; net_amount = gross - that fee. */
  seller_payable_breakdown: z.object({ paypal_fee: money.nullish() }).loose().nullish(),
});

export function resourceOf<S extends z.ZodType>(payload: unknown, schema: S): z.infer<S> {
  const event = paypalEventSchema.parse(payload);
  const parsed = schema.safeParse(event.resource);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new AppError('UNPROCESSABLE', `PayPal ${event.event_type} resource is missing fields: ${fields}`);
  }
  return parsed.data;
}

export function eventIdOf(payload: unknown): string {
  return paypalEventSchema.parse(payload).id;
}

export function minorUnits(amount: { value: string }): number {
  const cents = parseDecimalAmount(amount.value);
  if (cents === undefined) throw new Error(`PayPal sent an amount we cannot read: ${amount.value}`);
  return cents;
}

/** The id at the end of a HATEOAS link with this rel and path segment (e.g. rel `up` → `/captures/<id>`). */
export function linkedId(
  links: readonly { href: string; rel: string }[] | null | undefined,
  rel: string,
  segment: string,
): string | undefined {
  for (const entry of links ?? []) {
    if (entry.rel !== rel) continue;
    const match = new RegExp(`/${segment}/([^/?#]+)`).exec(entry.href);
    if (match?.[1]) return decodeURIComponent(match[1]);
  }
  return undefined;
}

/** PayPal's fee of a capture (seller_receivable_breakdown.paypal_fee, and net_amount), when it is there. */
export function feeOf(
  capture: z.infer<typeof captureSchema>,
): { cents: number; currency: string; netCents: number | undefined; providerRef: string } | undefined {
  const breakdown = capture.seller_receivable_breakdown;
  if (!breakdown?.paypal_fee) return undefined;
  return {
    cents: minorUnits(breakdown.paypal_fee),
    currency: breakdown.paypal_fee.currency_code,
    netCents: breakdown.net_amount ? minorUnits(breakdown.net_amount) : undefined,
    providerRef: capture.id,
  };
}

/** The PayPal fee given back with a refund (seller_payable_breakdown.paypal_fee), when it is there. */
export function refundFeeOf(
  refund: z.infer<typeof refundSchema>,
): { feeReturnedCents: number; currency: string; providerRef: string } | undefined {
  const fee = refund.seller_payable_breakdown?.paypal_fee;
  if (!fee) return undefined;
  return { feeReturnedCents: minorUnits(fee), currency: fee.currency_code, providerRef: refund.id };
}

/**
 * A PayPal dispute (CUSTOMER.DISPUTE.* resource; schema `dispute` of PayPal's customer_disputes_v1.json):
 * disputed_transactions[].seller_transaction_id is the capture id; dispute_outcome.outcome_code says who won.
 */
export const disputeSchema = z.object({
  dispute_id: z.string().min(1),
  create_time: z.string().nullish(),
  update_time: z.string().nullish(),
  disputed_transactions: z.array(z.object({ seller_transaction_id: z.string().nullish() }).loose()).min(1),
  reason: z.string().nullish(),
  status: z.string().nullish(),
  dispute_amount: money,
  dispute_outcome: z.object({ outcome_code: z.string().nullish() }).loose().nullish(),
  dispute_life_cycle_stage: z.string().nullish(),
});

/** The capture ids a dispute names (seller_transaction_id of each disputed transaction). */
export function disputedCaptureIds(dispute: z.infer<typeof disputeSchema>): string[] {
  return dispute.disputed_transactions.flatMap((t) => (t.seller_transaction_id ? [t.seller_transaction_id] : []));
}

/** A PayPal time (RFC 3339) as a Date; undefined when absent or unreadable. */
export function paypalTime(value: string | null | undefined): Date | undefined {
  if (!value) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** What opening a dispute records, as PayPal's dispute object says it (CREATED, and UPDATED for an unseen one). */
export function disputeOpening(dispute: z.infer<typeof disputeSchema>, captureId: string) {
  return {
    provider: 'paypal' as const,
    providerDisputeId: dispute.dispute_id,
    providerPaymentId: captureId,
    amountCents: minorUnits(dispute.dispute_amount),
    currency: dispute.dispute_amount.currency_code,
    reason: dispute.reason ?? 'disputed',
    at: paypalTime(dispute.create_time) ?? null,
  };
}

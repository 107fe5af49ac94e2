import { z } from 'zod';
import { AppError } from '../../errors.js';

/**
 * The few fields of Stripe objects the handlers read, validated. Unknown fields are dropped; ids that
 * Stripe may expand into objects are accepted both ways.
 */

const expandable = z.union([z.string(), z.object({ id: z.string() }).loose()]).nullish();
const metadata = z
  .record(z.string(), z.string())
  .nullish()
  .transform((value) => value ?? {});

export function idOf(value: z.infer<typeof expandable>): string | undefined {
  if (!value) return undefined;
  return typeof value === 'string' ? value : value.id;
}

export const stripeEventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});
export type StripeEventEnvelope = z.infer<typeof stripeEventSchema>;

export const checkoutSessionSchema = z.object({
  id: z.string(),
  client_reference_id: z.string().nullish(),
  metadata,
  payment_intent: expandable,
  payment_status: z.string(),
  amount_total: z.number().int().nullish(),
  currency: z.string().nullish(),
});

export const paymentIntentSchema = z.object({
  id: z.string(),
  metadata,
  last_payment_error: z
    .object({ code: z.string().nullish(), decline_code: z.string().nullish(), message: z.string().nullish() })
    .loose()
    .nullish(),
});

export const refundSchema = z.object({
  id: z.string(),
  amount: z.number().int().positive(),
  currency: z.string(),
  status: z.string().nullish(),
  payment_intent: expandable,
  charge: expandable,
  metadata,
  failure_reason: z.string().nullish(),
});

export const chargeSchema = z.object({
  id: z.string(),
  payment_intent: expandable,
  metadata,
  amount_refunded: z.number().int().nullish(),
  refunds: z.object({ data: z.array(refundSchema) }).nullish(),
  /** The charge's balance transaction (its fee); null until Stripe has made it. */
  balance_transaction: expandable,
});

export const disputeSchema = z.object({
  id: z.string(),
  amount: z.number().int().nonnegative(),
  currency: z.string(),
  charge: expandable,
  payment_intent: expandable,
  reason: z.string().nullish(),
  status: z.string().nullish(),
  created: z.number().int().nullish(),
});

/** The event's data.object, validated (a malformed object is a failed event, visible to staff). */
export function dataObject<S extends z.ZodType>(payload: unknown, schema: S): z.infer<S> {
  const event = stripeEventSchema.parse(payload);
  const parsed = schema.safeParse(event.data.object);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new AppError('UNPROCESSABLE', `Stripe ${event.type} object is missing fields: ${fields}`);
  }
  return parsed.data;
}

export function eventIdOf(payload: unknown): string {
  return stripeEventSchema.parse(payload).id;
}

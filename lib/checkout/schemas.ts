import { z } from 'zod';
import { MAX_SLIDING_SCALE_PERCENT } from './pricing.js';

/**
 * Request bodies of the buyer endpoints. Every object is strict: unknown keys (a client-sent
 * price, amount, total, status, discount...) are refused with 400, never ignored. Prices come from
 * the database only.
 */

export const MAX_TICKETS_PER_ORDER = 100;
export const MAX_ITEMS_PER_ORDER = 20;

const personName = z.string().trim().min(1).max(100);
const email = z.string().trim().min(3).max(254).pipe(z.email());
const returnUrl = z
  .string()
  .trim()
  .max(2048)
  .pipe(z.url({ protocol: /^https?$/ }));

export const attendeeSchema = z.strictObject({
  firstName: personName,
  lastName: personName,
  email,
});

export const checkoutItemSchema = z
  .strictObject({
    ticketType: z.string().regex(/^[a-z0-9_]{1,40}$/, 'a ticket type code'),
    quantity: z.number().int().min(1).max(MAX_TICKETS_PER_ORDER),
    attendees: z.array(attendeeSchema).min(1).max(MAX_TICKETS_PER_ORDER).optional(),
  })
  .refine((item) => item.attendees === undefined || item.attendees.length === item.quantity, {
    message: 'give one attendee per ticket (or none)',
    path: ['attendees'],
  })
  .meta({ description: '`attendees`, when given, has exactly `quantity` entries (one per ticket).' });

export const checkoutSessionRequestSchema = z
  .strictObject({
    event: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'an event slug'),
    items: z.array(checkoutItemSchema).min(1).max(MAX_ITEMS_PER_ORDER),
    customer: z.strictObject({
      email,
      firstName: personName,
      lastName: personName,
      phone: z
        .string()
        .trim()
        .min(3)
        .max(40)
        .regex(/^[0-9+().\s-]+$/, 'a phone number')
        .optional(),
    }),
    slidingScalePercent: z.number().int().min(0).max(MAX_SLIDING_SCALE_PERCENT).optional(),
    provider: z.enum(['stripe', 'paypal']),
    successUrl: returnUrl.optional(),
    cancelUrl: returnUrl.optional(),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.items.forEach((item, index) => {
      if (seen.has(item.ticketType)) {
        ctx.addIssue({ code: 'custom', message: 'each ticket type at most once', path: ['items', index, 'ticketType'] });
      }
      seen.add(item.ticketType);
    });
    const total = body.items.reduce((sum, item) => sum + item.quantity, 0);
    if (total > MAX_TICKETS_PER_ORDER) {
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_TICKETS_PER_ORDER} tickets per order`, path: ['items'] });
    }
  })
  .meta({
    description: `Each ticket type at most once in \`items\`; at most ${MAX_TICKETS_PER_ORDER} tickets in all. Unknown fields are refused.`,
  });

export type CheckoutSessionRequest = z.infer<typeof checkoutSessionRequestSchema>;

export const payPalCaptureRequestSchema = z.strictObject({
  orderId: z.uuid(),
});

export const ticketCatalogQuerySchema = z.strictObject({
  event: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'an event slug'),
});

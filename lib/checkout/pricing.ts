import type { Currency } from '../money.js';

/**
 * Order pricing: prices come from the database only; the buyer chooses a sliding-scale percent
 * (honour system) between 0 and 75.
 *
 * THE rounding rule (the only one; everything else follows from it):
 *
 *   Each ticket's discount is computed on its own, in minor units, and rounded DOWN:
 *       ticketDiscount = floor(unitPriceCents * percent / 100)     (0 for types without sliding scale)
 *       ticketPrice    = unitPriceCents - ticketDiscount
 *   and every order amount is a plain integer sum of per-ticket amounts:
 *       subtotal = Σ unitPrice,  discount = Σ ticketDiscount,  total = Σ ticketPrice = subtotal - discount.
 *
 * Why this keeps the provider's line items summing exactly to the order total: nothing is ever
 * rounded at the order level. Every ticket of one type has the same unit price and percent, hence
 * the same ticketPrice, so a line item `{ unit_amount: ticketPrice, quantity: n }` is exactly the
 * sum of those n tickets, and the line items together are exactly `total`. Rounding the discount
 * down means the buyer never gets more than the percent they chose (the discount never exceeds
 * 75 %) and a price never goes negative.
 */

export const MAX_SLIDING_SCALE_PERCENT = 75;
export const MIN_SLIDING_SCALE_PERCENT = 0;

export interface PricedTicketTypeInput {
  ticketTypeId: string;
  code: string;
  name: string;
  unitPriceCents: number;
  currency: Currency;
  slidingScale: boolean;
  quantity: number;
}

export interface PricedLine {
  ticketTypeId: string;
  code: string;
  name: string;
  currency: Currency;
  quantity: number;
  /** Catalogue price of one ticket. */
  unitPriceCents: number;
  /** Discount on one ticket (the rule above). */
  unitDiscountCents: number;
  /** What one ticket costs after the discount: the provider line item's unit amount. */
  unitNetCents: number;
  /** unitNetCents × quantity. */
  lineTotalCents: number;
  /** The percent actually applied to this line (0 when the type has no sliding scale). */
  appliedPercent: number;
}

export interface OrderPricing {
  currency: Currency;
  slidingScalePercent: number;
  lines: PricedLine[];
  subtotalCents: number;
  discountCents: number;
  totalCents: number;
  ticketCount: number;
}

export class PricingError extends Error {
  override name = 'PricingError';
}

/** Discount on one ticket, in minor units, rounded down. */
export function ticketDiscountCents(unitPriceCents: number, percent: number): number {
  return Math.floor((unitPriceCents * percent) / 100);
}

function assertPercent(percent: number): void {
  if (!Number.isInteger(percent) || percent < MIN_SLIDING_SCALE_PERCENT || percent > MAX_SLIDING_SCALE_PERCENT) {
    throw new PricingError(`sliding scale percent must be an integer from 0 to ${MAX_SLIDING_SCALE_PERCENT}`);
  }
}

/** Prices an order. Throws PricingError for impossible input (callers validate first). */
export function priceOrder(items: readonly PricedTicketTypeInput[], slidingScalePercent: number): OrderPricing {
  assertPercent(slidingScalePercent);
  if (items.length === 0) throw new PricingError('an order needs at least one item');
  const currency = items[0]?.currency;
  if (currency === undefined) throw new PricingError('an order needs at least one item');
  let subtotalCents = 0;
  let discountCents = 0;
  let totalCents = 0;
  let ticketCount = 0;
  const lines: PricedLine[] = items.map((item) => {
    if (item.currency !== currency) throw new PricingError('all items of an order must share one currency');
    if (!Number.isSafeInteger(item.unitPriceCents) || item.unitPriceCents < 0) {
      throw new PricingError('unit prices are non-negative integers of minor units');
    }
    if (!Number.isSafeInteger(item.quantity) || item.quantity < 1) throw new PricingError('quantities are positive integers');
    const appliedPercent = item.slidingScale ? slidingScalePercent : 0;
    const unitDiscountCents = ticketDiscountCents(item.unitPriceCents, appliedPercent);
    const unitNetCents = item.unitPriceCents - unitDiscountCents;
    const lineTotalCents = unitNetCents * item.quantity;
    subtotalCents += item.unitPriceCents * item.quantity;
    discountCents += unitDiscountCents * item.quantity;
    totalCents += lineTotalCents;
    ticketCount += item.quantity;
    return {
      ticketTypeId: item.ticketTypeId,
      code: item.code,
      name: item.name,
      currency,
      quantity: item.quantity,
      unitPriceCents: item.unitPriceCents,
      unitDiscountCents,
      unitNetCents,
      lineTotalCents,
      appliedPercent,
    };
  });
  if (!Number.isSafeInteger(subtotalCents) || subtotalCents > 2_147_483_647) {
    throw new PricingError('order total is out of range');
  }
  return { currency, slidingScalePercent, lines, subtotalCents, discountCents, totalCents, ticketCount };
}

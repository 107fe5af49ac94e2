import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_SLIDING_SCALE_PERCENT,
  type PricedTicketTypeInput,
  PricingError,
  priceOrder,
  ticketDiscountCents,
} from '../../lib/checkout/pricing.js';

const item = (i: number) =>
  fc.record({
    ticketTypeId: fc.constant(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
    code: fc.constant(`t${i}`),
    name: fc.constant(`Type ${i}`),
    unitPriceCents: fc.integer({ min: 0, max: 500_000 }),
    currency: fc.constant('USD' as const),
    slidingScale: fc.boolean(),
    quantity: fc.integer({ min: 1, max: 100 }),
  });

const items = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => item(i))));
const percent = fc.integer({ min: 0, max: MAX_SLIDING_SCALE_PERCENT });

describe('pricing (property tests)', () => {
  it('the total is exactly the sum of the line items, and subtotal − discount', () => {
    fc.assert(
      fc.property(items, percent, (input: PricedTicketTypeInput[], p) => {
        const priced = priceOrder(input, p);
        const sumOfLines = priced.lines.reduce((sum, l) => sum + l.unitNetCents * l.quantity, 0);
        expect(priced.totalCents).toBe(sumOfLines);
        expect(priced.totalCents).toBe(priced.subtotalCents - priced.discountCents);
        expect(priced.subtotalCents).toBe(input.reduce((sum, i) => sum + i.unitPriceCents * i.quantity, 0));
        expect(priced.ticketCount).toBe(input.reduce((sum, i) => sum + i.quantity, 0));
        for (const line of priced.lines) {
          expect(line.lineTotalCents).toBe(line.unitNetCents * line.quantity);
          expect(Number.isInteger(line.unitNetCents)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('no amount is ever negative', () => {
    fc.assert(
      fc.property(items, percent, (input: PricedTicketTypeInput[], p) => {
        const priced = priceOrder(input, p);
        expect(priced.totalCents).toBeGreaterThanOrEqual(0);
        expect(priced.discountCents).toBeGreaterThanOrEqual(0);
        for (const line of priced.lines) {
          expect(line.unitNetCents).toBeGreaterThanOrEqual(0);
          expect(line.unitDiscountCents).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the discount never exceeds 75 % (nor the chosen percent) of what it applies to, and rounds down by less than one cent', () => {
    fc.assert(
      fc.property(items, percent, (input: PricedTicketTypeInput[], p) => {
        const priced = priceOrder(input, p);
        // Integer form of discount <= 75% of subtotal: 100 × discount <= 75 × subtotal.
        expect(100 * priced.discountCents).toBeLessThanOrEqual(MAX_SLIDING_SCALE_PERCENT * priced.subtotalCents);
        for (const line of priced.lines) {
          expect([0, p]).toContain(line.appliedPercent);
          expect(100 * line.unitDiscountCents).toBeLessThanOrEqual(line.appliedPercent * line.unitPriceCents);
          // Rounded down: the exact discount minus the rounded one is in [0, 1) cent.
          expect(line.appliedPercent * line.unitPriceCents - 100 * line.unitDiscountCents).toBeLessThan(100);
          if (!input.find((i) => i.ticketTypeId === line.ticketTypeId)?.slidingScale) {
            expect(line.unitDiscountCents).toBe(0);
            expect(line.appliedPercent).toBe(0);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a higher percent never makes an order more expensive', () => {
    fc.assert(
      fc.property(items, percent, percent, (input: PricedTicketTypeInput[], a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(priceOrder(input, high).totalCents).toBeLessThanOrEqual(priceOrder(input, low).totalCents);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses percents outside 0..75, fractions, and mixed currencies', () => {
    fc.assert(
      fc.property(
        items,
        fc.oneof(
          fc.integer({ min: 76, max: 10_000 }),
          fc.integer({ min: -10_000, max: -1 }),
          fc.double({ min: 0.01, max: 74.99, noInteger: true }),
        ),
        (input: PricedTicketTypeInput[], bad) => {
          expect(() => priceOrder(input, bad)).toThrow(PricingError);
        },
      ),
      { numRuns: 200 },
    );
    expect(() =>
      priceOrder(
        [
          { ticketTypeId: 'a', code: 'a', name: 'A', unitPriceCents: 100, currency: 'USD', slidingScale: false, quantity: 1 },
          { ticketTypeId: 'b', code: 'b', name: 'B', unitPriceCents: 100, currency: 'EUR', slidingScale: false, quantity: 1 },
        ],
        0,
      ),
    ).toThrow(PricingError);
  });

  it('worked examples of the rounding rule', () => {
    expect(ticketDiscountCents(6500, 33)).toBe(2145);
    expect(ticketDiscountCents(999, 33)).toBe(329); // 329.67 → 329: the buyer pays 670
    expect(ticketDiscountCents(1, 75)).toBe(0);
    const priced = priceOrder(
      [{ ticketTypeId: 'a', code: 'a', name: 'A', unitPriceCents: 999, currency: 'USD', slidingScale: true, quantity: 3 }],
      33,
    );
    expect(priced).toMatchObject({ subtotalCents: 2997, discountCents: 987, totalCents: 2010 });
  });
});

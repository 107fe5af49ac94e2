import { beforeAll, describe, expect, it } from 'vitest';
import { countInbox, createPendingOrder, deliverStripe, orderState, stripeEvent, paidSessionFor } from './support.js';
import { configureStripe } from '../support/providers.js';

/** Real concurrency: many deliveries at once against the real database (pool of 5 connections). */

beforeAll(() => {
  configureStripe();
});

describe('concurrent deliveries', () => {
  it('the same checkout.session.completed delivered 20 times at once → one completion, one sold set', async () => {
    const p = await createPendingOrder({ quantity: 3, capacity: 3 });
    const event = stripeEvent('checkout.session.completed', paidSessionFor(p));
    const payload = JSON.stringify(event);
    const responses = await Promise.all(Array.from({ length: 20 }, () => deliverStripe(payload)));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(responses.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect(await countInbox(String(event.id))).toBe(1);
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.counters).toEqual({ capacity: 3, taken: 3, sold: 3, held: 0 });
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed']);
  });

  it('completed, async_payment_succeeded and expired racing each other (5 copies each) → one completion', async () => {
    const p = await createPendingOrder({ quantity: 2, capacity: 2 });
    const paid = paidSessionFor(p);
    const payloads = [
      stripeEvent('checkout.session.completed', paid),
      stripeEvent('checkout.session.async_payment_succeeded', paid),
      stripeEvent('checkout.session.expired', { ...paid, payment_intent: null, payment_status: 'unpaid', status: 'expired' }),
    ].map((event) => JSON.stringify(event));
    const all = payloads.flatMap((payload) => Array.from({ length: 5 }, () => payload));
    const responses = await Promise.all(all.map((payload) => deliverStripe(payload)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    // Whether the expiry won the race or not, the tickets are sold exactly once.
    expect(s.counters).toEqual({ capacity: 2, taken: 2, sold: 2, held: 0 });
    const completions = s.audit.filter((a) => a.action === 'payment_completed' || a.action === 'late_payment_completed');
    expect(completions).toHaveLength(1);
    expect(s.payments).toHaveLength(1);
  });
});

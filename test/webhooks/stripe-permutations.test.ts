import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { processWebhookEvent } from '../../lib/webhooks/inbox.js';
import {
  createPendingOrder,
  deliverStripe,
  inboxRow,
  orderState,
  paidSessionFor,
  refundedChargeFor,
  refundFor,
  stripeEvent,
} from './support.js';
import { configureStripe } from '../support/providers.js';

/**
 * Every ordering, with duplicates, of completed / async_payment_succeeded / expired /
 * charge.refunded for one order ends in the same state: refunded, tickets sold once, one refund, and
 * exactly one audit entry per real change. A refund that arrives before the capture waits in the
 * inbox (failed, with backoff) and is applied by the retry; the test runs those retries as the cron
 * would, with the clock moved past the backoff.
 */

beforeAll(() => {
  configureStripe();
});

const NAMES = ['completed', 'async_succeeded', 'expired', 'refunded'] as const;
type Step = 0 | 1 | 2 | 3;

async function runSequence(sequence: readonly Step[]): Promise<void> {
  const p = await createPendingOrder({ quantity: 2, priceCents: 4_500, capacity: 10 });
  const total = p.order.totalCents;
  const paid = paidSessionFor(p);
  const refund = refundFor(p);
  const events = [
    stripeEvent('checkout.session.completed', paid),
    stripeEvent('checkout.session.async_payment_succeeded', paid),
    stripeEvent('checkout.session.expired', { ...paid, payment_intent: null, payment_status: 'unpaid', status: 'expired' }),
    stripeEvent('charge.refunded', refundedChargeFor(p, [refund])),
  ];
  for (const step of sequence) {
    const response = await deliverStripe(events[step] as Record<string, unknown>);
    expect(response.status).toBe(200);
  }
  // The retry cron's work for these events, with the clock moved past any backoff.
  const future = new Date(Date.now() + 24 * 3600_000);
  for (let round = 0; round < 3; round++) {
    for (const event of events) {
      const row = await inboxRow(String(event.id));
      if (row?.status === 'failed') await processWebhookEvent(row.id, { actor: { type: 'cron', id: 'test' }, now: future });
    }
  }

  const s = await orderState(p.order.id, p.ticketType.id);
  const label = sequence.map((i) => NAMES[i]).join(',');
  expect(s.order, label).toMatchObject({ status: 'refunded', refundedCents: total, attentionReason: null });
  expect(s.payments, label).toHaveLength(1);
  expect(s.payments[0], label).toMatchObject({ status: 'refunded', refundedCents: total });
  expect(
    s.refunds.map((r) => [r.source, r.status, r.amountCents, r.providerRefundId]),
    label,
  ).toEqual([['provider', 'succeeded', total, refund.id]]);
  // Capacity counted once: the two tickets are sold, nothing is held.
  expect(s.counters, label).toEqual({ capacity: 10, taken: 2, sold: 2, held: 0 });

  // One audit entry per real change: the expiry only happened if it came before any payment event.
  const firstPayment = Math.min(...[0, 1].map((step) => sequence.indexOf(step as Step)).filter((i) => i >= 0));
  const expiredFirst = sequence.indexOf(2) < firstPayment;
  const expected = expiredFirst
    ? ['hold_expired', 'late_payment_completed', 'provider_refund_recorded']
    : ['payment_completed', 'provider_refund_recorded'];
  expect(
    s.audit.map((a) => a.action),
    label,
  ).toEqual(expected);

  for (const event of events) {
    const row = await inboxRow(String(event.id));
    expect(row?.status, `${label}: ${String(event.type)}`).toBe('processed');
  }
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('Stripe events in any order, with duplicates', () => {
  it('all 24 orderings of the four events, each followed by a duplicate of the first, end the same', async () => {
    const all = permutations<Step>([0, 1, 2, 3]);
    expect(all).toHaveLength(24);
    for (const order of all) await runSequence([...order, order[0] as Step]);
  }, 120_000);

  it('100 generated sequences (each event 1-3 times, shuffled) end the same', async () => {
    const sequences = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }).chain((counts) => {
      const items = counts.flatMap((count, step) => Array.from({ length: count }, () => step as Step));
      return fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });
    });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(sequences, async (sequence) => {
        runs += 1;
        await runSequence(sequence);
      }),
      { numRuns: 100, seed: 20261125, endOnFailure: true },
    );
    expect(runs).toBe(100);
  }, 240_000);
});

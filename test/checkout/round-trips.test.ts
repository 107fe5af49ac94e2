import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import { db } from '../../lib/db/client.js';
import { setRateLimitCleanupChanceForTests } from '../../lib/http/rate-limit.js';
import type { RecordedRequest } from '../../sandbox/http-kit.js';
import { checkoutBody, createEventWithTicketTypes, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { useProviderSandboxes } from '../support/providers.js';
import { type RoundTripCounter, startCountingRoundTrips } from '../support/round-trips.js';

/**
 * Issue 17, the flash-sale round-trip budget (counted, not timed). "The request" is everything from the
 * handler being called until its Response is returned, for the request the checkout page sends (with an
 * Idempotency-Key, from a client address) with the rate limits ON as in production. Every statement a pool
 * connection sends counts (BEGIN and COMMIT too). The provider call is marked when the Stripe sandbox
 * receives it: a successful checkout may make at most 3 round trips before it and 1 after; a sold-out
 * answer at most 1 in all. Checkout does no work after its response (no waitUntil).
 */
const providers = useProviderSandboxes({ RATE_LIMIT_ENABLED: 'true' });
// The occasional clean-up of ended rate-limit windows runs after the response; keep it out of the count.
beforeAll(() => setRateLimitCleanupChanceForTests(0));
afterAll(() => setRateLimitCleanupChanceForTests());

let ipCounter = 0;
function headers(): Record<string, string> {
  ipCounter += 1;
  return {
    'idempotency-key': `rt-${Date.now()}-${ipCounter}-${Math.random().toString(36).slice(2)}`,
    'x-forwarded-for': `198.51.100.${ipCounter}`,
  };
}

/** Marks 'provider' when the Stripe sandbox receives the checkout-session call (it runs in this process). */
function markProviderCalls(trips: RoundTripCounter): () => void {
  const requests = providers.stripe.requests as RecordedRequest[];
  const push = requests.push;
  requests.push = (...items: RecordedRequest[]) => {
    if (items.some((r) => r.path === '/v1/checkout/sessions')) trips.mark('provider');
    return push.apply(requests, items);
  };
  return () => {
    requests.push = push;
  };
}

async function counted(body: Record<string, unknown>) {
  await db.query('SELECT 1'); // the pool is open before counting
  const trips = startCountingRoundTrips();
  const unmark = markProviderCalls(trips);
  try {
    const answer = await call(checkout.POST, { method: 'POST', headers: headers(), body });
    return { answer, trips };
  } finally {
    trips.stop();
    unmark();
  }
}

describe('checkout round-trip budget (issue 17)', () => {
  it('a successful checkout: at most 3 database round trips before the provider call and 1 after', async () => {
    const { event } = await createEventWithTicketTypes({ flash: { capacity: 10, priceCents: 4500 } });
    // A warm instance (modules loaded, provider SDK imported): the first checkout is not counted.
    const warm = await call(checkout.POST, {
      method: 'POST',
      headers: headers(),
      body: checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }]),
    });
    expect(warm.status).toBe(201);

    const { answer, trips } = await counted(checkoutBody(event, [{ ticketType: 'flash', quantity: 2 }]));
    expect(answer.status).toBe(201);
    const detail = trips.statements().join('\n');
    expect(trips.statements(), detail).toContain('-- mark: provider');
    expect(trips.countBefore('provider'), detail).toBeLessThanOrEqual(3);
    expect(trips.countAfter('provider'), detail).toBeLessThanOrEqual(1);
  });

  it('a sold-out checkout: at most 1 round trip, and the ticket-type row is not updated', async () => {
    const { event, types } = await createEventWithTicketTypes({ flash: { capacity: 1, priceCents: 4500 } });
    const first = await call(checkout.POST, {
      method: 'POST',
      headers: headers(),
      body: checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }]),
    });
    expect(first.status).toBe(201);
    const before = await db.queryOne<{ xmin: string }>('SELECT xmin::text FROM ticket_types WHERE id = $1', [types.flash.id]);

    const { answer, trips } = await counted(checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }]));
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('SOLD_OUT');
    expect(answer.body.error.details).toMatchObject({ ticketType: 'flash', requested: 1, remaining: 0 });
    expect(trips.count(), trips.statements().join('\n')).toBeLessThanOrEqual(1);
    // Not updated (nor locked by an UPDATE): the row version is the one before the refusal.
    const after = await db.queryOne<{ xmin: string }>('SELECT xmin::text FROM ticket_types WHERE id = $1', [types.flash.id]);
    expect(after?.xmin).toBe(before?.xmin);
    expect(await ticketCounters(types.flash.id)).toMatchObject({ capacity: 1, held: 1, sold: 0 });
  });
});

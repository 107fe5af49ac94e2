import { describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import { db } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { listFailuresForOrder } from '../../lib/db/models/payment-failures.js';
import { listPaymentsForOrder } from '../../lib/db/models/payments.js';
import { checkoutBody, createEventWithTicketTypes, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { useProviderSandboxes } from '../support/providers.js';

// Short provider timeout so the time-out case is quick (the sandbox hangs the request until closed).
const providers = useProviderSandboxes({ PROVIDER_TIMEOUT_MS: '800' });

async function orderOfEvent(eventId: string) {
  return await db.queryOne<{ id: string; status: string }>(
    'SELECT id, status FROM orders WHERE event_id = $1 ORDER BY created_at DESC LIMIT 1',
    [eventId],
  );
}

describe('provider failure → 502, hold released, failure recorded; a retry succeeds', () => {
  it('Stripe answers 500 api_error', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 2 } });
    providers.stripe.failNext({ match: 'POST /v1/checkout/sessions', kind: 'error', status: 500, code: 'api_error' });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 2 }]);
    const failed = await call(checkout.POST, { method: 'POST', body });
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { provider: 'stripe' } });
    expect(failed.text).not.toMatch(/stack|sk_test/);

    const order = await orderOfEvent(event.id);
    expect(order?.status).toBe('failed');
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0, sold: 0 });
    const [payment] = await listPaymentsForOrder(db, order?.id ?? '');
    expect(payment).toMatchObject({ status: 'failed', failureCount: 1, failureCode: 'api_error', providerSessionId: null });
    const failures = await listFailuresForOrder(db, order?.id ?? '');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ provider: 'stripe', code: 'api_error', retryCount: 0 });
    const audit = await listAuditForEntity(db, 'order', order?.id ?? '');
    expect(audit.map((a) => a.action)).toEqual(['checkout_started', 'checkout_provider_failed']);
    expect(audit[1]?.newValues).toMatchObject({ status: 'failed', providerCode: 'api_error' });

    // Capacity 2 was fully released: the retry can take both tickets.
    const retry = await call(checkout.POST, { method: 'POST', body });
    expect(retry.status).toBe(201);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 2 });
  });

  it('Stripe times out', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 1 } });
    providers.stripe.failNext({ match: 'POST /v1/checkout/sessions', kind: 'timeout' });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]);
    const failed = await call(checkout.POST, { method: 'POST', body });
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('PROVIDER_UNAVAILABLE');
    const order = await orderOfEvent(event.id);
    expect(order?.status).toBe('failed');
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0 });
    const failures = await listFailuresForOrder(db, order?.id ?? '');
    expect(failures.map((f) => f.code)).toEqual(['timeout']);

    const retry = await call(checkout.POST, { method: 'POST', body });
    expect(retry.status).toBe(201);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 1 });
  });

  it('Stripe refuses with a 4xx: its code is recorded', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 5 } });
    providers.stripe.failNext({ match: 'POST /v1/checkout/sessions', kind: 'error', status: 429, code: 'rate_limit' });
    const res = await call(checkout.POST, { method: 'POST', body: checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]) });
    expect(res.status).toBe(502);
    const order = await orderOfEvent(event.id);
    expect((await listFailuresForOrder(db, order?.id ?? '')).map((f) => f.code)).toEqual(['rate_limit']);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0 });
  });

  it('PayPal answers 503 and then times out; the third try succeeds', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 1 } });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }], { provider: 'paypal' });

    providers.paypal.failNext({ match: 'POST /v2/checkout/orders', kind: 'error', status: 503, code: 'SERVICE_UNAVAILABLE' });
    const first = await call(checkout.POST, { method: 'POST', body });
    expect(first.status).toBe(502);
    expect(first.body.error.details).toEqual({ provider: 'paypal' });
    const firstOrder = await orderOfEvent(event.id);
    expect(firstOrder?.status).toBe('failed');
    const firstFailures = await listFailuresForOrder(db, firstOrder?.id ?? '');
    expect(firstFailures[0]).toMatchObject({ provider: 'paypal' });
    expect(firstFailures[0]?.code).toMatch(/SERVICE_UNAVAILABLE/);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0 });

    providers.paypal.failNext({ match: 'POST /v2/checkout/orders', kind: 'timeout' });
    const second = await call(checkout.POST, { method: 'POST', body });
    expect(second.status).toBe(502);
    const secondOrder = await orderOfEvent(event.id);
    expect(secondOrder?.id).not.toBe(firstOrder?.id);
    expect((await listFailuresForOrder(db, secondOrder?.id ?? '')).map((f) => f.code)).toEqual(['timeout']);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0 });

    const third = await call(checkout.POST, { method: 'POST', body });
    expect(third.status).toBe(201);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 1 });
  });
});

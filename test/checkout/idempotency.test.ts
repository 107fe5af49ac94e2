import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import { db } from '../../lib/db/client.js';
import { AppError } from '../../lib/errors.js';
import { hashRequest, runIdempotently } from '../../lib/http/idempotency.js';
import { checkoutBody, createEventWithTicketTypes, eventFootprint, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { useProviderSandboxes } from '../support/providers.js';

const providers = useProviderSandboxes();
const SCOPE = 'POST /api/payments/checkout-session';

const post = (body: unknown, key?: string) =>
  call(checkout.POST, { method: 'POST', body, headers: key ? { 'idempotency-key': key } : {} });

function sessionsCreatedFor(orderId: string): number {
  return providers.stripe.requests.filter(
    (r) => r.path === '/v1/checkout/sessions' && r.headers['idempotency-key'] === `checkout-${orderId}`,
  ).length;
}

describe('Idempotency-Key on checkout', () => {
  it('same key and body, sequentially: one order, one hold, identical responses', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 10 } });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 2 }]);
    const key = `idem-${randomUUID()}`;
    const first = await post(body, key);
    const second = await post(body, key);
    const third = await post(body, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(third.body).toEqual(first.body);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 2 });
    expect(await eventFootprint(event.id)).toMatchObject({ orders: 1, payments: 1, orderItems: 2 });
    expect(sessionsCreatedFor(first.body.orderId)).toBe(1);
  });

  it('same key and body, concurrently: one order, one hold, identical responses', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 10 } });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 3 }]);
    const key = `idem-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 12 }, () => post(body, key)));
    const ok = results.filter((r) => r.status === 201);
    // Duplicates wait for the first one and replay it; only a very slow first request would leave some with 409.
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    }
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of ok) expect(r.body).toEqual(ok[0]?.body);
    expect(results.filter((r) => r.headers.get('idempotent-replayed') === null && r.status === 201)).toHaveLength(1);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 3 });
    expect(await eventFootprint(event.id)).toMatchObject({ orders: 1, payments: 1, orderItems: 3 });
  });

  it('the same request written differently (key order, whitespace) is the same request', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { capacity: 10 } });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]);
    const key = `idem-${randomUUID()}`;
    const first = await post(body, key);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const again = await call(checkout.POST, {
      method: 'POST',
      rawBody: JSON.stringify(reordered, null, 2),
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await eventFootprint(event.id)).toMatchObject({ orders: 1 });
  });

  it('same key with a different body → 422 IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { capacity: 10 } });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]);
    const key = `idem-${randomUUID()}`;
    expect((await post(body, key)).status).toBe(201);
    const before = await eventFootprint(event.id);
    const other = await post({ ...body, items: [{ ticketType: 'pass', quantity: 2 }] }, key);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await eventFootprint(event.id)).toEqual(before);
  });

  it('stores the key hashed, the response sealed (no access token in the database), kept at least 24 hours', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { capacity: 10 } });
    const key = `idem-${randomUUID()}`;
    const res = await post(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]), key);
    expect(res.status).toBe(201);
    const rows = await db.queryMany<{ key: string; body: string; kept: boolean; status: string; response_status: number }>(
      `SELECT key, response_body::text AS body, status, response_status,
              expires_at >= created_at + interval '24 hours' AND expires_at > now() + interval '23 hours' AS kept
       FROM idempotency_keys WHERE scope = $1 AND response_body::text LIKE '%"v": 1%' AND created_at > now() - interval '1 minute'`,
      [SCOPE],
    );
    expect(rows.some((r) => r.key === key)).toBe(false);
    const all = await db.queryOne<{ n: number }>(
      `SELECT count(*)::int AS n FROM idempotency_keys WHERE response_body::text LIKE '%' || $1 || '%'`,
      [res.body.accessToken],
    );
    expect(all?.n).toBe(0);
    const mine = rows.filter((r) => r.status === 'completed' && r.response_status === 201);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    for (const r of mine) expect(r.kept).toBe(true);
  });

  it('an error is not stored: after SOLD_OUT, the same key runs again once tickets are back', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 1, held: 1 } });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]);
    const key = `idem-${randomUUID()}`;
    const refused = await post(body, key);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SOLD_OUT');
    await db.query('UPDATE ticket_types SET capacity = 2 WHERE id = $1', [types.pass.id]);
    const retry = await post(body, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a provider failure is not stored: the retry with the same key gets a new order and succeeds', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { capacity: 1 } });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]);
    const key = `idem-${randomUUID()}`;
    providers.stripe.failNext({ match: 'POST /v1/checkout/sessions', kind: 'error', status: 500 });
    expect((await post(body, key)).status).toBe(502);
    const retry = await post(body, key);
    expect(retry.status).toBe(201);
    expect(await eventFootprint(event.id)).toMatchObject({ orders: 2, paymentFailures: 1 });
  });

  it('refuses a malformed key with 400 and writes nothing', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { capacity: 1 } });
    const before = await eventFootprint(event.id);
    const res = await post(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]), 'x'.repeat(256));
    expect(res.status).toBe(400);
    expect(await eventFootprint(event.id)).toEqual(before);
  });
});

describe('runIdempotently (the reusable helper)', () => {
  it('scopes keys, replays results, refuses another request under the same key, and releases on error', async () => {
    const key = `k-${randomUUID()}`;
    let runs = 0;
    const work = async () => ({ status: 201, body: { run: ++runs } });
    const a = await runIdempotently({ scope: 'POST /api/test-a', key, request: { amount: 1 } }, work);
    const b = await runIdempotently({ scope: 'POST /api/test-a', key, request: { amount: 1 } }, work);
    const c = await runIdempotently({ scope: 'POST /api/test-b', key, request: { amount: 1 } }, work);
    expect([a.body, b.body, c.body]).toEqual([{ run: 1 }, { run: 1 }, { run: 2 }]);
    expect([a.replayed, b.replayed, c.replayed]).toEqual([false, true, false]);
    await expect(runIdempotently({ scope: 'POST /api/test-a', key, request: { amount: 2 } }, work)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });

    const failing = `k-${randomUUID()}`;
    await expect(
      runIdempotently({ scope: 'POST /api/test-a', key: failing, request: {} }, async () => {
        throw new AppError('PROVIDER_UNAVAILABLE', 'down');
      }),
    ).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    const after = await runIdempotently({ scope: 'POST /api/test-a', key: failing, request: {} }, work);
    expect(after).toEqual({ status: 201, body: { run: 3 }, replayed: false });
  });

  it('a duplicate that cannot wait long enough gets 409 IDEMPOTENCY_IN_PROGRESS', async () => {
    const key = `k-${randomUUID()}`;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = runIdempotently({ scope: 'POST /api/test-c', key, request: { x: 1 } }, async () => {
      await gate;
      return { status: 200, body: { done: true } };
    });
    // Let the slow one claim the key first.
    for (let i = 0; i < 50; i++) {
      const row = await db.queryOne('SELECT 1 FROM idempotency_keys WHERE scope = $1', ['POST /api/test-c']);
      if (row) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await expect(
      runIdempotently({ scope: 'POST /api/test-c', key, request: { x: 1 }, waitMs: 100 }, async () => ({
        status: 200,
        body: {},
      })),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    release();
    expect((await slow).body).toEqual({ done: true });
    const waited = await runIdempotently({ scope: 'POST /api/test-c', key, request: { x: 1 } }, async () => ({
      status: 200,
      body: {},
    }));
    expect(waited).toEqual({ status: 200, body: { done: true }, replayed: true });
  });

  it('an expired key is forgotten: the request runs again', async () => {
    const key = `k-${randomUUID()}`;
    let runs = 0;
    const work = async () => ({ status: 200, body: { run: ++runs } });
    await runIdempotently({ scope: 'POST /api/test-d', key, request: {} }, work);
    await db.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '3 days', expires_at = now() - interval '1 day'
       WHERE scope = 'POST /api/test-d'`,
    );
    const again = await runIdempotently({ scope: 'POST /api/test-d', key, request: {} }, work);
    expect(again).toEqual({ status: 200, body: { run: 2 }, replayed: false });
  });

  it('hashRequest is canonical', () => {
    expect(hashRequest({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(hashRequest({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(hashRequest({ a: 1 })).not.toBe(hashRequest({ a: 2 }));
  });
});

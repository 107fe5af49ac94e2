import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import { recordCheckoutSessionShared } from '../../lib/checkout/create-checkout-session.js';
import { db } from '../../lib/db/client.js';
import { readCheckouts, recordCheckoutSessions } from '../../lib/db/queries/checkout.js';
import { statementGroups } from '../../lib/db/statement-groups.js';
import { setRateLimitCleanupChanceForTests, setRateLimitClockForTests } from '../../lib/http/rate-limit.js';
import { checkoutBody, createEventWithTicketTypes, ticketCounters, uniqueEmail } from '../support/factories.js';
import { call } from '../support/http.js';
import { useProviderSandboxes } from '../support/providers.js';
import { startCountingRoundTrips } from '../support/round-trips.js';

/**
 * Checkout's statements shared among concurrent requests: the fresh reads, and the after-provider writes
 * (checkout_record_sessions, migration 0172). The fresh reads (lib/checkout/create-checkout-session.ts,
 * lib/db/statement-groups.ts): with the rate limits ON as in production, requests for the same event and
 * ticket types that arrive while reads are running share the next statement, each with its own rate-limit
 * hits and Idempotency-Key look-up, and each still answered from a read that started after it asked.
 */
useProviderSandboxes({ RATE_LIMIT_ENABLED: 'true' });
beforeAll(() => setRateLimitCleanupChanceForTests(0));
afterAll(() => setRateLimitCleanupChanceForTests());
afterEach(() => setRateLimitClockForTests());

/** A ticket type with its one ticket already held: every further checkout is refused from the read. */
async function soldOutType() {
  const { event, types } = await createEventWithTicketTypes({ flash: { capacity: 1, priceCents: 4500 } });
  const first = await call(checkout.POST, {
    method: 'POST',
    headers: { 'x-forwarded-for': '203.0.113.250' },
    body: checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }]),
  });
  expect(first.status).toBe(201);
  return { event, type: types.flash };
}

describe('checkout reads shared by concurrent requests', () => {
  it('40 sold-out checkouts at once share their reads; each is refused, counted once, and writes nothing', async () => {
    const { event, type } = await soldOutType();
    const before = await db.queryOne<{ xmin: string }>('SELECT xmin::text FROM ticket_types WHERE id = $1', [type.id]);
    const tag = randomUUID().slice(0, 8);
    const ips = Array.from({ length: 40 }, (_, i) => `198.18.${Number.parseInt(tag.slice(0, 2), 16)}.${i + 1}`);

    await db.query('SELECT 1'); // the pool is open before counting
    const trips = startCountingRoundTrips();
    let answers: Awaited<ReturnType<typeof call>>[];
    try {
      answers = await Promise.all(
        ips.map((ip, i) =>
          call(checkout.POST, {
            method: 'POST',
            headers: { 'x-forwarded-for': ip, 'idempotency-key': `grouped-${tag}-${i}` },
            body: checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }], {
              customer: { email: uniqueEmail(`grouped-${i}`), firstName: 'Ana', lastName: 'García' },
            }),
          }),
        ),
      );
    } finally {
      trips.stop();
    }

    for (const answer of answers) {
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('SOLD_OUT');
      expect(answer.body.error.details).toMatchObject({ ticketType: 'flash', remaining: 0 });
      expect(answer.headers.get('ratelimit-remaining')).toBe('9');
    }
    // One statement per request would be 40 (the budget of a sold-out answer is 1 each).
    expect(trips.count(), trips.statements().join('\n')).toBeLessThan(40);
    expect(trips.count()).toBeGreaterThanOrEqual(1);
    // Each client's hit was counted once: its own bucket holds 1.
    const counters = await db.queryMany<{ bucket: string; count: number }>(
      'SELECT bucket, count FROM rate_limit_counters WHERE bucket = ANY($1::text[])',
      [ips.map((ip) => `checkout:ip:${ip}`)],
    );
    expect(counters).toHaveLength(40);
    expect(counters.every((c) => c.count === 1)).toBe(true);
    // Nothing written: no key claimed, the hot row untouched.
    const keys = await db.queryOne<{ n: number }>(
      'SELECT count(*)::int AS n FROM idempotency_keys WHERE key IN (SELECT unnest($1::text[]))',
      [ips.map((_, i) => `grouped-${tag}-${i}`)],
    );
    expect(keys?.n).toBe(0);
    const after = await db.queryOne<{ xmin: string }>('SELECT xmin::text FROM ticket_types WHERE id = $1', [type.id]);
    expect(after?.xmin).toBe(before?.xmin);
    expect(await ticketCounters(type.id)).toMatchObject({ capacity: 1, held: 1, sold: 0 });
  });

  it('15 requests at once from one client address: exactly the limit of 10 reach the read, 5 are refused 429', async () => {
    setRateLimitClockForTests(() => new Date('2031-03-01T10:00:20Z'));
    const { event } = await soldOutType();
    const ip = `198.19.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
    await db.query('SELECT 1');
    const trips = startCountingRoundTrips();
    let answers: Awaited<ReturnType<typeof call>>[];
    try {
      answers = await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          call(checkout.POST, {
            method: 'POST',
            headers: { 'x-forwarded-for': ip },
            body: checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }], {
              customer: { email: uniqueEmail(`same-ip-${i}`), firstName: 'Ana', lastName: 'García' },
            }),
          }),
        ),
      );
    } finally {
      trips.stop();
    }
    const codes = answers.map((a) => a.body.error.code).sort();
    expect(codes.filter((c) => c === 'SOLD_OUT')).toHaveLength(10);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(5);
    // Calls counting the same bucket never share a statement: 15 reads, each alone. (Sharing one would fail it,
    // ON CONFLICT cannot touch a row twice, and the retry one by one would make more than 15.)
    const reads = trips.statements().filter((text) => text.startsWith('WITH hits AS')).length;
    expect(reads, trips.statements().join('\n')).toBe(15);
    // The bucket was counted once per request.
    const counter = await db.queryOne<{ count: number }>(
      'SELECT count FROM rate_limit_counters WHERE bucket = $1 AND window_start = $2',
      [`checkout:ip:${ip}`, new Date('2031-03-01T10:00:00Z')],
    );
    expect(counter?.count).toBe(15);
  });

  it('one statement answers each read with its own counts and its own Idempotency-Key look-up', async () => {
    const { event, type } = await soldOutType();
    const scope = `grouped-read-${randomUUID()}`;
    await db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status, locked_at) VALUES ($1, 'known', repeat('a', 64), 'in_progress', now())`,
      [scope],
    );
    const now = new Date();
    const bucket = (n: number) => `test:grouped-read:${scope}:${n}`;
    await db.query(
      `INSERT INTO rate_limit_counters (bucket, window_start, count, expires_at)
       VALUES ($1, date_trunc('minute', $2::timestamptz), 4, $2::timestamptz + interval '2 minutes')`,
      [bucket(2), now],
    );
    const trips = startCountingRoundTrips();
    let reads: Awaited<ReturnType<typeof readCheckouts>>;
    try {
      reads = await readCheckouts(db, [
        { eventSlug: event.slug, codes: ['flash'], now, idempotencyKey: { scope, keyHash: 'known' } },
        { eventSlug: event.slug, codes: ['flash'], now, hits: [{ bucket: bucket(1), windowSeconds: 60 }] },
        {
          eventSlug: event.slug,
          codes: ['flash'],
          now,
          hits: [
            { bucket: bucket(2), windowSeconds: 60 },
            { bucket: bucket(3), windowSeconds: 60 },
          ],
          idempotencyKey: { scope, keyHash: 'unknown' },
        },
      ]);
    } finally {
      trips.stop();
    }
    expect(trips.count()).toBe(1);
    expect(reads.map((r) => r.idempotencyKeyInUse)).toEqual([true, false, false]);
    expect(reads.map((r) => r.rateLimitCounts.map((c) => c.current))).toEqual([[], [1], [5, 1]]);
    for (const read of reads) {
      expect(read.event?.slug).toBe(event.slug);
      expect(read.types.map((t) => ({ id: t.id, capacity: t.capacity, taken: t.taken }))).toEqual([
        { id: type.id, capacity: 1, taken: 1 },
      ]);
    }
    // Each read has its own objects.
    expect(reads[0]?.types[0]).not.toBe(reads[1]?.types[0]);
    // Reads for another set of ticket types never share a statement.
    await expect(
      readCheckouts(db, [
        { eventSlug: event.slug, codes: ['flash'], now },
        { eventSlug: event.slug, codes: ['other'], now },
      ]),
    ).rejects.toThrow(/same event and ticket types/);
  });

  it('20 sales at once: each payment gets its own session and each key its own answer', async () => {
    const { event } = await createEventWithTicketTypes({ flash: { capacity: 100, priceCents: 4500 } });
    const tag = randomUUID().slice(0, 8);
    const bodies = Array.from({ length: 20 }, (_, i) =>
      checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }], {
        customer: { email: uniqueEmail(`rec-${i}`), firstName: 'Ana', lastName: 'García' },
      }),
    );
    const send = (i: number) =>
      call(checkout.POST, {
        method: 'POST',
        headers: {
          'x-forwarded-for': `198.20.${Number.parseInt(tag.slice(0, 2), 16)}.${i + 1}`,
          'idempotency-key': `rec-${tag}-${i}`,
        },
        body: bodies[i],
      });
    await db.query('SELECT 1');
    const trips = startCountingRoundTrips();
    let answers: Awaited<ReturnType<typeof call>>[];
    try {
      answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));
    } finally {
      trips.stop();
    }
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    // Every sale made its after-provider write (shared or alone: how they meet depends on timing here; the
    // sharing itself is counted in the next test).
    expect(trips.statements().filter((text) => text.includes('checkout_record_sessions')).length).toBeGreaterThanOrEqual(1);
    // Each payment has its own session (the sandbox's, as answered to its buyer) and URL.
    const payments = await db.queryMany<{ order_id: string; provider_session_id: string; checkout_url: string }>(
      'SELECT order_id, provider_session_id, checkout_url FROM payments WHERE order_id = ANY($1::uuid[])',
      [answers.map((a) => a.body.orderId)],
    );
    expect(payments).toHaveLength(20);
    for (const answer of answers) {
      const payment = payments.find((p) => p.order_id === answer.body.orderId);
      expect(payment?.checkout_url).toBe(answer.body.checkoutUrl);
      expect(payment?.provider_session_id).toMatch(/^cs_/);
    }
    expect(new Set(payments.map((p) => p.provider_session_id)).size).toBe(20);
    // Each key holds its own stored answer (sealed): a retry with it replays its own order.
    const replays = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));
    expect(replays.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(replays.map((r) => r.body.orderId)).toEqual(answers.map((a) => a.body.orderId));
  });

  it('the shared after-provider write is all or nothing: a payment that is not there fails it and writes nothing', async () => {
    const { event } = await createEventWithTicketTypes({ flash: { capacity: 5, priceCents: 4500 } });
    const sale = await call(checkout.POST, {
      method: 'POST',
      headers: { 'x-forwarded-for': '198.21.0.1' },
      body: checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }]),
    });
    expect(sale.status).toBe(201);
    const payment = await db.queryOne<{ id: string; provider_session_id: string }>(
      'SELECT id, provider_session_id FROM payments WHERE order_id = $1',
      [sale.body.orderId],
    );
    if (!payment) throw new Error('payment missing');
    await expect(
      recordCheckoutSessions(db, [
        { paymentId: payment.id, session: { sessionId: 'cs_test_replaced', checkoutUrl: 'https://checkout.example/x' } },
        { paymentId: randomUUID(), session: { sessionId: 'cs_test_nowhere', checkoutUrl: 'https://checkout.example/y' } },
      ]),
    ).rejects.toThrow(/payment .* not found/);
    const after = await db.queryOne<{ provider_session_id: string }>('SELECT provider_session_id FROM payments WHERE id = $1', [
      payment.id,
    ]);
    expect(after?.provider_session_id).toBe(payment.provider_session_id);
  });

  it('after-provider writes that arrive together share statements, each payment still getting its own session', async () => {
    const { event } = await createEventWithTicketTypes({ flash: { capacity: 20, priceCents: 4500 } });
    const orderIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const sale = await call(checkout.POST, {
        method: 'POST',
        headers: { 'x-forwarded-for': `198.22.0.${i + 1}` },
        body: checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }]),
      });
      expect(sale.status).toBe(201);
      orderIds.push(sale.body.orderId);
    }
    const payments = await db.queryMany<{ id: string; order_id: string }>(
      'SELECT id, order_id FROM payments WHERE order_id = ANY($1::uuid[])',
      [orderIds],
    );
    expect(payments).toHaveLength(20);
    await db.query('SELECT 1');
    const trips = startCountingRoundTrips();
    try {
      await Promise.all(
        payments.map((p, i) =>
          recordCheckoutSessionShared({
            paymentId: p.id,
            session: { sessionId: `cs_test_shared_${i}`, checkoutUrl: `https://checkout.example/shared/${i}` },
          }),
        ),
      );
    } finally {
      trips.stop();
    }
    // At most 2 run at once: the first two alone, the 18 that waited in one statement (one each would be 20).
    expect(trips.count(), trips.statements().join('\n')).toBeLessThanOrEqual(4);
    const after = await db.queryMany<{ id: string; provider_session_id: string; checkout_url: string }>(
      'SELECT id, provider_session_id, checkout_url FROM payments WHERE id = ANY($1::uuid[])',
      [payments.map((p) => p.id)],
    );
    payments.forEach((p, i) => {
      const row = after.find((r) => r.id === p.id);
      expect(row).toMatchObject({
        provider_session_id: `cs_test_shared_${i}`,
        checkout_url: `https://checkout.example/shared/${i}`,
      });
    });
  });

  it('a statement already running never takes a call that asked after it started (the read stays fresh)', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const groups = statementGroups<number, number>({
      maxInFlight: () => 1,
      maxGroup: 50,
      keysOf: () => [],
      groupOf: () => 'same',
      runGroup: async (list) => {
        batches.push([...list]);
        if (batches.length === 1) await gate; // the first statement is still running
        return list.map((n) => n * 10);
      },
    });
    const first = groups.run(1);
    await Promise.resolve();
    const later = [2, 3, 4].map((n) => groups.run(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([[1]]);
    release();
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });
});

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as refundRoute from '../../api/payments/refund.js';
import * as retryCron from '../../api/cron/retry-webhooks.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db, transaction } from '../../lib/db/client.js';
import { logBusinessEventAfterCommit } from '../../lib/ops/business-events.js';
import { DEFAULT_RETRY_POLICY } from '../../lib/webhooks/inbox.js';
import { call } from '../support/http.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { makeKey, paidStripeOrder } from '../support/staff.js';
import { configureStripe, startStripeSandboxForApp, TEST_STRIPE_WEBHOOK_SECRET } from '../support/providers.js';
import {
  createPendingOrder,
  deliverStripe,
  inboxRow,
  type PendingOrder,
  paidSessionFor,
  refundedChargeFor,
  refundFor,
  stripeEvent,
} from '../webhooks/support.js';

/**
 * Business-event log lines (issue 16): one JSON line per order paid, refund settled and webhook dead,
 * written through lib/log.ts after the commit, with ids and without personal data. The logger's real
 * output (stdout/stderr) is captured and parsed; each event must appear exactly once.
 */

type Line = Record<string, unknown>;
let captured: string[] = [];
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);
const savedLogLevel = process.env.LOG_LEVEL;

function capture(stream: NodeJS.WriteStream, original: typeof process.stdout.write) {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('{')) captured.push(chunk);
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
}

beforeAll(() => {
  configureStripe();
  process.env.CRON_SECRET = 'business-events-test-cron-secret';
  process.env.LOG_LEVEL = 'info';
  resetConfigForTests();
  capture(process.stdout, originalStdout);
  capture(process.stderr, originalStderr);
});

afterAll(() => {
  process.stdout.write = originalStdout;
  process.stderr.write = originalStderr;
  if (savedLogLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = savedLogLevel;
  resetConfigForTests();
});

beforeEach(() => {
  captured = [];
});

afterEach(() => {
  captured = [];
});

const lines = (): Line[] => captured.flatMap((text) => text.trim().split('\n')).map((text) => JSON.parse(text) as Line);
const events = (event: string, match: Line) =>
  lines().filter((line) => line.event === event && Object.entries(match).every(([key, value]) => line[key] === value));

async function personalData(orderId: string): Promise<string[]> {
  const row = await db.queryOne<{ email: string; firstName: string; lastName: string }>(
    `SELECT c.email, c.first_name AS "firstName", c.last_name AS "lastName"
       FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1`,
    [orderId],
  );
  if (!row) throw new Error('no customer');
  return [row.email, row.firstName, row.lastName];
}

function expectNoPersonalData(line: Line, personal: string[]) {
  const text = JSON.stringify(line);
  expect(text).not.toContain('@');
  for (const value of personal) expect(text).not.toContain(value);
}

async function paidOrder(): Promise<PendingOrder> {
  const p = await createPendingOrder();
  const session = paidSessionFor(p);
  expect((await deliverStripe(stripeEvent('checkout.session.completed', session))).status).toBe(200);
  // The same payment reported again (a new event id: a provider retry) changes nothing and logs nothing.
  expect((await deliverStripe(stripeEvent('checkout.session.completed', session))).status).toBe(200);
  return p;
}

describe('business-event log lines', () => {
  it('order paid: one line after the commit, with ids and amounts, no personal data', async () => {
    const p = await paidOrder();
    const found = events('order.paid', { orderId: p.order.id });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      level: 'info',
      msg: 'order paid',
      orderId: p.order.id,
      orderNumber: p.order.orderNumber,
      paymentId: p.payment.id,
      provider: 'stripe',
      amountCents: p.order.totalCents,
      late: false,
    });
    expectNoPersonalData(found[0] as Line, await personalData(p.order.id));
  });

  it('refund settled (made in the dashboard): one line per refund, not repeated when the provider reports it again', async () => {
    const p = await paidOrder();
    const charge = refundedChargeFor(p, [refundFor(p)]);
    expect((await deliverStripe(stripeEvent('charge.refunded', charge))).status).toBe(200);
    expect((await deliverStripe(stripeEvent('charge.refunded', charge))).status).toBe(200);
    const found = events('refund.settled', { orderId: p.order.id });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      msg: 'refund settled',
      status: 'succeeded',
      previousStatus: null,
      source: 'provider',
      paymentId: p.payment.id,
      provider: 'stripe',
      amountCents: p.order.totalCents,
    });
    expect(found[0]?.refundId).toEqual(expect.any(String));
    expectNoPersonalData(found[0] as Line, await personalData(p.order.id));
  });

  it('refund settled (staff refund through the API, the one settle function): one line, not repeated on replay', async () => {
    let sandbox: StripeSandbox | undefined;
    try {
      sandbox = await startStripeSandboxForApp({ webhookSecret: TEST_STRIPE_WEBHOOK_SECRET });
      const staff = await makeKey(['refunds:write', 'orders:read']);
      const order = await paidStripeOrder(sandbox, { quantity: 2, priceCents: 5_000 });
      const refund = () =>
        call(refundRoute.POST, {
          method: 'POST',
          path: '/api/payments/refund',
          headers: { ...staff.header, 'idempotency-key': `business-events-${order.orderId}` },
          body: { orderId: order.orderId, amountCents: 3_000, reason: 'Partial refund: one workshop cancelled' },
        });
      expect((await refund()).status).toBe(201);
      expect((await refund()).status).toBeLessThan(300);
      const found = events('refund.settled', { orderId: order.orderId });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        msg: 'refund settled',
        status: 'succeeded',
        previousStatus: 'pending',
        source: 'admin',
        amountCents: 3_000,
        currency: 'USD',
      });
      expectNoPersonalData(found[0] as Line, await personalData(order.orderId));
    } finally {
      await sandbox?.close();
    }
  });

  it('webhook dead: one warn line when an event becomes dead, none while it is only failing', async () => {
    const p = await createPendingOrder();
    // A refund for an order never paid cannot apply: failed, then dead at the retry limit.
    const event = stripeEvent('charge.refunded', refundedChargeFor(p, [refundFor(p)]));
    await deliverStripe(event);
    const row = await inboxRow(String(event.id));
    expect(row?.status).toBe('failed');
    expect(events('webhook.dead', { webhookEventId: row?.id })).toHaveLength(0);
    await db.query(`UPDATE webhook_events SET attempts = $2, next_attempt_at = now() - interval '1 second' WHERE id = $1`, [
      row?.id,
      DEFAULT_RETRY_POLICY.maxAttempts - 1,
    ]);
    const cron = () =>
      call(retryCron.GET, {
        path: '/api/cron/retry-webhooks',
        headers: { authorization: 'Bearer business-events-test-cron-secret' },
      });
    expect((await cron()).status).toBe(200);
    expect((await inboxRow(String(event.id)))?.status).toBe('dead');
    expect((await cron()).status).toBe(200);
    const found = events('webhook.dead', { webhookEventId: row?.id });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      level: 'warn',
      msg: 'webhook dead',
      provider: 'stripe',
      providerEventId: String(event.id),
      eventType: 'charge.refunded',
      attempts: DEFAULT_RETRY_POLICY.maxAttempts,
    });
    expectNoPersonalData(found[0] as Line, await personalData(p.order.id));
  });

  it('is written only after the commit: a rolled-back transaction logs nothing', async () => {
    const marker = `rollback-${Date.now()}`;
    await expect(
      transaction(async (tx) => {
        logBusinessEventAfterCommit(tx, {
          event: 'webhook.dead',
          webhookEventId: marker,
          provider: 'stripe',
          providerEventId: marker,
          eventType: 'test',
          attempts: 1,
        });
        expect(events('webhook.dead', { webhookEventId: marker })).toHaveLength(0);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(events('webhook.dead', { webhookEventId: marker })).toHaveLength(0);
    await transaction(async (tx) => {
      logBusinessEventAfterCommit(tx, {
        event: 'webhook.dead',
        webhookEventId: marker,
        provider: 'stripe',
        providerEventId: marker,
        eventType: 'test',
        attempts: 1,
      });
      await tx.query('SELECT 1');
      // Not yet: the transaction has not committed.
      expect(events('webhook.dead', { webhookEventId: marker })).toHaveLength(0);
    });
    expect(events('webhook.dead', { webhookEventId: marker })).toHaveLength(1);
  });
});

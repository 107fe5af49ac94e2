import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as orderRoute from '../../api/orders/[id].js';
import * as auditRoute from '../../api/audit.js';
import * as refundRoute from '../../api/payments/refund.js';
import { generateApiKey } from '../../lib/auth/api-keys.js';
import { db } from '../../lib/db/client.js';
import { DbError } from '../../lib/db/errors.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { call } from '../support/http.js';
import { makeKey, makeRevokedKey, type PaidOrder, paidStripeOrder, type TestKey } from '../support/staff.js';
import { startStripeSandboxForApp } from '../support/providers.js';

let sandbox: StripeSandbox;
let staff: TestKey;
let mine: PaidOrder;
let theirs: PaidOrder;

beforeAll(async () => {
  sandbox = await startStripeSandboxForApp();
  staff = await makeKey(['orders:read', 'refunds:write']);
  mine = await paidStripeOrder(sandbox, { priceCents: 3_000, quantity: 2 });
  theirs = await paidStripeOrder(sandbox, { priceCents: 3_000, quantity: 1 });
  const refunded = await call(refundRoute.POST, {
    method: 'POST',
    path: '/api/payments/refund',
    headers: { ...staff.header, 'idempotency-key': randomUUID() },
    body: { orderId: mine.orderId, amountCents: 1_000, reason: 'Partial refund: one workshop cancelled' },
  });
  expect(refunded.status).toBe(201);
});

afterAll(async () => {
  await sandbox.close();
});

const getOrder = (id: string, authorization?: string) =>
  call(orderRoute.GET, { path: `/api/orders/${id}`, query: { id }, headers: authorization ? { authorization } : {} });

describe('GET /api/orders/{id} with an admin key: the full picture', () => {
  it('shows items, payment attempts, failures, refunds and the audit timeline; never the token hash', async () => {
    const res = await getOrder(mine.orderId, staff.header.authorization);
    expect(res.status).toBe(200);
    expect(res.body.order).toMatchObject({
      id: mine.orderId,
      status: 'partially_refunded',
      totalCents: 6_000,
      refundedCents: 1_000,
      refundableCents: 5_000,
      pendingRefundCents: 0,
    });
    expect(res.body.customer.email).toBe(mine.email);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.payments).toHaveLength(1);
    expect(res.body.payments[0]).toMatchObject({
      status: 'partially_refunded',
      providerPaymentId: mine.paymentIntentId,
      refundedCents: 1_000,
    });
    expect(res.body.failures).toEqual([]);
    expect(res.body.refunds).toHaveLength(1);
    expect(res.body.refunds[0]).toMatchObject({ amountCents: 1_000, status: 'succeeded', requestedBy: staff.id });
    const actions = res.body.audit.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['refund_requested', 'refund_succeeded']));
    expect(res.text).not.toMatch(/accessTokenHash|access_token_hash/);
    expect(res.text).not.toContain(mine.accessToken);

    const trail = await call(auditRoute.GET, {
      path: '/api/audit',
      query: { entity: 'order', id: mine.orderId },
      headers: staff.header,
    });
    expect(trail.status).toBe(200);
    expect(trail.body.data.map((e: { action: string }) => e.action)).toEqual(actions);
  });

  it('404 for a missing order or a malformed id; 401 for a bad key; 403 without orders:read', async () => {
    expect((await getOrder(randomUUID(), staff.header.authorization)).status).toBe(404);
    expect((await getOrder("1' OR '1'='1", staff.header.authorization)).status).toBe(404);
    const unknown = await getOrder(mine.orderId, `Bearer ${generateApiKey('live').key}`);
    expect(unknown.status).toBe(401);
    const revoked = await makeRevokedKey(['orders:read']);
    expect((await getOrder(mine.orderId, revoked.header.authorization)).status).toBe(401);
    expect((await getOrder(mine.orderId, 'bf_live_garbage')).status).toBe(401);
    const writer = await makeKey(['refunds:write']);
    expect((await getOrder(mine.orderId, writer.header.authorization)).status).toBe(403);
  });
});

describe('BOLA', () => {
  it("a buyer's token opens its own order only; on another order it is the same 404 as a missing one", async () => {
    const own = await getOrder(mine.orderId, `Bearer ${mine.accessToken}`);
    expect(own.status).toBe(200);
    expect(own.body.orderId).toBe(mine.orderId);
    expect(own.text).not.toContain('audit');

    const other = await getOrder(theirs.orderId, `Bearer ${mine.accessToken}`);
    const missing = await getOrder(randomUUID(), `Bearer ${mine.accessToken}`);
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(other.body.error.message).toBe(missing.body.error.message);
    expect(other.text).not.toContain(theirs.orderNumber);
  });

  it('a buyer token is not an API key: it cannot refund', async () => {
    const res = await call(refundRoute.POST, {
      method: 'POST',
      path: '/api/payments/refund',
      headers: { authorization: `Bearer ${mine.accessToken}`, 'idempotency-key': randomUUID() },
      body: { orderId: mine.orderId, reason: 'Buyer trying to refund themselves' },
    });
    expect(res.status).toBe(401);
  });
});

describe('the audit log is append-only at the database', () => {
  it('refuses UPDATE and DELETE of the entries a refund wrote', async () => {
    const entries = await db.queryMany<{ id: number }>(
      `SELECT id FROM payment_audit_log WHERE entity_type = 'refund' AND entity_id IN (SELECT id::text FROM refunds WHERE order_id = $1)`,
      [mine.orderId],
    );
    expect(entries.length).toBeGreaterThan(0);
    const id = entries[0]?.id;
    for (const sql of [
      `UPDATE payment_audit_log SET actor_id = 'someone-else' WHERE id = $1`,
      'DELETE FROM payment_audit_log WHERE id = $1',
    ]) {
      const error = await db.query(sql, [id]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, sql).toBeInstanceOf(DbError);
      expect((error as DbError).message).toContain('append-only');
    }
    const still = await db.queryOne<{ actorId: string }>('SELECT actor_id AS "actorId" FROM payment_audit_log WHERE id = $1', [
      id,
    ]);
    expect(still?.actorId).toBe(staff.id);
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as refundRoute from '../../api/payments/refund.js';
import { db } from '../../lib/db/client.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { listRefundsForOrder } from '../../lib/db/models/refunds.js';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { call } from '../support/http.js';
import { makeKey, paidPayPalOrder, type TestKey } from '../support/staff.js';
import { startPayPalSandboxForApp } from '../support/providers.js';

let paypal: PayPalSandbox;
let staff: TestKey;

beforeAll(async () => {
  paypal = await startPayPalSandboxForApp();
  staff = await makeKey(['refunds:write']);
});

afterAll(async () => {
  await paypal.close();
});

const refund = (body: Record<string, unknown>) =>
  call(refundRoute.POST, {
    method: 'POST',
    path: '/api/payments/refund',
    headers: { ...staff.header, 'idempotency-key': randomUUID() },
    body,
  });

describe('POST /api/payments/refund on a PayPal capture', () => {
  it('10 concurrent 25% refunds: exactly 4 succeed, each with its own PayPal-Request-Id; PayPal agrees on the total', async () => {
    const order = await paidPayPalOrder(paypal, { priceCents: 4_000, quantity: 2 });
    expect(order.totalCents).toBe(8_000);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        refund({ orderId: order.orderId, amountCents: 2_000, reason: 'PayPal partial refund test' }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(4);
    expect(answers.filter((a) => a.status === 422)).toHaveLength(6);

    const rows = await listRefundsForOrder(db, order.orderId);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.status === 'succeeded' && r.provider === 'paypal' && r.providerRefundId)).toBe(true);
    const after = await findOrderById(db, order.orderId);
    expect(after).toMatchObject({ status: 'refunded', refundedCents: 8_000 });
    expect(paypal.refundedAmount(order.captureId)).toBe(8_000);

    const refundCalls = paypal.requests.filter(
      (r) => r.method === 'POST' && r.path === `/v2/payments/captures/${order.captureId}/refund`,
    );
    expect(refundCalls).toHaveLength(4);
    expect(refundCalls.map((r) => r.headers['paypal-request-id']).sort()).toEqual(rows.map((r) => `refund-${r.id}`).sort());
    expect(refundCalls.map((r) => (r.body as { custom_id?: string }).custom_id).sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it('a PayPal refusal marks the refund failed and counts nothing (502)', async () => {
    const order = await paidPayPalOrder(paypal, { priceCents: 3_000, quantity: 1 });
    paypal.failNext({ match: 'POST /v2/payments/captures', kind: 'error', status: 422, code: 'REFUND_NOT_ALLOWED' });
    const refused = await refund({ orderId: order.orderId, reason: 'PayPal refuses this refund' });
    expect(refused.status).toBe(502);
    expect((await listRefundsForOrder(db, order.orderId)).map((r) => r.status)).toEqual(['failed']);
    expect(paypal.refundedAmount(order.captureId)).toBe(0);
    expect((await findOrderById(db, order.orderId))?.refundedCents).toBe(0);
  });
});

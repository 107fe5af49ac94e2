import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as checkinRoute } from '../../api/checkin.js';
import { GET as statsRoute } from '../../api/checkin/stats.js';
import * as refundRoute from '../../api/payments/refund.js';
import { db, transaction } from '../../lib/db/client.js';
import { issueTicketCodesInTx, ticketCodesForOrder } from '../../lib/tickets/ticket-codes.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { makeKey, paidStripeOrder, type TestKey } from '../support/staff.js';
import { startStripeSandboxForApp } from '../support/providers.js';
import { call } from '../support/http.js';
import { settleMail } from '../support/mail.js';
import { createPendingOrder } from '../webhooks/support.js';

/** Door check-in: each ticket admits once, whatever the number of simultaneous scans. */

let sandbox: StripeSandbox;
let door: TestKey;
let staff: TestKey;

beforeAll(async () => {
  sandbox = await startStripeSandboxForApp();
  door = await makeKey(['checkin:write']);
  staff = await makeKey(['refunds:write']);
});

afterAll(async () => {
  await settleMail();
  await sandbox?.close();
});

/** The order's ticket codes, issued as its confirmation email issues them. */
async function codesOf(orderId: string): Promise<string[]> {
  await transaction((tx) => issueTicketCodesInTx(tx, orderId));
  return [...(await ticketCodesForOrder(db, orderId)).values()];
}

const scan = (body: unknown, key: TestKey | null = door) =>
  call(checkinRoute, { method: 'POST', path: '/api/checkin', headers: key?.header ?? {}, body });

describe('POST /api/checkin', () => {
  it('20 concurrent scans of one code → exactly one 200 and nineteen 409 ALREADY_CHECKED_IN (when, door); audited once', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 1 });
    const [code] = await codesOf(order.orderId);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => scan({ code, door: `Door ${(i % 3) + 1}` })));
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 409);
    expect(admitted).toHaveLength(1);
    expect(refused).toHaveLength(19);
    const winner = admitted[0]!.body;
    expect(winner).toMatchObject({
      status: 'admitted',
      ticket: {
        orderNumber: order.orderNumber,
        ticketType: { code: 'full_pass' },
        attendee: { firstName: 'Dancer0', lastName: 'Rueda' },
      },
    });
    for (const answer of refused) {
      expect(answer.body.error.code).toBe('ALREADY_CHECKED_IN');
      expect(answer.body.error.details).toEqual({ checkedInAt: winner.checkedInAt, door: winner.door });
    }
    const rows = await db.queryMany(`SELECT * FROM ticket_checkins WHERE order_id = $1`, [order.orderId]);
    expect(rows).toHaveLength(1);
    const audit = await db.queryMany<{ actorId: string }>(
      `SELECT actor_id AS "actorId" FROM payment_audit_log WHERE entity_type = 'order' AND entity_id = $1 AND action = 'ticket_checked_in'`,
      [order.orderId],
    );
    expect(audit).toEqual([{ actorId: door.id }]);
  });

  it('a refunded ticket → 422 TICKET_NOT_VALID; an unpaid order’s ticket → 422; an unknown code → 404', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 2 });
    const codes = await codesOf(order.orderId);
    const refunded = await call(refundRoute.POST, {
      method: 'POST',
      path: '/api/payments/refund',
      headers: { ...staff.header, 'idempotency-key': `checkin-refund-${order.orderId}` },
      body: { orderId: order.orderId, reason: 'Buyer cannot come: full refund', releaseTickets: true },
    });
    expect(refunded.status).toBe(201);
    for (const code of codes) {
      const answer = await scan({ code });
      expect(answer.status).toBe(422);
      expect(answer.body.error).toMatchObject({ code: 'TICKET_NOT_VALID', details: { reason: 'refunded' } });
    }

    const pending = await createPendingOrder({ quantity: 1 });
    const [unpaidCode] = await codesOf(pending.order.id);
    const unpaid = await scan({ code: unpaidCode });
    expect(unpaid.status).toBe(422);
    expect(unpaid.body.error).toMatchObject({ code: 'TICKET_NOT_VALID', details: { reason: 'unpaid' } });

    await db.query(`UPDATE orders SET status = 'cancelled' WHERE id = $1`, [pending.order.id]);
    expect((await scan({ code: unpaidCode })).body.error.details.reason).toBe('cancelled');

    const unknown = await scan({ code: 'A'.repeat(43) });
    expect(unknown.status).toBe(404);
    expect((await scan({ code: 'not a code' })).status).toBe(404);
    expect((await scan({})).status).toBe(400);
    expect(
      await db.queryMany(`SELECT 1 FROM ticket_checkins WHERE order_id = ANY($1)`, [[order.orderId, pending.order.id]]),
    ).toEqual([]);
  });

  it('wrong scope → 403, no key → 401 (nothing admitted)', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 1 });
    const [code] = await codesOf(order.orderId);
    const wrong = await makeKey(['orders:read', 'refunds:write', 'messages:admin']);
    expect((await scan({ code }, wrong)).status).toBe(403);
    expect((await scan({ code }, null)).status).toBe(401);
    expect((await call(statsRoute, { path: '/api/checkin/stats', query: { event: 'x' } })).status).toBe(401);
    expect((await call(statsRoute, { path: '/api/checkin/stats', query: { event: 'x' }, headers: wrong.header })).status).toBe(
      403,
    );
    expect(await db.queryMany(`SELECT 1 FROM ticket_checkins WHERE order_id = $1`, [order.orderId])).toEqual([]);
    expect((await scan({ code })).status).toBe(200);
  });

  it('GET /api/checkin/stats: admitted / sold per ticket type', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 3 });
    const codes = await codesOf(order.orderId);
    await scan({ code: codes[0], door: 'North' });
    await scan({ code: codes[1], door: 'North' });
    await scan({ code: codes[1], door: 'South' });
    const slug = (await db.queryOne<{ slug: string }>(
      'SELECT e.slug FROM orders o JOIN events e ON e.id = o.event_id WHERE o.id = $1',
      [order.orderId],
    ))!.slug;
    const stats = await call(statsRoute, { path: '/api/checkin/stats', query: { event: slug }, headers: door.header });
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      event: { slug, name: 'A Lo Cubano Boulder Fest (test)' },
      ticketTypes: [{ code: 'full_pass', name: 'Pass full_pass', sold: 3, admitted: 2 }],
      totals: { sold: 3, admitted: 2 },
    });
    expect(
      (await call(statsRoute, { path: '/api/checkin/stats', query: { event: 'no-such-event' }, headers: door.header })).status,
    ).toBe(404);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import {
  type OneStatementCompletion,
  type StoreAndComplete,
  storeAndCompleteHeldOrders,
} from '../../lib/db/models/order-completion.js';
import { listMessagesForOrder } from '../../lib/db/models/outbox-messages.js';
import { storableEvent } from '../../lib/db/models/webhook-events.js';
import { statementGroups } from '../../lib/db/statement-groups.js';
import { statusesMovingTo } from '../../lib/payments/state-machine.js';
import { configureStripe } from '../support/providers.js';
import { startCountingRoundTrips } from '../support/round-trips.js';
import {
  countInbox,
  createPendingOrder,
  deliverStripe,
  inboxRow,
  orderState,
  type PendingOrder,
  paidSessionFor,
  stripeEvent,
} from './support.js';

/**
 * Group commit of the one-statement webhook completion (lib/db/statement-groups.ts, used by
 * lib/payments/finalize-order.ts): concurrent deliveries share statements, each still gets its own
 * answer and its own effects exactly once, and a group that fails is retried call by call.
 */

beforeAll(() => {
  configureStripe();
});

function completionOf(p: PendingOrder, overrides: Partial<OneStatementCompletion> = {}): OneStatementCompletion {
  const event = stripeEvent('checkout.session.completed', paidSessionFor(p));
  return {
    inbox: storableEvent({ providerEventId: String(event.id), eventType: 'checkout.session.completed', payload: event }),
    orderId: p.order.id,
    provider: 'stripe',
    providerSessionId: p.sessionId,
    providerPaymentId: p.paymentIntentId,
    amountCents: p.order.totalCents,
    currency: p.order.currency,
    methodType: 'card',
    methodBrand: 'visa',
    methodLast4: '4242',
    fee: null,
    actor: { type: 'provider', id: 'stripe' },
    orderFrom: statusesMovingTo('order', 'completed', ['pending', 'processing']),
    paymentFrom: statusesMovingTo('payment', 'completed'),
    ledgerWrites: true,
    at: new Date(),
    ...overrides,
  };
}

describe('webhook completions in groups', () => {
  it('40 deliveries at once (30 orders, 10 repeats) share statements; every order completes exactly once', async () => {
    const orders = await Promise.all(Array.from({ length: 30 }, () => createPendingOrder({ quantity: 1 })));
    const payloads = orders.map((p) => JSON.stringify(stripeEvent('checkout.session.completed', paidSessionFor(p))));
    const deliveries = [...payloads, ...payloads.slice(0, 10)];
    await db.query('SELECT 1');
    const trips = startCountingRoundTrips();
    let responses: Awaited<ReturnType<typeof deliverStripe>>[];
    try {
      responses = await Promise.all(deliveries.map((payload) => deliverStripe(payload)));
    } finally {
      trips.stop();
    }
    expect(responses.map((r) => r.status)).toEqual(deliveries.map(() => 200));
    // The test pool has 5 connections: at most 2 completion statements run at once, so 40 deliveries
    // arriving together cannot each have a statement of their own.
    const statements = trips.statements().filter((s) => s.includes('WITH i AS'));
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.length).toBeLessThan(30);
    // Exactly once, per order: completed, one audit entry, one capture, one confirmation, one inbox row.
    expect(responses.filter((r) => r.body.duplicate === false)).toHaveLength(30);
    for (const [index, p] of orders.entries()) {
      const s = await orderState(p.order.id, p.ticketType.id);
      expect(s.order.status).toBe('completed');
      expect(s.payments).toMatchObject([{ status: 'completed', providerPaymentId: p.paymentIntentId }]);
      expect(s.audit.map((a) => a.action)).toEqual(['payment_completed']);
      expect(s.counters).toMatchObject({ sold: 1, held: 0 });
      const ledger = await listLedgerForOrder(db, p.order.id);
      expect(ledger.map((l) => [l.kind, l.amountCents])).toEqual([['capture', p.order.totalCents]]);
      const messages = await listMessagesForOrder(db, p.order.id);
      expect(messages.filter((m) => m.kind === 'order_confirmation')).toHaveLength(1);
      const eventId = String(JSON.parse(payloads[index] as string).id);
      expect(await countInbox(eventId)).toBe(1);
      expect(await inboxRow(eventId)).toMatchObject({ status: 'processed', attempts: 1 });
    }
  });

  it('one statement, mixed: a completion, an amount mismatch, an unknown order and a stored event each get their own answer', async () => {
    const [paid, mismatch, stored] = await Promise.all([
      createPendingOrder({ quantity: 1 }),
      createPendingOrder({ quantity: 2 }),
      createPendingOrder({ quantity: 1 }),
    ]);
    const alreadyStored = completionOf(stored as PendingOrder);
    const [first] = await storeAndCompleteHeldOrders(db, [alreadyStored]);
    expect(first?.completed).toBeDefined();

    const unknownOrder = { ...completionOf(paid as PendingOrder), orderId: '00000000-0000-4000-8000-000000000001' };
    const list = [
      completionOf(paid as PendingOrder),
      completionOf(mismatch as PendingOrder, { amountCents: (mismatch as PendingOrder).order.totalCents - 1 }),
      alreadyStored,
      unknownOrder,
    ];
    const trips = startCountingRoundTrips();
    let outcomes: StoreAndComplete[];
    try {
      outcomes = await storeAndCompleteHeldOrders(db, list);
    } finally {
      trips.stop();
    }
    expect(trips.count()).toBe(1);
    const [completed, received, duplicate, unknown] = outcomes;
    expect(completed?.completed).toMatchObject({ orderId: paid?.order.id, previousStatus: 'pending' });
    expect(completed?.completed?.outboxMessageId).toEqual(expect.any(String));
    expect(received).toEqual({ stored: { isNew: true, event: { id: expect.any(String), status: 'received' } } });
    expect(duplicate).toEqual({ stored: { isNew: false, existing: { id: expect.any(String), status: 'processed' } } });
    expect(unknown).toEqual({ stored: { isNew: true, event: { id: expect.any(String), status: 'received' } } });

    // Only the completion wrote anything beyond its inbox row.
    const p = paid as PendingOrder;
    expect((await orderState(p.order.id, p.ticketType.id)).order.status).toBe('completed');
    const m = mismatch as PendingOrder;
    const left = await orderState(m.order.id, m.ticketType.id);
    expect(left.order.status).toBe('pending');
    expect(left.audit).toEqual([]);
    expect(await listLedgerForOrder(db, m.order.id)).toEqual([]);
    expect(await countInbox(alreadyStored.inbox.providerEventId)).toBe(1);
  });

  it('a group that fails is retried call by call: only the call with the bad row fails', async () => {
    const orders = await Promise.all(Array.from({ length: 4 }, () => createPendingOrder({ quantity: 1 })));
    const groupSizes: number[] = [];
    const groups = statementGroups<OneStatementCompletion, StoreAndComplete>({
      maxInFlight: () => 1,
      maxGroup: 10,
      keysOf: (c) => [c.inbox.providerEventId, c.orderId],
      groupOf: () => 'one',
      runGroup: (list) => {
        groupSizes.push(list.length);
        return storeAndCompleteHeldOrders(db, list);
      },
    });
    const list = orders.map((p) => completionOf(p));
    // Not JSON: the ::jsonb cast refuses it, and with it the whole statement of its group.
    const bad = {
      ...(list[2] as OneStatementCompletion),
      inbox: { ...(list[2] as OneStatementCompletion).inbox, payloadJson: '{' },
    };
    list[2] = bad;
    const settled = await Promise.allSettled(list.map((c) => groups.run(c)));
    // The first runs alone (a free slot); the other three queue and go together, fail, then one by one.
    expect(groupSizes).toEqual([1, 3, 1, 1, 1]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    for (const [index, p] of orders.entries()) {
      const s = await orderState(p.order.id, p.ticketType.id);
      expect(s.order.status).toBe(index === 2 ? 'pending' : 'completed');
      expect(s.audit.map((a) => a.action)).toEqual(index === 2 ? [] : ['payment_completed']);
    }
    expect(await countInbox(bad.inbox.providerEventId)).toBe(0);
  });
});

describe('statementGroups', () => {
  it('never puts two calls with a shared key in one group, keeps groups within maxGroup and slots within maxInFlight', async () => {
    const groups: string[][] = [];
    let running = 0;
    let mostRunning = 0;
    const grouped = statementGroups<{ id: string; keys: string[] }, string>({
      maxInFlight: () => 2,
      maxGroup: 4,
      keysOf: (input) => input.keys,
      groupOf: () => 'same',
      runGroup: async (inputs) => {
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        groups.push(inputs.map((input) => input.id));
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        return inputs.map((input) => `done:${input.id}`);
      },
    });
    const inputs = Array.from({ length: 20 }, (_, i) => ({ id: `c${i}`, keys: [`order:${i % 6}`] }));
    const outputs = await Promise.all(inputs.map((input) => grouped.run(input)));
    expect(outputs).toEqual(inputs.map((input) => `done:${input.id}`));
    expect(mostRunning).toBeLessThanOrEqual(2);
    expect(groups.flat().sort()).toEqual(inputs.map((input) => input.id).sort());
    for (const group of groups) {
      expect(group.length).toBeLessThanOrEqual(4);
      const keys = group.map((id) => `order:${Number(id.slice(1)) % 6}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
    expect(groups.some((group) => group.length > 1)).toBe(true);
  });

  it('the calls of a failed group run again one per statement, within the same limit of statements at once', async () => {
    const sizes: number[] = [];
    let running = 0;
    let mostRunning = 0;
    const grouped = statementGroups<{ id: string }, string>({
      maxInFlight: () => 2,
      maxGroup: 10,
      keysOf: (input) => [input.id],
      groupOf: () => 'same',
      runGroup: async (inputs) => {
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        sizes.push(inputs.length);
        await new Promise((resolve) => setTimeout(resolve, 3));
        running -= 1;
        if (inputs.length > 1) throw new Error('the group statement failed');
        if (inputs[0]?.id === 'c7') throw new Error('c7 fails on its own too');
        return inputs.map((input) => `done:${input.id}`);
      },
    });
    const inputs = Array.from({ length: 12 }, (_, i) => ({ id: `c${i}` }));
    const settled = await Promise.allSettled(inputs.map((input) => grouped.run(input)));
    expect(mostRunning).toBeLessThanOrEqual(2);
    expect(sizes.some((size) => size > 1)).toBe(true);
    expect(settled.map((s) => s.status)).toEqual(inputs.map((input) => (input.id === 'c7' ? 'rejected' : 'fulfilled')));
    expect(settled.filter((s) => s.status === 'fulfilled').map((s) => s.value)).toEqual(
      inputs.filter((input) => input.id !== 'c7').map((input) => `done:${input.id}`),
    );
  });

  it('calls with different statement parameters never share a group', async () => {
    const groups: string[][] = [];
    const grouped = statementGroups<{ id: string; rules: string }, string>({
      maxInFlight: () => 1,
      maxGroup: 10,
      keysOf: (input) => [input.id],
      groupOf: (input) => input.rules,
      runGroup: async (inputs) => {
        groups.push(inputs.map((input) => `${input.rules}:${input.id}`));
        await new Promise((resolve) => setTimeout(resolve, 2));
        return inputs.map((input) => input.id);
      },
    });
    const inputs = Array.from({ length: 9 }, (_, i) => ({ id: `c${i}`, rules: i % 2 === 0 ? 'a' : 'b' }));
    await Promise.all(inputs.map((input) => grouped.run(input)));
    for (const group of groups) expect(new Set(group.map((entry) => entry.split(':')[0])).size).toBe(1);
  });
});

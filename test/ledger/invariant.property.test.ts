import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { db, transaction } from '../../lib/db/client.js';
import { findLedgerMismatches, listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import { closeDisputeInTx, openDisputeInTx } from '../../lib/disputes/record-dispute.js';
import { recordProviderFeeInTx } from '../../lib/ledger/record-provider-fee.js';
import { finalizeOrderPaymentInTx } from '../../lib/payments/finalize-order.js';
import { matchProviderRefundInTx } from '../../lib/refunds/match-provider-refund.js';
import { makeOrder } from '../support/books.js';
import { createEventWithTicketTypes } from '../support/factories.js';

/**
 * The ledger invariant, for every order, over random sequences of the real money paths: the capture
 * (finalize, also delivered twice), refunds (as the provider reports them), refunds reversed after
 * succeeding (Stripe refund.failed), disputes opened, won and lost, the provider's fee and the fee
 * it gives back with a refund (reported again: the first report wins). After every step: the order's
 * ledger sum equals what its books say it kept (captured - refunded - lost disputes), its fee rows
 * equal its fee less the fees given back with its standing refunds, and both equal an independent
 * model kept by this test.
 */

const actor = { type: 'provider' as const, id: 'property-test' };

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('capture' as const) }),
  // feeBack: the fee the provider gave back with the refund (negative: charged one for it), when it said.
  fc.record({
    kind: fc.constant('refund' as const),
    share: fc.integer({ min: 1, max: 100 }),
    feeBack: fc.option(fc.integer({ min: -50, max: 300 }), { nil: undefined }),
  }),
  // The same refund reported again, with another fee: the first report wins.
  fc.record({ kind: fc.constant('rereport' as const), pick: fc.nat(), feeBack: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant('reverse' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('dispute' as const), share: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ kind: fc.constant('close' as const), pick: fc.nat(), won: fc.boolean() }),
  fc.record({ kind: fc.constant('fee' as const), cents: fc.integer({ min: 0, max: 2_000 }) }),
);

describe('ledger invariant', () => {
  it('holds for every order over random captures, refunds (with fees given back), reversals, disputes and fees', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('stripe' as const, 'paypal' as const),
        fc.array(stepArb, { minLength: 1, maxLength: 12 }),
        async (provider, steps) => {
          const { event, types } = await createEventWithTicketTypes({
            pass: { priceCents: 7_333, slidingScale: true, capacity: 10 },
          });
          const order = await makeOrder({
            eventId: event.id,
            provider,
            percent: 15,
            items: [{ ticketTypeId: types.pass.id, unitPriceCents: 7_333, quantity: 3, slidingScale: true }],
            at: new Date(),
            unpaidStatus: 'pending',
          });
          const model = {
            captured: false,
            refunds: [] as { id: string; amount: number; reversed: boolean; feeBack: number | undefined }[],
            disputes: [] as { id: string; amount: number; status: 'open' | 'won' | 'lost' }[],
            fee: null as number | null,
          };
          const refunded = () => model.refunds.filter((r) => !r.reversed).reduce((a, r) => a + r.amount, 0);
          const withheld = () => model.disputes.filter((d) => d.status !== 'won').reduce((a, d) => a + d.amount, 0);
          const lost = () => model.disputes.filter((d) => d.status === 'lost').reduce((a, d) => a + d.amount, 0);

          for (const step of steps) {
            const free = order.totalCents - refunded() - withheld();
            if (step.kind === 'capture') {
              const result = await transaction((tx) =>
                finalizeOrderPaymentInTx(tx, {
                  orderId: order.orderId,
                  provider,
                  providerPaymentId: order.providerPaymentId,
                  amountCents: order.totalCents,
                  currency: 'USD',
                  actor,
                }),
              );
              expect(['completed', 'already_final']).toContain(result.outcome);
              model.captured = true;
            } else if (!model.captured) {
              continue;
            } else if (step.kind === 'refund' && free > 0) {
              const amount = Math.max(1, Math.floor((free * step.share) / 100));
              const id = `${provider === 'stripe' ? 're' : 'RF'}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
              const result = await transaction((tx) =>
                matchProviderRefundInTx(
                  tx,
                  {
                    provider,
                    providerRefundId: id,
                    providerPaymentId: order.providerPaymentId,
                    amountCents: amount,
                    currency: 'USD',
                    status: 'succeeded',
                    fee: step.feeBack === undefined ? undefined : { feeReturnedCents: step.feeBack, currency: 'USD' },
                  },
                  actor,
                ),
              );
              expect(result.outcome).toBe('created');
              model.refunds.push({ id, amount, reversed: false, feeBack: step.feeBack });
            } else if (step.kind === 'rereport') {
              const target = model.refunds[step.pick % Math.max(1, model.refunds.length)];
              if (!target) continue;
              await transaction((tx) =>
                matchProviderRefundInTx(
                  tx,
                  {
                    provider,
                    providerRefundId: target.id,
                    providerPaymentId: order.providerPaymentId,
                    amountCents: target.amount,
                    currency: 'USD',
                    status: target.reversed ? 'failed' : 'succeeded',
                    fee: { feeReturnedCents: step.feeBack, currency: 'USD' },
                  },
                  actor,
                ),
              );
              // A fee not known yet is taken from this report (only while the refund stands).
              if (!target.reversed) target.feeBack ??= step.feeBack;
            } else if (step.kind === 'reverse') {
              const live = model.refunds.filter((r) => !r.reversed);
              const target = live[step.pick % Math.max(1, live.length)];
              if (!target) continue;
              await transaction((tx) =>
                matchProviderRefundInTx(
                  tx,
                  {
                    provider,
                    providerRefundId: target.id,
                    providerPaymentId: order.providerPaymentId,
                    amountCents: target.amount,
                    currency: 'USD',
                    status: 'failed',
                  },
                  actor,
                ),
              );
              target.reversed = true;
            } else if (step.kind === 'dispute' && free > 0) {
              const amount = Math.max(1, Math.floor((free * step.share) / 100));
              const id = `dp_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
              const report = {
                provider,
                providerDisputeId: id,
                providerPaymentId: order.providerPaymentId,
                amountCents: amount,
                currency: 'USD',
                actor,
              };
              expect((await transaction((tx) => openDisputeInTx(tx, report))).outcome).toBe('recorded');
              model.disputes.push({ id, amount, status: 'open' });
            } else if (step.kind === 'close') {
              const open = model.disputes.filter((d) => d.status === 'open');
              const target = open[step.pick % Math.max(1, open.length)];
              if (!target) continue;
              const status = step.won ? ('won' as const) : ('lost' as const);
              await transaction((tx) =>
                closeDisputeInTx(tx, {
                  provider,
                  providerDisputeId: target.id,
                  providerPaymentId: order.providerPaymentId,
                  amountCents: target.amount,
                  currency: 'USD',
                  actor,
                  status,
                }),
              );
              target.status = status;
            } else if (step.kind === 'fee') {
              const outcome = await transaction((tx) =>
                recordProviderFeeInTx(tx, {
                  paymentId: order.paymentId,
                  feeCents: step.cents,
                  currency: 'USD',
                  providerRef: `fee-${order.paymentId}`,
                }),
              );
              expect(outcome).toBe(model.fee === null ? 'recorded' : 'already_recorded');
              model.fee ??= step.cents;
            }

            // After every step: books == ledger (the SQL invariant) and ledger == the model.
            expect(await findLedgerMismatches(db, order.orderId)).toEqual([]);
            const entries = await listLedgerForOrder(db, order.orderId);
            const money = entries.filter((e) => e.kind !== 'fee').reduce((a, e) => a + e.amountCents, 0);
            const fees = entries.filter((e) => e.kind === 'fee').reduce((a, e) => a + e.amountCents, 0);
            expect(money).toBe(model.captured ? order.totalCents - refunded() - lost() : 0);
            const feesBack = model.refunds.filter((r) => !r.reversed).reduce((a, r) => a + (r.feeBack ?? 0), 0);
            expect(fees).toBe((model.fee ? -model.fee : 0) + feesBack);
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 240_000);
});

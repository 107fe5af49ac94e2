import { randomString } from '../http-kit.js';
import { luhnValid } from './helpers.js';
import { type ChargeRecord, type SessionRecord, TEST_CARDS } from './records.js';
import type { StripeCardInput, StripePayResult } from './types.js';
import type { StripeState } from './state.js';
import type { Renderers } from './render.js';
import type { StripeEvents } from './events.js';

/** Paying: a session's expiry, finding sessions, and the card payment (from the page or pay()) with its events. */
export function createPayment(state: StripeState, render: Renderers, ev: StripeEvents) {
  const { nowSeconds, sessions, paymentIntents, charges } = state;
  const { renderCharge, renderPaymentIntent, renderSession } = render;
  const { buildEvent, emitInBackground, events } = ev;

  /** Applies expiry lazily: an open session whose expires_at has passed becomes expired (and the event is sent). */
  function refreshExpiry(session: SessionRecord): void {
    if (session.status === 'open' && nowSeconds() >= session.expiresAt) {
      session.status = 'expired';
      emitInBackground('checkout.session.expired', renderSession(session), { id: null, idempotencyKey: null });
    }
  }

  function findSession(id: string): SessionRecord | undefined {
    const session = sessions.get(id);
    if (session) refreshExpiry(session);
    return session;
  }

  function successRedirect(session: SessionRecord): string | null {
    return session.successUrl ? session.successUrl.replaceAll('{CHECKOUT_SESSION_ID}', session.id) : null;
  }

  async function pay(sessionId: string, input: string | StripeCardInput): Promise<StripePayResult> {
    const cardInput: StripeCardInput = typeof input === 'string' ? { number: input } : input;
    const session = findSession(sessionId);
    if (!session) return { outcome: 'rejected', reason: 'no_such_session', message: `No such checkout.session: '${sessionId}'` };
    if (session.status !== 'open') {
      const message =
        session.status === 'complete' ? 'This Checkout Session has already been paid.' : 'This Checkout Session has expired.';
      return { outcome: 'rejected', reason: 'session_not_open', message };
    }
    const digits = cardInput.number.replace(/[\s-]/g, '');
    const card = TEST_CARDS.find((c) => c.number === digits);
    if (!card) {
      const message = luhnValid(digits)
        ? 'This sandbox only accepts Stripe test cards, e.g. 4242 4242 4242 4242 (success) or 4000 0000 0000 0002 (declined).'
        : 'Your card number is invalid.';
      return { outcome: 'rejected', reason: 'invalid_card', message };
    }

    const created = nowSeconds();
    const email = cardInput.email?.trim() || session.customerEmail;
    const name = cardInput.name?.trim() || null;
    let pi = session.paymentIntentId ? paymentIntents.get(session.paymentIntentId) : undefined;
    if (!pi) {
      const piId = `pi_${randomString(24)}`;
      pi = {
        id: piId,
        created,
        amount: session.amountTotal,
        currency: session.currency,
        status: 'requires_payment_method',
        latestChargeId: null,
        paymentMethodId: null,
        metadata: { ...session.paymentIntentMetadata },
        description: session.paymentIntentDescription,
        receiptEmail: null,
        lastPaymentError: null,
        clientSecret: `${piId}_secret_${randomString(25)}`,
      };
      paymentIntents.set(pi.id, pi);
      session.paymentIntentId = pi.id;
    }
    const paymentMethodId = `pm_${randomString(24)}`;
    const chargeId = `ch_${randomString(24)}`;
    const charge: ChargeRecord = {
      id: chargeId,
      created,
      amount: pi.amount,
      currency: pi.currency,
      paymentIntentId: pi.id,
      paymentMethodId,
      status: card.decline ? 'failed' : 'succeeded',
      card,
      amountRefunded: 0,
      failure: card.decline,
      billingEmail: email,
      billingName: name,
      metadata: { ...pi.metadata },
      refundIds: [],
      balanceTransactionId: card.decline
        ? null
        : state.balance.recordCharge({
            chargeId: chargeId,
            amount: pi.amount,
            currency: pi.currency,
            created,
            description: pi.description,
          }).id,
    };
    charges.set(charge.id, charge);
    const booked = charge.balanceTransactionId ? state.balance.get(charge.balanceTransactionId) : undefined;
    if (booked) {
      // The listing (reconciliation) shows the same transaction with the same fee as the one the charge carries.
      state.reporting.recordCharge({
        id: booked.id,
        chargeId: charge.id,
        amount: charge.amount,
        currency: charge.currency,
        created,
        fee: booked.fee,
      });
    }
    pi.latestChargeId = charge.id;
    pi.paymentMethodId = paymentMethodId;

    if (card.decline) {
      pi.status = 'requires_payment_method';
      pi.lastPaymentError = { ...card.decline, chargeId: charge.id, card, paymentMethodId };
      const paymentIntent = renderPaymentIntent(pi);
      const event = buildEvent('payment_intent.payment_failed', paymentIntent);
      const delivery = await events.deliver(event);
      return {
        outcome: 'declined',
        declineCode: card.decline.declineCode,
        message: card.decline.message,
        session: renderSession(session),
        paymentIntent,
        charge: renderCharge(charge),
        event,
        delivery,
      };
    }

    pi.status = 'succeeded';
    pi.lastPaymentError = null;
    pi.receiptEmail = email;
    session.status = 'complete';
    session.paymentStatus = 'paid';
    session.customerDetails = { email, name };
    const rendered = renderSession(session);
    const event = buildEvent('checkout.session.completed', rendered);
    const delivery = await events.deliver(event);
    return {
      outcome: 'succeeded',
      session: rendered,
      paymentIntent: renderPaymentIntent(pi),
      charge: renderCharge(charge),
      event,
      delivery,
      redirectUrl: successRedirect(session),
    };
  }

  return { findSession, pay, refreshExpiry, successRedirect };
}

export type Payment = ReturnType<typeof createPayment>;

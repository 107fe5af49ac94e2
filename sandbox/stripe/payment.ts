import { randomString } from '../http-kit.js';
import { luhnValid } from './helpers.js';
import {
  BANK_DEBIT_FAILURE,
  type ChargeRecord,
  type PaymentIntentRecord,
  type SessionRecord,
  TEST_BANK_ACCOUNT,
  TEST_CARDS,
  type TestCard,
} from './records.js';
import type { StripeAsyncPayment, StripeCardInput, StripePayResult } from './types.js';
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
    const pi = intentOf(session, created);
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
        : bookCharge({ chargeId, amount: pi.amount, currency: pi.currency, created, description: pi.description }),
    };
    charges.set(charge.id, charge);
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

  /**
   * Books a succeeded charge: its balance transaction (with Stripe's fee), and the same transaction with the same
   * fee in the reporting listing (reconciliation). Returns the balance transaction's id.
   */
  function bookCharge(input: {
    chargeId: string;
    amount: number;
    currency: string;
    created: number;
    description: string | null;
  }): string {
    const booked = state.balance.recordCharge(input);
    state.reporting.recordCharge({
      id: booked.id,
      chargeId: input.chargeId,
      amount: input.amount,
      currency: input.currency,
      created: input.created,
      fee: booked.fee,
    });
    return booked.id;
  }

  /** The payment intent a session pays with (made on the first attempt). */
  function intentOf(session: SessionRecord, created: number): PaymentIntentRecord {
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
    return pi;
  }

  /** Placeholder "card" of a bank debit charge (its details render as us_bank_account). */
  const BANK_DEBIT: TestCard = {
    number: TEST_BANK_ACCOUNT.last4,
    brand: 'us_bank_account',
    funding: 'debit',
    country: 'US',
    decline: null,
  };

  /**
   * The buyer pays with a US bank account (ACH Direct Debit), an async method: Checkout completes at once with
   * payment_status `unpaid`, the PaymentIntent is `processing` and its charge `pending`, and
   * `checkout.session.completed` is sent. The money arrives (or not) days later: settleAsyncPayment().
   */
  async function payByBankDebit(sessionId: string, buyer: { email?: string; name?: string } = {}): Promise<StripeAsyncPayment> {
    const session = findSession(sessionId);
    if (!session) throw new Error(`stripe sandbox: no session ${sessionId}`);
    if (session.status !== 'open') throw new Error(`stripe sandbox: session ${sessionId} is ${session.status}, not open`);
    const created = nowSeconds();
    const email = buyer.email?.trim() || session.customerEmail;
    const pi = intentOf(session, created);
    const charge: ChargeRecord = {
      id: `ch_${randomString(24)}`,
      created,
      amount: pi.amount,
      currency: pi.currency,
      paymentIntentId: pi.id,
      paymentMethodId: `pm_${randomString(24)}`,
      status: 'pending',
      card: BANK_DEBIT,
      bankAccount: TEST_BANK_ACCOUNT,
      amountRefunded: 0,
      failure: null,
      billingEmail: email,
      billingName: buyer.name?.trim() || null,
      metadata: { ...pi.metadata },
      refundIds: [],
      balanceTransactionId: null,
    };
    charges.set(charge.id, charge);
    pi.latestChargeId = charge.id;
    pi.paymentMethodId = charge.paymentMethodId;
    pi.status = 'processing';
    pi.lastPaymentError = null;
    pi.receiptEmail = email;
    session.status = 'complete';
    session.paymentStatus = 'unpaid';
    session.customerDetails = { email, name: charge.billingName };
    const rendered = renderSession(session);
    const event = buildEvent('checkout.session.completed', rendered);
    const delivery = await events.deliver(event);
    return { session: rendered, paymentIntent: renderPaymentIntent(pi), charge: renderCharge(charge), event, delivery };
  }

  /**
   * The bank debit of a `processing` session clears or fails. `succeeded`: charge succeeded (with its balance
   * transaction and fee), PaymentIntent succeeded, session payment_status `paid`, event
   * `checkout.session.async_payment_succeeded`. `failed`: charge failed (insufficient funds), PaymentIntent back to
   * `requires_payment_method` with last_payment_error, session still `unpaid`, event
   * `checkout.session.async_payment_failed`.
   */
  async function settleAsyncPayment(sessionId: string, outcome: 'succeeded' | 'failed'): Promise<StripeAsyncPayment> {
    const session = findSession(sessionId);
    const pi = session?.paymentIntentId ? paymentIntents.get(session.paymentIntentId) : undefined;
    const charge = pi?.latestChargeId ? charges.get(pi.latestChargeId) : undefined;
    if (!session || !pi || !charge || pi.status !== 'processing') {
      throw new Error(`stripe sandbox: session ${sessionId} has no payment processing`);
    }
    if (outcome === 'succeeded') {
      charge.balanceTransactionId = bookCharge({
        chargeId: charge.id,
        amount: charge.amount,
        currency: charge.currency,
        created: nowSeconds(),
        description: pi.description,
      });
      charge.status = 'succeeded';
      pi.status = 'succeeded';
      session.paymentStatus = 'paid';
    } else {
      charge.status = 'failed';
      charge.failure = BANK_DEBIT_FAILURE;
      pi.status = 'requires_payment_method';
      pi.lastPaymentError = {
        ...BANK_DEBIT_FAILURE,
        chargeId: charge.id,
        card: charge.card,
        paymentMethodId: charge.paymentMethodId,
        bankAccount: charge.bankAccount,
      };
    }
    const rendered = renderSession(session);
    const type = outcome === 'succeeded' ? 'checkout.session.async_payment_succeeded' : 'checkout.session.async_payment_failed';
    const event = buildEvent(type, rendered);
    const delivery = await events.deliver(event);
    return { session: rendered, paymentIntent: renderPaymentIntent(pi), charge: renderCharge(charge), event, delivery };
  }

  return { findSession, pay, payByBankDebit, refreshExpiry, settleAsyncPayment, successRedirect };
}

export type Payment = ReturnType<typeof createPayment>;

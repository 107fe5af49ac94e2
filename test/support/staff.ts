import { randomUUID } from 'node:crypto';
import { type ApiKeyScope, createApiKey, revokeApiKey } from '../../lib/auth/api-keys.js';
import { db } from '../../lib/db/client.js';
import type { Actor } from '../../lib/db/models/audit-log.js';
import { finalizeOrderPayment } from '../../lib/payments/finalize-order.js';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { payPalApprovedAndCaptured, startCheckout } from './checkout.js';
import { checkoutBody, createEventWithTicketTypes } from './factories.js';

/** Test helpers for the back office: real keys made by the real domain functions. */

export const TEST_ACTOR: Actor = { type: 'system', id: 'test-suite' };

export interface TestKey {
  key: string;
  id: string;
  header: Record<string, string>;
}

export async function makeKey(
  scopes: readonly ApiKeyScope[],
  options: { expiresAt?: Date; rateLimitPerMinute?: number; name?: string } = {},
): Promise<TestKey> {
  const created = await createApiKey(
    {
      name: options.name ?? `test ${scopes.join(' ').slice(0, 80)} ${randomUUID().slice(0, 6)}`,
      scopes,
      environment: 'test',
      expiresAt: options.expiresAt,
      rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000,
    },
    TEST_ACTOR,
  );
  return { key: created.key, id: created.record.id, header: { authorization: `Bearer ${created.key}` } };
}

export async function makeExpiredKey(scopes: readonly ApiKeyScope[]): Promise<TestKey> {
  return await makeKey(scopes, { expiresAt: new Date(Date.now() - 60_000) });
}

export async function makeRevokedKey(scopes: readonly ApiKeyScope[]): Promise<TestKey> {
  const made = await makeKey(scopes);
  await revokeApiKey(made.id, TEST_ACTOR);
  return made;
}

/** The error body without its per-request id. */
export function withoutRequestId(body: { error?: { requestId?: string } } | undefined): unknown {
  if (!body?.error) return body;
  const { requestId: _id, ...rest } = body.error;
  return { error: rest };
}

// ---------------------------------------------------------------------------------------------
// Paid orders through the real flow: checkout (domain function) → sandbox payment page → finalize. The sandboxes
// come from test/support/providers.ts (startStripeSandboxForApp / startPayPalSandboxForApp).

export interface PaidOrder {
  orderId: string;
  orderNumber: string;
  accessToken: string;
  paymentIntentId: string;
  totalCents: number;
  ticketTypeId: string;
  email: string;
}

/** `quantity` tickets at `priceCents` each, bought with Stripe and paid on the sandbox's payment page. */
export async function paidStripeOrder(
  sandbox: StripeSandbox,
  options: {
    priceCents?: number;
    quantity?: number;
    capacity?: number;
    email?: string;
    firstName?: string;
    lastName?: string;
    attendeeLastName?: string;
  } = {},
): Promise<PaidOrder> {
  const quantity = options.quantity ?? 2;
  const { event, types } = await createEventWithTicketTypes({
    full_pass: { priceCents: options.priceCents ?? 5_000, capacity: options.capacity ?? 50 },
  });
  const body = checkoutBody(event, [
    {
      ticketType: 'full_pass',
      quantity,
      attendees: Array.from({ length: quantity }, (_, i) => ({
        firstName: `Dancer${i}`,
        lastName: options.attendeeLastName ?? 'Rueda',
        email: `dancer${i}.${randomUUID().slice(0, 8)}@example.test`,
      })),
    },
  ]);
  const customer = body.customer as { email: string; firstName: string; lastName: string };
  if (options.email) customer.email = options.email;
  if (options.firstName) customer.firstName = options.firstName;
  if (options.lastName) customer.lastName = options.lastName;
  const { request, created, sessionId } = await startCheckout(body);
  const paid = await sandbox.pay(sessionId, '4242424242424242');
  if (paid.outcome !== 'succeeded') throw new Error(`sandbox payment ${paid.outcome}`);
  const paymentIntentId = String(paid.paymentIntent.id);
  const result = await finalizeOrderPayment({
    orderId: created.orderId,
    provider: 'stripe',
    providerSessionId: sessionId,
    providerPaymentId: paymentIntentId,
    amountCents: Number(paid.paymentIntent.amount),
    currency: String(paid.paymentIntent.currency),
    actor: { type: 'provider', id: 'test' },
  });
  // 'already_final': the sandbox's checkout.session.completed webhook (when one is wired) got there first.
  if (result.outcome !== 'completed' && result.outcome !== 'already_final') throw new Error(`finalize: ${result.outcome}`);
  return {
    orderId: created.orderId,
    orderNumber: created.orderNumber,
    accessToken: created.accessToken,
    paymentIntentId,
    totalCents: created.totalCents,
    ticketTypeId: types.full_pass.id,
    email: request.customer.email,
  };
}

/** `quantity` tickets bought with PayPal: checkout → buyer approves on the sandbox → capture on return. */
export async function paidPayPalOrder(
  sandbox: PayPalSandbox,
  options: { priceCents?: number; quantity?: number } = {},
): Promise<PaidOrder & { captureId: string }> {
  const quantity = options.quantity ?? 2;
  const { event, types } = await createEventWithTicketTypes({
    full_pass: { priceCents: options.priceCents ?? 5_000, capacity: 50 },
  });
  const checkout = await startCheckout(checkoutBody(event, [{ ticketType: 'full_pass', quantity }], { provider: 'paypal' }));
  const { request, created } = checkout;
  const captured = await payPalApprovedAndCaptured(sandbox, checkout);
  if (captured.order.status !== 'completed') throw new Error(`capture: ${captured.order.status}`);
  const row = await db.queryOne<{ captureId: string }>(
    `SELECT provider_payment_id AS "captureId" FROM payments WHERE order_id = $1 AND status = 'completed'`,
    [created.orderId],
  );
  if (!row?.captureId) throw new Error('no capture id recorded');
  return {
    orderId: created.orderId,
    orderNumber: created.orderNumber,
    accessToken: created.accessToken,
    paymentIntentId: row.captureId,
    captureId: row.captureId,
    totalCents: created.totalCents,
    ticketTypeId: types.full_pass.id,
    email: request.customer.email,
  };
}

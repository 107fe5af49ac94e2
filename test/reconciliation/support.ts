import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import type { GeneratedPayPalRefund, GeneratedCapture } from '../../sandbox/paypal/reporting.js';
import type { GeneratedCharge, GeneratedRefund } from '../../sandbox/stripe/reporting.js';
import { type BookCapture, type BookRefund, seedBooks } from '../support/recon-books.js';

export const STRIPE_KEY = 'sk_test_reconciliation_51BoulderFest';

/** Points the app's Stripe and PayPal clients at the given sandboxes. */
export function configureProviders(urls: { stripe?: string; paypal?: string }): void {
  if (urls.stripe) {
    process.env.STRIPE_SECRET_KEY = STRIPE_KEY;
    process.env.STRIPE_API_BASE = urls.stripe;
  }
  if (urls.paypal) {
    process.env.PAYPAL_CLIENT_ID = 'recon-client';
    process.env.PAYPAL_CLIENT_SECRET = 'recon-secret';
    process.env.PAYPAL_API_BASE = urls.paypal;
  }
  resetConfigForTests();
}

export function unconfigureProviders(): void {
  for (const name of ['STRIPE_SECRET_KEY', 'STRIPE_API_BASE', 'PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET', 'PAYPAL_API_BASE']) {
    delete process.env[name];
  }
  resetConfigForTests();
}

/** Our books holding exactly what Stripe generated (payments by PaymentIntent id, refunds by refund id, fees). */
export async function booksForStripe(charges: GeneratedCharge[], refunds: GeneratedRefund[]) {
  const captures: BookCapture[] = charges.map((c) => ({
    reference: c.paymentIntentId,
    amountCents: c.amount,
    currency: c.currency.toUpperCase(),
    at: new Date(c.created * 1000),
    feeCents: c.fee,
    ...(c.orderId ? { orderId: c.orderId } : {}),
  }));
  const bookRefunds: BookRefund[] = refunds.map((r) => ({
    reference: r.refundId,
    paymentReference: r.paymentIntentId,
    amountCents: r.amount,
    at: new Date(r.created * 1000),
  }));
  return await seedBooks('stripe', captures, bookRefunds);
}

export async function booksForPayPal(captures: GeneratedCapture[], refunds: GeneratedPayPalRefund[]) {
  return await seedBooks(
    'paypal',
    captures.map((c) => ({
      reference: c.captureId,
      amountCents: c.amountMinor,
      currency: c.currency,
      at: new Date(c.at),
      feeCents: c.feeMinor,
      ...(c.customId ? { orderId: c.customId } : {}),
    })),
    refunds.map((r) => ({
      reference: r.refundId,
      paymentReference: r.captureId,
      amountCents: r.amountMinor,
      at: new Date(r.at),
    })),
  );
}

export async function linesOf(runId: string) {
  return await db.queryMany<{
    class: string;
    kind: string;
    reference: string | null;
    orderId: string | null;
    orderNumber: string | null;
    explanation: string;
    providerRecordId: string | null;
  }>(
    `SELECT class, kind, reference, order_id AS "orderId", order_number AS "orderNumber", explanation,
            provider_record_id AS "providerRecordId"
     FROM reconciliation_lines WHERE run_id = $1 ORDER BY id`,
    [runId],
  );
}

export async function runsOfDay(provider: string, day: string) {
  return await db.queryMany<{ id: string; status: string }>(
    'SELECT id, status FROM reconciliation_runs WHERE provider = $1 AND day = $2',
    [provider, day],
  );
}

/** What our books are in this database: the money ledger when its migration is applied. */
export async function expectedBooksSource(): Promise<'money_ledger' | 'payments_and_refunds'> {
  const row = await db.queryOne<{ ok: boolean }>(`SELECT to_regclass('money_ledger') IS NOT NULL AS ok`);
  return row?.ok ? 'money_ledger' : 'payments_and_refunds';
}

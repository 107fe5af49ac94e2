import { stripeObject } from '../fixtures/index.js';
import type { JsonObject } from '../http-kit.js';
import type { StripeObject } from './types.js';

/**
 * What the Stripe sandbox keeps per object (sessions, payment intents, charges, refunds, idempotency keys), its
 * error type, the test cards, the limits and the parameter lists Stripe accepts, and the fixture templates.
 */

export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'rate_limit_error'
  | 'authentication_error';

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
    readonly extra: JsonObject = {},
  ) {
    super(message);
  }
}

export interface LineItemRecord {
  id: string;
  priceId: string;
  productId: string;
  name: string;
  description: string | null;
  unitAmount: number;
  currency: string;
  quantity: number;
  created: number;
}

export interface SessionRecord {
  id: string;
  created: number;
  expiresAt: number;
  status: 'open' | 'complete' | 'expired';
  paymentStatus: 'unpaid' | 'paid';
  currency: string;
  amountTotal: number;
  lineItems: LineItemRecord[];
  customerEmail: string | null;
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  successUrl: string | null;
  cancelUrl: string | null;
  locale: string | null;
  submitType: string | null;
  paymentIntentId: string | null;
  paymentIntentMetadata: Record<string, string>;
  paymentIntentDescription: string | null;
  customerDetails: { email: string | null; name: string | null } | null;
}

export interface DeclineInfo {
  code: string;
  declineCode: string;
  message: string;
}

export interface PaymentIntentRecord {
  id: string;
  created: number;
  amount: number;
  currency: string;
  /** `processing`: an async method (a US bank account debit) was submitted and has not cleared yet. */
  status: 'requires_payment_method' | 'processing' | 'succeeded';
  latestChargeId: string | null;
  paymentMethodId: string | null;
  metadata: Record<string, string>;
  description: string | null;
  receiptEmail: string | null;
  lastPaymentError:
    | (DeclineInfo & { chargeId: string; card: TestCard; paymentMethodId: string; bankAccount?: BankAccount | undefined })
    | null;
  clientSecret: string;
}

export interface ChargeRecord {
  id: string;
  created: number;
  amount: number;
  currency: string;
  paymentIntentId: string;
  paymentMethodId: string;
  /** `pending`: an async debit not cleared yet (Stripe's charge status while the PaymentIntent is `processing`). */
  status: 'succeeded' | 'failed' | 'pending';
  card: TestCard;
  /** Set when paid by US bank account debit (ACH): rendered as payment_method_details.us_bank_account instead of the card. */
  bankAccount?: BankAccount | undefined;
  amountRefunded: number;
  failure: DeclineInfo | null;
  billingEmail: string | null;
  billingName: string | null;
  metadata: Record<string, string>;
  refundIds: string[];
  balanceTransactionId: string | null;
}

export interface RefundRecord {
  id: string;
  created: number;
  amount: number;
  currency: string;
  chargeId: string;
  paymentIntentId: string;
  reason: string | null;
  metadata: Record<string, string>;
  balanceTransactionId: string;
}

export interface IdempotencyRecord {
  route: string;
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
}

/** A US bank account (Stripe's ACH Direct Debit test accounts: routing 110000000). */
export interface BankAccount {
  last4: string;
  bankName: string;
  routingNumber: string;
}

/** Stripe's test bank account 000123456789 (the debit succeeds) and 000222222227 (fails: insufficient funds). */
export const TEST_BANK_ACCOUNT: BankAccount = { last4: '6789', bankName: 'STRIPE TEST BANK', routingNumber: '110000000' };
export const BANK_DEBIT_FAILURE: DeclineInfo = {
  code: 'insufficient_funds',
  declineCode: 'insufficient_funds',
  message: "The customer's account has insufficient funds to cover this payment.",
};

export interface TestCard {
  number: string;
  brand: string;
  funding: 'credit' | 'debit';
  country: string;
  decline: DeclineInfo | null;
}

/** A US test card that succeeds. */
export function acceptedCard(number: string, brand: string, funding: TestCard['funding'] = 'credit'): TestCard {
  return { number, brand, funding, country: 'US', decline: null };
}

/** A US Visa credit test card that is declined with `code` / `declineCode` and `message`. */
export function declinedVisa(number: string, code: string, declineCode: string, message: string): TestCard {
  return { number, brand: 'visa', funding: 'credit', country: 'US', decline: { code, declineCode, message } };
}

export const TEST_CARDS: readonly TestCard[] = [
  acceptedCard('4242424242424242', 'visa'),
  acceptedCard('4000056655665556', 'visa', 'debit'),
  acceptedCard('5555555555554444', 'mastercard'),
  acceptedCard('378282246310005', 'amex'),
  declinedVisa('4000000000000002', 'card_declined', 'generic_decline', 'Your card was declined.'),
  declinedVisa('4000000000009995', 'card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
  declinedVisa('4000000000009987', 'card_declined', 'lost_card', 'Your card was declined.'),
  declinedVisa('4000000000000069', 'expired_card', 'expired_card', 'Your card has expired.'),
  declinedVisa('4000000000000127', 'incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."),
];

/** Currencies Stripe treats as zero-decimal (amounts are whole units). */
export const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
/** Minimum charge amounts (minor units) for the currencies the festival might use. */
export const MINIMUM_AMOUNT: Record<string, number> = { usd: 50, eur: 50, gbp: 30, cad: 50, aud: 50, mxn: 1000, chf: 50 };
export const MAXIMUM_AMOUNT = 99_999_999;
export const CURRENCY_SYMBOL: Record<string, string> = { usd: '$', cad: '$', aud: '$', mxn: '$', eur: '€', gbp: '£', jpy: '¥' };

export const SESSION_CREATE_PARAMS = new Set([
  'mode',
  'line_items',
  'customer_email',
  'client_reference_id',
  'metadata',
  'expires_at',
  'success_url',
  'cancel_url',
  'payment_intent_data',
  'expand',
  'payment_method_types',
  'locale',
  'submit_type',
  'billing_address_collection',
  'phone_number_collection',
  'custom_text',
  'custom_fields',
  'allow_promotion_codes',
  'automatic_tax',
  'ui_mode',
  'customer_creation',
  'invoice_creation',
  'consent_collection',
  'payment_method_options',
]);
export const REFUND_CREATE_PARAMS = new Set([
  'payment_intent',
  'charge',
  'amount',
  'reason',
  'metadata',
  'expand',
  'instructions_email',
]);
export const REFUND_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

export interface StripeTemplates {
  session: StripeObject;
  paymentIntent: StripeObject;
  charge: StripeObject;
  refund: StripeObject;
  event: StripeObject;
  item: StripeObject;
  balanceTransaction: StripeObject;
}

export function loadTemplates(): StripeTemplates {
  return {
    session: stripeObject('checkout.session'),
    paymentIntent: stripeObject('payment_intent'),
    charge: stripeObject('charge'),
    refund: stripeObject('refund'),
    event: stripeObject('event'),
    item: stripeObject('item'),
    balanceTransaction: stripeObject('balance_transaction'),
  };
}

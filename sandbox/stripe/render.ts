import { cloneJson, isJsonObject, type JsonValue } from '../http-kit.js';
import { idFirst } from './helpers.js';
import type { BankAccount, ChargeRecord, LineItemRecord, PaymentIntentRecord, RefundRecord, SessionRecord } from './records.js';
import type { StripeObject } from './types.js';
import type { StripeState } from './state.js';

/** Rendering: each Stripe object as the API returns it, the fixture template with the sandbox's state written over it. */
export function createRenderers(state: StripeState) {
  const { templates, paymentIntents, charges, refunds } = state;

  function bankAccountDetails(account: BankAccount): JsonValue {
    return {
      account_holder_type: 'individual',
      account_type: 'checking',
      bank_name: account.bankName,
      fingerprint: `sbxbank${account.last4}`,
      last4: account.last4,
      mandate: null,
      payment_reference: null,
      routing_number: account.routingNumber,
    };
  }

  function renderLineItem(item: LineItemRecord): StripeObject {
    const out = cloneJson(templates.item);
    const amount = item.unitAmount * item.quantity;
    Object.assign(out, {
      id: item.id,
      object: 'item',
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: item.currency,
      description: item.name,
      quantity: item.quantity,
      metadata: {},
      adjustable_quantity: null,
    });
    const rendered = idFirst(out);
    const price = isJsonObject(rendered.price) ? rendered.price : {};
    Object.assign(price, {
      id: item.priceId,
      object: 'price',
      active: false,
      created: item.created,
      currency: item.currency,
      product: item.productId,
      recurring: null,
      transform_quantity: null,
      type: 'one_time',
      unit_amount: item.unitAmount,
      unit_amount_decimal: String(item.unitAmount),
      metadata: {},
    });
    rendered.price = idFirst(price);
    return rendered;
  }

  function renderSession(session: SessionRecord, expand: readonly string[] = []): StripeObject {
    const out = cloneJson(templates.session);
    const customerDetails: JsonValue = session.customerDetails
      ? {
          address: { city: null, country: 'US', line1: null, line2: null, postal_code: null, state: null },
          email: session.customerDetails.email,
          name: session.customerDetails.name,
          phone: null,
          tax_exempt: 'none',
          tax_ids: [],
          business_name: null,
          individual_name: null,
        }
      : null;
    Object.assign(out, {
      id: session.id,
      object: 'checkout.session',
      after_expiration: null,
      allow_promotion_codes: null,
      amount_subtotal: session.amountTotal,
      amount_total: session.amountTotal,
      automatic_tax: { enabled: false, liability: null, status: null, provider: null },
      cancel_url: session.cancelUrl,
      client_reference_id: session.clientReferenceId,
      consent: null,
      consent_collection: null,
      created: session.created,
      currency: session.currency,
      currency_conversion: null,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: null,
      customer_creation: 'if_required',
      customer_details: customerDetails,
      customer_email: session.customerEmail,
      expires_at: session.expiresAt,
      invoice: null,
      invoice_creation: {
        enabled: false,
        invoice_data: {
          account_tax_ids: null,
          custom_fields: null,
          description: null,
          footer: null,
          issuer: null,
          metadata: {},
          rendering_options: null,
        },
      },
      livemode: false,
      locale: session.locale,
      metadata: { ...session.metadata },
      mode: 'payment',
      payment_intent: session.paymentIntentId,
      payment_link: null,
      payment_method_collection: 'if_required',
      payment_method_configuration_details: null,
      payment_method_options: { card: { request_three_d_secure: 'automatic' } },
      payment_method_types: ['card'],
      payment_status: session.paymentStatus,
      phone_number_collection: { enabled: false },
      recovered_from: null,
      saved_payment_method_options: null,
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: session.status,
      submit_type: session.submitType,
      subscription: null,
      success_url: session.successUrl,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: 'hosted',
      url: session.status === 'open' ? `${state.publicUrl}/pay/${session.id}` : null,
      adaptive_pricing: { enabled: false },
      discounts: [],
      collected_information: null,
      permissions: null,
      wallet_options: null,
      origin_context: null,
      customer_account: null,
      integration_identifier: null,
      managed_payments: { enabled: false },
    });
    if (expand.includes('line_items')) out.line_items = renderLineItemList(session);
    if (session.paymentIntentId && expand.some((e) => e === 'payment_intent' || e.startsWith('payment_intent.'))) {
      const pi = paymentIntents.get(session.paymentIntentId);
      if (pi)
        out.payment_intent = renderPaymentIntent(pi, expand.includes('payment_intent.latest_charge') ? ['latest_charge'] : []);
    }
    return idFirst(out);
  }

  function renderLineItemList(session: SessionRecord): StripeObject {
    return {
      object: 'list',
      data: session.lineItems.map(renderLineItem),
      has_more: false,
      url: `/v1/checkout/sessions/${session.id}/line_items`,
    };
  }

  function renderPaymentIntent(pi: PaymentIntentRecord, expand: readonly string[] = []): StripeObject {
    const out = cloneJson(templates.paymentIntent);
    let lastPaymentError: JsonValue = null;
    if (pi.lastPaymentError) {
      const e = pi.lastPaymentError;
      lastPaymentError = {
        type: 'card_error',
        charge: e.chargeId,
        code: e.code,
        decline_code: e.declineCode,
        doc_url: `https://stripe.com/docs/error-codes/${e.code.replaceAll('_', '-')}`,
        message: e.message,
        payment_method: e.bankAccount
          ? {
              id: e.paymentMethodId,
              object: 'payment_method',
              type: 'us_bank_account',
              us_bank_account: bankAccountDetails(e.bankAccount),
            }
          : {
              id: e.paymentMethodId,
              object: 'payment_method',
              type: 'card',
              card: { brand: e.card.brand, last4: e.card.number.slice(-4), funding: e.card.funding, country: e.card.country },
            },
      };
      if (e.bankAccount) {
        // A failed bank debit is not a card decline: Stripe gives no decline_code and types it as an API error.
        Object.assign(lastPaymentError, { type: 'invalid_request_error', decline_code: null });
      }
    }
    Object.assign(out, {
      id: pi.id,
      object: 'payment_intent',
      amount: pi.amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: pi.status === 'succeeded' ? pi.amount : 0,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: 'automatic',
      client_secret: pi.clientSecret,
      confirmation_method: 'automatic',
      created: pi.created,
      currency: pi.currency,
      customer: null,
      description: pi.description,
      last_payment_error: lastPaymentError,
      latest_charge: pi.latestChargeId,
      livemode: false,
      metadata: { ...pi.metadata },
      next_action: null,
      on_behalf_of: null,
      payment_method: pi.paymentMethodId,
      payment_method_configuration_details: null,
      payment_method_options: {
        card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
      },
      payment_method_types: ['card'],
      processing: null,
      receipt_email: pi.receiptEmail,
      review: null,
      setup_future_usage: null,
      shipping: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: pi.status,
      transfer_data: null,
      transfer_group: null,
      source: null,
      excluded_payment_method_types: null,
      customer_account: null,
      managed_payments: { enabled: false },
    });
    if (expand.some((e) => e === 'latest_charge' || e.startsWith('latest_charge.')) && pi.latestChargeId) {
      const charge = charges.get(pi.latestChargeId);
      if (charge) {
        out.latest_charge = renderCharge(
          charge,
          expand.filter((e) => e.startsWith('latest_charge.')).map((e) => e.slice('latest_charge.'.length)),
        );
      }
    }
    return idFirst(out);
  }

  function renderCharge(charge: ChargeRecord, expand: readonly string[] = []): StripeObject {
    const out = cloneJson(templates.charge);
    const succeeded = charge.status === 'succeeded';
    const details = isJsonObject(out.payment_method_details) ? out.payment_method_details : {};
    const card = isJsonObject(details.card) ? details.card : {};
    Object.assign(card, {
      amount_authorized: succeeded ? charge.amount : null,
      brand: charge.card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: succeeded ? 'pass' : null },
      country: charge.card.country,
      exp_month: 12,
      exp_year: new Date(charge.created * 1000).getUTCFullYear() + 3,
      fingerprint: `sbx${charge.card.number.slice(-4)}${charge.card.brand.slice(0, 4)}`,
      funding: charge.card.funding,
      last4: charge.card.number.slice(-4),
      network: charge.card.brand,
      network_token: { used: false },
      overcapture: { maximum_amount_capturable: charge.amount, status: 'unavailable' },
      three_d_secure: null,
      wallet: null,
    });
    details.card = card;
    details.type = 'card';
    if (charge.bankAccount) {
      delete details.card;
      details.type = 'us_bank_account';
      details.us_bank_account = bankAccountDetails(charge.bankAccount);
    }
    Object.assign(out, {
      id: charge.id,
      object: 'charge',
      amount: charge.amount,
      amount_captured: succeeded ? charge.amount : 0,
      amount_refunded: charge.amountRefunded,
      application: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: charge.balanceTransactionId,
      billing_details: {
        address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
        email: charge.billingEmail,
        name: charge.billingName,
        phone: null,
        tax_id: null,
      },
      calculated_statement_descriptor: 'BOULDER FEST SANDBOX',
      captured: succeeded,
      created: charge.created,
      currency: charge.currency,
      customer: null,
      description: null,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: charge.failure?.code ?? null,
      failure_message: charge.failure?.message ?? null,
      fraud_details: {},
      livemode: false,
      metadata: { ...charge.metadata },
      on_behalf_of: null,
      outcome:
        charge.status === 'pending'
          ? null
          : succeeded
            ? {
                advice_code: null,
                network_advice_code: null,
                network_decline_code: null,
                network_status: 'approved_by_network',
                reason: null,
                risk_level: 'normal',
                risk_score: 20,
                seller_message: 'Payment complete.',
                type: 'authorized',
              }
            : {
                advice_code: 'try_again_later',
                network_advice_code: null,
                network_decline_code: null,
                network_status: 'declined_by_network',
                reason: charge.failure?.declineCode ?? 'generic_decline',
                risk_level: 'normal',
                risk_score: 20,
                seller_message: 'The bank did not return any further details with this decline.',
                type: 'issuer_declined',
              },
      paid: succeeded,
      payment_intent: charge.paymentIntentId,
      payment_method: charge.paymentMethodId,
      payment_method_details: details,
      receipt_email: charge.billingEmail,
      receipt_number: null,
      receipt_url: `${state.publicUrl}/receipts/${charge.id}`,
      refunded: charge.amountRefunded > 0 && charge.amountRefunded >= charge.amount,
      refunds: {
        object: 'list',
        data: charge.refundIds.flatMap((id) => {
          const refund = refunds.get(id);
          return refund ? [renderRefund(refund)] : [];
        }),
        has_more: false,
        url: `/v1/charges/${charge.id}/refunds`,
      },
      review: null,
      shipping: null,
      source: null,
      source_transfer: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: charge.status,
      transfer_data: null,
      transfer_group: null,
    });
    if (expand.includes('balance_transaction') && charge.balanceTransactionId) {
      const balance = state.balance.get(charge.balanceTransactionId);
      if (balance) out.balance_transaction = state.balance.render(balance);
    }
    return idFirst(out);
  }

  /** `expand`: `balance_transaction` embeds the refund's balance transaction (its fee), as Stripe does. */
  function renderRefund(refund: RefundRecord, expand: string[] = []): StripeObject {
    const out = cloneJson(templates.refund);
    Object.assign(out, {
      id: refund.id,
      object: 'refund',
      amount: refund.amount,
      balance_transaction: refund.balanceTransactionId,
      charge: refund.chargeId,
      created: refund.created,
      currency: refund.currency,
      destination_details: {
        card: { reference: null, reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
        type: 'card',
      },
      metadata: { ...refund.metadata },
      payment_intent: refund.paymentIntentId,
      reason: refund.reason,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
      customer: null,
      customer_account: null,
      payment_method: null,
    });
    if (expand.includes('balance_transaction') && refund.balanceTransactionId) {
      const balance = state.balance.get(refund.balanceTransactionId);
      if (balance) out.balance_transaction = state.balance.render(balance);
    }
    return idFirst(out);
  }

  return { renderCharge, renderLineItem, renderLineItemList, renderPaymentIntent, renderRefund, renderSession };
}

export type Renderers = ReturnType<typeof createRenderers>;

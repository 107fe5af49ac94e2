import QRCode from 'qrcode';
import { getConfig } from '../config.js';
import type { Tx } from '../db/client.js';
import type { OutboxMessage } from '../db/models/outbox-messages.js';
import { findOrderFacts, listTicketFacts, type OrderFacts, type TicketFacts } from '../db/queries/message-facts.js';
import { formatMinorUnits } from '../money.js';
import { issueTicketCodesInTx, ticketCodesForOrder } from '../tickets/ticket-codes.js';
import { esc, href, layout, plain } from './html.js';
import { issueOrderLinkToken } from './order-link-tokens.js';
import { messageIdFor } from './message-id.js';
import type { OutgoingMail } from './transport.js';

/**
 * Turns an outbox row into the email, from the database as it is now plus the row's payload (the
 * amounts at the time of the change). Runs in a short transaction of its own, before the SMTP call:
 * the order-page link token of a confirmation is stored there. Never puts secrets or full provider ids
 * in the body; every value is escaped in the HTML part.
 */

async function loadOrder(tx: Tx, orderId: string): Promise<OrderFacts> {
  const order = await findOrderFacts(tx, orderId);
  if (!order) throw new Error(`order ${orderId} not found`);
  return order;
}

const loadTickets = listTicketFacts;

const money = (cents: number, currency: string) => `${currency} ${formatMinorUnits(cents)}`;
const providerName = (provider: string) => (provider === 'paypal' ? 'PayPal' : 'Stripe (card)');

function eventDates(order: OrderFacts): string {
  const day = new Intl.DateTimeFormat('en-US', { timeZone: order.eventTimezone, dateStyle: 'full' });
  const start = day.format(order.eventStartsAt);
  const end = day.format(order.eventEndsAt);
  return start === end ? start : `${start} – ${end}`;
}

function attendeeName(ticket: TicketFacts, order: OrderFacts): string {
  const name = [ticket.firstName, ticket.lastName].filter(Boolean).join(' ');
  return name || `${order.buyerFirstName} ${order.buyerLastName}`;
}

function siteUrl(): string {
  const base = getConfig().http.publicSiteUrl;
  if (!base) throw new Error('PUBLIC_SITE_URL is not set: the order link cannot be built');
  return base.replace(/\/+$/, '');
}

function replyAddress(): string {
  const from = getConfig().mail.from ?? '';
  return /<([^>]+)>/.exec(from)?.[1] ?? from;
}

const h2 = (text: string) => `<h2 style="font-size:18px;margin:24px 0 8px">${esc(text)}</h2>`;
const row = (label: string, value: string) =>
  `<tr><td style="padding:4px 12px 4px 0;color:#555">${esc(label)}</td><td style="padding:4px 0;text-align:right">${esc(value)}</td></tr>`;

async function confirmation(tx: Tx, message: OutboxMessage): Promise<OutgoingMail> {
  const order = await loadOrder(tx, message.orderId);
  await issueTicketCodesInTx(tx, order.id); // orders paid before ticket codes existed get theirs now
  const tickets = (await loadTickets(tx, order.id)).filter((ticket) => ticket.status === 'active');
  const codes = await ticketCodesForOrder(tx, order.id);
  const token = await issueOrderLinkToken(tx, { orderId: order.id, messageId: message.id });
  const link = `${siteUrl()}/tickets/success?order_id=${encodeURIComponent(order.id)}#token=${token}`;
  const dates = eventDates(order);
  const attachments: OutgoingMail['attachments'] = [];
  const ticketHtml: string[] = [];
  const ticketText: string[] = [];
  for (const [index, ticket] of tickets.entries()) {
    const code = codes.get(ticket.id);
    if (!code) throw new Error(`ticket ${ticket.id} has no code`);
    const cid = `ticket-${index + 1}@boulderfest`;
    attachments.push({
      filename: `ticket-${index + 1}.png`,
      contentType: 'image/png',
      cid,
      content: await QRCode.toBuffer(code, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 }),
    });
    const name = attendeeName(ticket, order);
    ticketHtml.push(`<div style="border:1px solid #ddd;border-radius:8px;padding:16px;margin:12px 0">
<p style="margin:0 0 4px;font-size:16px"><strong>${esc(name)}</strong></p>
<p style="margin:0 0 12px;color:#555">${esc(ticket.typeName)} · Ticket ${index + 1} of ${tickets.length}</p>
<img src="cid:${esc(cid)}" alt="QR code of ticket ${index + 1} for ${esc(name)}" width="198" height="198" style="display:block">
</div>`);
    ticketText.push(`  ${index + 1}. ${plain(name)} (${plain(ticket.typeName)}): QR code attached as ticket-${index + 1}.png`);
  }
  const discountLabel = order.slidingScalePercent > 0 ? `Sliding scale (${order.slidingScalePercent}% off)` : 'Discount';
  const paidWith =
    order.methodBrand && order.methodLast4
      ? `${providerName(order.provider)}, ${order.methodBrand} ending ${order.methodLast4}`
      : providerName(order.provider);
  const refundHelp = `To ask for a refund, reply to this email (or write to ${replyAddress()}) with your order number ${order.orderNumber}.`;
  const subject = `Your tickets for ${plain(order.eventName)} – order ${order.orderNumber}`;

  const html = layout(
    subject,
    `<h1 style="font-size:22px;margin:0 0 8px">Your tickets are confirmed</h1>
<p>Hi ${esc(order.buyerFirstName)}, thank you for your order <strong>${esc(order.orderNumber)}</strong>.</p>
<p><strong>${esc(order.eventName)}</strong><br>${esc(dates)}${order.eventVenue ? `<br>${esc(order.eventVenue)}` : ''}</p>
${h2(`Your tickets (${tickets.length})`)}
<p>Show each ticket's QR code at the door. Each code admits once.</p>
${ticketHtml.join('\n')}
${h2('Payment')}
<table style="width:100%;border-collapse:collapse">
${row('Subtotal', money(order.subtotalCents, order.currency))}
${row(discountLabel, `− ${money(order.discountCents, order.currency)}`)}
${row('Total paid', money(order.totalCents, order.currency))}
${order.refundedCents > 0 ? row('Refunded', money(order.refundedCents, order.currency)) : ''}
${row('Paid with', paidWith)}
</table>
<p><a href="${href(link)}" style="color:#b3261e">View your order online</a></p>
${h2('Refunds')}
<p>${esc(refundHelp)}</p>`,
  );
  const text = [
    'Your tickets are confirmed',
    '',
    `Hi ${plain(order.buyerFirstName)}, thank you for your order ${order.orderNumber}.`,
    '',
    plain(order.eventName),
    dates,
    ...(order.eventVenue ? [plain(order.eventVenue)] : []),
    '',
    `Your tickets (${tickets.length}) — show each ticket's QR code at the door; each code admits once:`,
    ...ticketText,
    '',
    'Payment',
    `  Subtotal: ${money(order.subtotalCents, order.currency)}`,
    `  ${discountLabel}: -${money(order.discountCents, order.currency)}`,
    `  Total paid: ${money(order.totalCents, order.currency)}`,
    ...(order.refundedCents > 0 ? [`  Refunded: ${money(order.refundedCents, order.currency)}`] : []),
    `  Paid with: ${paidWith}`,
    '',
    `View your order online: ${link}`,
    '',
    'Refunds',
    refundHelp,
    '',
    'A Lo Cubano Boulder Fest',
  ].join('\n');
  return { to: message.recipient, subject, html, text, attachments, messageId: messageIdFor(message) };
}

interface RefundPayload {
  amountCents?: number;
  currency?: string;
  refundedTotalCents?: number;
  remainingPaidCents?: number;
  releasedTickets?: number;
}

async function refundNotice(tx: Tx, message: OutboxMessage): Promise<OutgoingMail> {
  const order = await loadOrder(tx, message.orderId);
  const payload = message.payload as RefundPayload;
  const currency = payload.currency ?? order.currency;
  const amount = payload.amountCents ?? 0;
  const remaining = payload.remainingPaidCents ?? Math.max(0, order.totalCents - order.refundedCents);
  const released = (await loadTickets(tx, order.id)).filter((t) => t.status !== 'active');
  const late = message.kind === 'late_payment_refund';
  const subject = late
    ? `Your payment for ${plain(order.eventName)} was refunded – order ${order.orderNumber}`
    : `Refund of ${money(amount, currency)} for order ${order.orderNumber}`;
  const intro = late
    ? 'Your payment arrived after your reservation had expired, and the tickets had sold out in the meantime. We have refunded the whole amount.'
    : `We have refunded ${money(amount, currency)} of your order ${order.orderNumber}.`;
  const releasedText =
    released.length === 0
      ? 'Your tickets stay valid.'
      : `These tickets were cancelled and can no longer be used: ${released
          .map((t) => `${attendeeName(t, order)} (${t.typeName})`)
          .join(', ')}.`;
  const timing = `It can take 5–10 business days to appear on your ${order.provider === 'paypal' ? 'PayPal account' : 'card statement'}.`;
  const html = layout(
    subject,
    `<h1 style="font-size:22px;margin:0 0 8px">${late ? 'Your payment was refunded' : 'Your refund is on its way'}</h1>
<p>Hi ${esc(order.buyerFirstName)},</p>
<p>${esc(intro)}</p>
<table style="width:100%;border-collapse:collapse">
${row('Refunded now', money(amount, currency))}
${row('Refunded in total', money(payload.refundedTotalCents ?? order.refundedCents, currency))}
${row('Still paid', money(remaining, currency))}
</table>
<p>${esc(late ? 'No tickets were issued for this payment.' : releasedText)}</p>
<p>${esc(timing)}</p>
<p>${esc(`Event: ${order.eventName}, ${eventDates(order)}.`)}</p>`,
  );
  const text = [
    late ? 'Your payment was refunded' : 'Your refund is on its way',
    '',
    `Hi ${plain(order.buyerFirstName)},`,
    '',
    plain(intro),
    '',
    `  Refunded now: ${money(amount, currency)}`,
    `  Refunded in total: ${money(payload.refundedTotalCents ?? order.refundedCents, currency)}`,
    `  Still paid: ${money(remaining, currency)}`,
    '',
    plain(late ? 'No tickets were issued for this payment.' : releasedText),
    timing,
    '',
    `Event: ${plain(order.eventName)}, ${eventDates(order)}.`,
    '',
    'A Lo Cubano Boulder Fest',
  ].join('\n');
  return { to: message.recipient, subject, html, text, attachments: [], messageId: messageIdFor(message) };
}

async function orderEnded(tx: Tx, message: OutboxMessage): Promise<OutgoingMail> {
  const order = await loadOrder(tx, message.orderId);
  const cancelled = message.kind === 'order_cancelled';
  const subject = cancelled
    ? `Order ${order.orderNumber} was cancelled`
    : `Your reservation for ${plain(order.eventName)} expired – order ${order.orderNumber}`;
  const what = cancelled
    ? `Your order ${order.orderNumber} for ${order.eventName} was cancelled before it was paid.`
    : `Your reservation ${order.orderNumber} for ${order.eventName} expired before the payment went through.`;
  const money_ = 'You have not been charged for it. If a payment still arrives, we refund it or confirm your tickets by email.';
  const again = `You are welcome to buy tickets again: ${siteUrl()}/`;
  const html = layout(
    subject,
    `<h1 style="font-size:22px;margin:0 0 8px">${cancelled ? 'Your order was cancelled' : 'Your reservation expired'}</h1>
<p>Hi ${esc(order.buyerFirstName)},</p><p>${esc(what)}</p><p>${esc(money_)}</p>
<p><a href="${href(`${siteUrl()}/`)}" style="color:#b3261e">Buy tickets</a></p>`,
  );
  const text = [`Hi ${plain(order.buyerFirstName)},`, '', plain(what), money_, '', again, '', 'A Lo Cubano Boulder Fest'].join(
    '\n',
  );
  return { to: message.recipient, subject, html, text, attachments: [], messageId: messageIdFor(message) };
}

/**
 * The payment failed after the buyer had started paying (a bank debit that bounced, a PayPal capture denied):
 * the order is failed and its tickets were released (lib/payments/fail-payment.ts). Nothing was captured; what
 * a buyer may see is an authorization their bank releases, hence "contact us" if a charge stays.
 */
async function paymentFailed(tx: Tx, message: OutboxMessage): Promise<OutgoingMail> {
  const order = await loadOrder(tx, message.orderId);
  const tickets = await loadTickets(tx, order.id);
  const how = order.provider === 'paypal' ? 'PayPal declined the payment' : 'your bank or card issuer declined the payment';
  const subject = `Your payment for ${plain(order.eventName)} did not go through – order ${order.orderNumber}`;
  const what = `The payment for your order ${order.orderNumber} (${money(order.totalCents, order.currency)}) did not go through: ${how} after the order was placed.`;
  const released = `The ${tickets.length === 1 ? 'ticket' : `${tickets.length} tickets`} you had reserved for ${order.eventName} (${eventDates(order)}) ${tickets.length === 1 ? 'was' : 'were'} released, and the order is closed.`;
  const charged = `You have not been charged. If an amount still shows on your ${order.provider === 'paypal' ? 'PayPal account' : 'statement'} after a few days, reply to this email (or write to ${replyAddress()}) with your order number ${order.orderNumber} and we will sort it out.`;
  const again = `You are welcome to buy tickets again: ${siteUrl()}/`;
  const html = layout(
    subject,
    `<h1 style="font-size:22px;margin:0 0 8px">Your payment did not go through</h1>
<p>Hi ${esc(order.buyerFirstName)},</p><p>${esc(what)}</p><p>${esc(released)}</p><p>${esc(charged)}</p>
<p><a href="${href(`${siteUrl()}/`)}" style="color:#b3261e">Buy tickets</a></p>`,
  );
  const text = [
    'Your payment did not go through',
    '',
    `Hi ${plain(order.buyerFirstName)},`,
    '',
    plain(what),
    '',
    plain(released),
    '',
    plain(charged),
    '',
    again,
    '',
    'A Lo Cubano Boulder Fest',
  ].join('\n');
  return { to: message.recipient, subject, html, text, attachments: [], messageId: messageIdFor(message) };
}

export async function renderMessage(tx: Tx, message: OutboxMessage): Promise<OutgoingMail> {
  switch (message.kind) {
    case 'order_confirmation':
      return await confirmation(tx, message);
    case 'refund_notification':
    case 'late_payment_refund':
      return await refundNotice(tx, message);
    case 'order_expired':
    case 'order_cancelled':
      return await orderEnded(tx, message);
    case 'payment_failed':
      return await paymentFailed(tx, message);
  }
}

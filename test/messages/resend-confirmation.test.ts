import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { POST as resendConfirmation } from '../../api/orders/resend-confirmation.js';
import { setRateLimitClockForTests } from '../../lib/http/rate-limit.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { paidStripeOrder } from '../support/staff.js';
import { startStripeSandboxForApp } from '../support/providers.js';
import { uniqueEmail } from '../support/factories.js';
import { mailTo, outboxFor, settleMail, useMailCatcher } from '../support/mail.js';

/** POST /api/orders/resend-confirmation: no enumeration, rate-limited, queues the confirmation when it matches. */

let catcher: MailCatcher;
let sandbox: StripeSandbox;

beforeAll(async () => {
  catcher = await useMailCatcher();
  sandbox = await startStripeSandboxForApp();
});

afterEach(() => {
  setRateLimitClockForTests();
});

afterAll(async () => {
  await settleMail();
  await sandbox?.close();
  await catcher?.close();
});

let ipCounter = 0;
const freshIp = () => `198.51.100.${(ipCounter++ % 250) + 1}`;

async function ask(body: unknown, ip = freshIp()) {
  const response = await resendConfirmation(
    new Request('http://localhost:3000/api/orders/resend-confirmation', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, 'x-request-id': 'req_resend_confirmation_test' },
      body: JSON.stringify(body),
    }),
  );
  const bytes = Buffer.from(await response.arrayBuffer());
  const headers = [...response.headers.entries()].filter(([name]) => name !== 'date');
  return { status: response.status, bytes, headers };
}

describe('POST /api/orders/resend-confirmation', () => {
  it('an existing and a non-existing pair get byte-identical answers; only the existing one gets the email again', async () => {
    // One rate-limit window for both requests, so their RateLimit headers are comparable too.
    const now = new Date();
    setRateLimitClockForTests(() => now);
    const order = await paidStripeOrder(sandbox, { quantity: 1 });
    await settleMail();
    expect(mailTo(catcher, order.email)).toHaveLength(1);

    const existing = await ask({ email: order.email.toUpperCase(), orderNumber: order.orderNumber.toLowerCase() });
    const missing = await ask({ email: uniqueEmail('nobody'), orderNumber: order.orderNumber });
    const wrongNumber = await ask({ email: uniqueEmail('nobody'), orderNumber: 'ALB-20260101-99999' });
    expect(existing.status).toBe(202);
    expect(missing.bytes.equals(existing.bytes)).toBe(true);
    expect(wrongNumber.bytes.equals(existing.bytes)).toBe(true);
    expect(missing.headers).toEqual(existing.headers);
    expect(wrongNumber.headers).toEqual(existing.headers);
    expect(JSON.parse(existing.bytes.toString('utf8'))).toEqual({
      status: 'accepted',
      message: expect.stringContaining('If an order'),
    });

    await settleMail();
    const mails = mailTo(catcher, order.email);
    expect(mails).toHaveLength(2);
    expect(mails[1]?.parsed.subject).toContain(order.orderNumber);
    expect((await outboxFor(order.orderId)).map((m) => m.cause)).toEqual([
      expect.stringMatching(/^payment:/),
      expect.stringMatching(/^buyer-resend:/),
    ]);
    // Asking again within the same 10 minutes does not send a third copy.
    await ask({ email: order.email, orderNumber: order.orderNumber });
    await settleMail();
    expect(mailTo(catcher, order.email)).toHaveLength(2);
  });

  it('the 11th request in a minute from one IP → 429; likewise for one email address from many IPs', async () => {
    const now = new Date();
    setRateLimitClockForTests(() => now);
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    const byIp: number[] = [];
    for (let i = 0; i < 11; i++)
      byIp.push((await ask({ email: uniqueEmail('ip'), orderNumber: 'ALB-20260101-0001' }, ip)).status);
    expect(byIp).toEqual([...Array(10).fill(202), 429]);

    const email = `same.${randomUUID().slice(0, 8)}@example.test`;
    const byEmail: number[] = [];
    for (let i = 0; i < 11; i++) byEmail.push((await ask({ email, orderNumber: 'ALB-20260101-0001' })).status);
    expect(byEmail).toEqual([...Array(10).fill(202), 429]);
    const limited = await ask({ email, orderNumber: 'ALB-20260101-0001' });
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.bytes.toString('utf8')).error.code).toBe('RATE_LIMITED');
  });

  it('malformed input is a 400 that says which field', async () => {
    const answer = await ask({ email: 'not-an-email', orderNumber: 'x' });
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.bytes.toString('utf8'));
    expect(body.error.code).toBe('VALIDATION_ERROR');
    expect(body.error.details.fields.map((f: { path: string }) => f.path).sort()).toEqual(['email', 'orderNumber']);
  });
});

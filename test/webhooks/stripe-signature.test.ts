import { beforeAll, describe, expect, it } from 'vitest';
import { countInbox, deliverStripe, ids, inboxRow, sign, stripeEvent } from './support.js';
import { TEST_STRIPE_OLD_WEBHOOK_SECRET, TEST_STRIPE_WEBHOOK_SECRET, configureStripe } from '../support/providers.js';

/** Stripe signature checks on the raw body: what gets in, and that nothing else is stored. */

beforeAll(() => {
  configureStripe();
});

const unknownTypeEvent = () => stripeEvent('customer.created', { id: `cus_${Date.now()}`, object: 'customer' });

describe('POST /api/webhooks/stripe signatures', () => {
  it('accepts a valid signature, stores the event and answers 200 (unknown type → ignored)', async () => {
    const event = unknownTypeEvent();
    const response = await deliverStripe(event);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ received: true, duplicate: false, status: 'ignored' });
    expect(await inboxRow(String(event.id))).toMatchObject({ status: 'ignored', attempts: 1 });
  });

  it('refuses a tampered body with 400 and stores nothing', async () => {
    const event = unknownTypeEvent();
    const payload = JSON.stringify(event);
    const signature = sign(payload);
    const tampered = payload.replace('"customer.created"', '"customer.deleted"');
    expect(tampered).not.toBe(payload);
    const response = await deliverStripe(tampered, { signature });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(response.body.error.requestId).toEqual(expect.any(String));
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts|stack/i);
    expect(await countInbox(String(event.id))).toBe(0);
  });

  it('refuses a signature made with another secret', async () => {
    const event = unknownTypeEvent();
    const response = await deliverStripe(event, { secret: 'whsec_someone_else' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(await countInbox(String(event.id))).toBe(0);
  });

  it('refuses a timestamp 301 s old and accepts one 290 s old (tolerance 300 s)', async () => {
    const old = unknownTypeEvent();
    const now = Math.floor(Date.now() / 1000);
    const refused = await deliverStripe(old, { timestamp: now - 301 });
    expect(refused.status).toBe(400);
    expect(await countInbox(String(old.id))).toBe(0);

    const recent = unknownTypeEvent();
    const accepted = await deliverStripe(recent, { timestamp: now - 290 });
    expect(accepted.status).toBe(200);
    expect(await countInbox(String(recent.id))).toBe(1);
  });

  it('refuses a missing or empty Stripe-Signature header', async () => {
    const event = unknownTypeEvent();
    expect((await deliverStripe(event, { signature: null })).status).toBe(400);
    expect((await deliverStripe(event, { signature: '' })).status).toBe(400);
    expect((await deliverStripe(event, { signature: 't=123,v1=deadbeef' })).status).toBe(400);
    expect(await countInbox(String(event.id))).toBe(0);
  });

  it('accepts both secrets during a rotation (comma-separated STRIPE_WEBHOOK_SECRET)', async () => {
    const withNew = unknownTypeEvent();
    const withOld = unknownTypeEvent();
    expect((await deliverStripe(withNew, { secret: TEST_STRIPE_WEBHOOK_SECRET })).status).toBe(200);
    expect((await deliverStripe(withOld, { secret: TEST_STRIPE_OLD_WEBHOOK_SECRET })).status).toBe(200);
    expect(await countInbox(String(withNew.id))).toBe(1);
    expect(await countInbox(String(withOld.id))).toBe(1);
  });

  it('after the old secret is removed, only the new one works', async () => {
    configureStripe({ secrets: [TEST_STRIPE_WEBHOOK_SECRET] });
    try {
      const withOld = unknownTypeEvent();
      expect((await deliverStripe(withOld, { secret: TEST_STRIPE_OLD_WEBHOOK_SECRET })).status).toBe(400);
      expect(await countInbox(String(withOld.id))).toBe(0);
    } finally {
      configureStripe();
    }
  });

  it('answers a duplicate delivery 200 and stores it once', async () => {
    const event = unknownTypeEvent();
    const first = await deliverStripe(event);
    const second = await deliverStripe(event);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ duplicate: true, status: 'duplicate' });
    expect(await countInbox(String(event.id))).toBe(1);
    expect(await inboxRow(String(event.id))).toMatchObject({ attempts: 1 });
  });

  it('refuses other methods with 405', async () => {
    const { GET } = await import('../../api/webhooks/stripe.js');
    const response = await GET(new Request('http://localhost:3000/api/webhooks/stripe'));
    expect(response.status).toBe(405);
  });

  it('never stores a signed body that is not an event', async () => {
    const id = ids.event();
    const payload = JSON.stringify({ hello: 'world', id });
    const response = await deliverStripe(payload);
    expect(response.status).toBe(400);
    expect(await countInbox(id)).toBe(0);
  });
});

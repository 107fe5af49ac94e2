import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, resetConfigForTests } from '../../lib/config.js';
import { SANDBOX_CA_PEM, trustedPayPalRoots } from '../../lib/providers/paypal-cert-trust.js';
import { chainsToTrustedRoot, parseCertificateBundle } from '../../lib/providers/paypal-webhook-signature.js';
import { type PayPalSandbox, startPayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import { startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { countInbox, createPendingOrder, deliverPayPal, inboxRow, orderState } from './support.js';

/**
 * Issue 18, forged PayPal webhooks: a certificate that does not chain to a trusted root, one from
 * another port or path, and a well-signed event whose capture PayPal does not know are all refused
 * with nothing stored; a delivery signed with the sandbox-CA-issued certificate is accepted.
 */

const WEBHOOK_ID = 'WH-SECURITY-0001';
const CLIENT_ID = 'security-test-client';
const CLIENT_SECRET = 'security-test-secret';
let sandbox: PayPalSandbox;
let selfSigned: PayPalSandbox;
let otherCa: PayPalSandbox;
let server: LocalServer;

function useApiBase(url: string, verification: 'local' | 'postback' = 'local'): void {
  Object.assign(process.env, { PAYPAL_API_BASE: url, PAYPAL_WEBHOOK_VERIFICATION: verification });
  resetConfigForTests();
}

beforeAll(async () => {
  const ca = await generate([{ name: 'commonName', value: 'Forger Root CA' }], {
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true },
    ],
  });
  const common = { webhookId: WEBHOOK_ID, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
  sandbox = await startPayPalSandbox(common);
  selfSigned = await startPayPalSandbox({ ...common, signingCa: null });
  otherCa = await startPayPalSandbox({ ...common, signingCa: { key: ca.private, cert: ca.cert } });
  Object.assign(process.env, {
    PAYPAL_CLIENT_ID: CLIENT_ID,
    PAYPAL_CLIENT_SECRET: CLIENT_SECRET,
    PAYPAL_WEBHOOK_ID: WEBHOOK_ID,
    PAYPAL_ENVIRONMENT: 'sandbox',
    PUBLIC_SITE_URL: 'http://localhost:3000',
  });
  useApiBase(sandbox.url);
  server = await startLocalServer({ port: 0 });
  sandbox.setWebhookTarget(`${server.url}/api/webhooks/paypal`, WEBHOOK_ID);
});

afterAll(async () => {
  delete process.env.PAYPAL_WEBHOOK_VERIFICATION;
  resetConfigForTests();
  await sandbox?.idle();
  await server?.close();
  await Promise.all([sandbox?.close(), selfSigned?.close(), otherCa?.close()]);
});

/** A forged PAYMENT.CAPTURE.COMPLETED for a pending $600 order, as the attacker would write it. */
async function forgedCompletion(by: PayPalSandbox) {
  const p = await createPendingOrder({ provider: 'paypal', quantity: 2, priceCents: 30_000 });
  const event = by.buildEvent('PAYMENT.CAPTURE.COMPLETED', 'capture', {
    id: `CAPFORGED${p.order.id.slice(0, 8).toUpperCase()}`,
    status: 'COMPLETED',
    amount: { currency_code: 'USD', value: '600.00' },
    custom_id: p.order.id,
    invoice_id: p.order.orderNumber,
    supplementary_data: { related_ids: { order_id: p.sessionId } },
  });
  const raw = JSON.stringify(event);
  return { p, event, raw, headers: { ...by.signPayload(raw) } as Record<string, string> };
}

async function expectRefusedNothingStored(
  forged: Awaited<ReturnType<typeof forgedCompletion>>,
  headers: Record<string, string>,
): Promise<void> {
  const response = await deliverPayPal(forged.raw, headers);
  expect(response.status, response.text).toBe(400);
  expect(response.body.error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
  expect(await countInbox(String(forged.event.id))).toBe(0);
  const state = await orderState(forged.p.order.id, forged.p.ticketType.id);
  expect(state.order.status).toBe('pending');
  expect(state.counters).toMatchObject({ sold: 0 });
}

describe('forged PayPal webhooks are refused, nothing stored', () => {
  it('a certificate from another port (the forger’s own server) is never fetched', async () => {
    const forged = await forgedCompletion(selfSigned);
    expect(new URL(forged.headers['PAYPAL-CERT-URL'] ?? '').port).not.toBe(new URL(sandbox.url).port);
    const before = selfSigned.requests.length;
    await expectRefusedNothingStored(forged, forged.headers);
    expect(selfSigned.requests.length).toBe(before); // no SSRF: nothing was fetched
  });

  it('a certificate URL on the allowed origin but another path is never fetched', async () => {
    const forged = await forgedCompletion(selfSigned);
    for (const path of ['/v1/oauth2/token', '/v2/checkout/orders/X', '/v1/notifications/certs/../../../admin', '/x.pem']) {
      const before = sandbox.requests.length;
      await expectRefusedNothingStored(forged, { ...forged.headers, 'PAYPAL-CERT-URL': `${sandbox.url}${path}` });
      expect(sandbox.requests.length, path).toBe(before);
    }
  });

  it('a self-signed certificate on an allowed host (and one from an untrusted CA) does not verify', async () => {
    try {
      useApiBase(selfSigned.url); // the forger's host is now an allowed origin
      await expectRefusedNothingStored(...(await forgedWith(selfSigned)));
      useApiBase(otherCa.url);
      await expectRefusedNothingStored(...(await forgedWith(otherCa)));
    } finally {
      useApiBase(sandbox.url);
    }
  });

  it('a correctly signed event whose capture PayPal does not report is refused (payload verified)', async () => {
    const forged = await forgedCompletion(sandbox);
    await expectRefusedNothingStored(forged, forged.headers);
  });

  it('the sandbox CA is trusted only by non-production config that points at the sandbox', () => {
    const bundle = parseCertificateBundle(sandbox.certificatePem) ?? [];
    const now = new Date();
    const dev = parseConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db', NODE_ENV: 'development', PAYPAL_API_BASE: sandbox.url });
    const prod = parseConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db', NODE_ENV: 'production' });
    const roots = (c: typeof dev) => trustedPayPalRoots({ isProduction: c.isProduction, apiBase: c.paypal.apiBase });
    expect(chainsToTrustedRoot(bundle, roots(dev), now)).toBe(true);
    expect(chainsToTrustedRoot(bundle, roots(prod), now)).toBe(false);
    const previewWithoutSandbox = parseConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db', VERCEL_ENV: 'preview' });
    expect(chainsToTrustedRoot(bundle, roots(previewWithoutSandbox), now)).toBe(false);
    expect(new X509Certificate(sandbox.certificatePem).checkIssued(new X509Certificate(SANDBOX_CA_PEM))).toBe(true);
    const selfSignedBundle = parseCertificateBundle(selfSigned.certificatePem) ?? [];
    expect(chainsToTrustedRoot(selfSignedBundle, roots(dev), now)).toBe(false);
  });
});

async function forgedWith(by: PayPalSandbox): Promise<[Awaited<ReturnType<typeof forgedCompletion>>, Record<string, string>]> {
  const forged = await forgedCompletion(by);
  return [forged, forged.headers];
}

describe('genuine deliveries signed with the sandbox-CA certificate are accepted', () => {
  for (const mode of ['local', 'postback'] as const) {
    it(`${mode}: approve → capture → PAYMENT.CAPTURE.COMPLETED verified, confirmed with PayPal, order completed`, async () => {
      useApiBase(sandbox.url, mode);
      try {
        const { event, types } = await createEventWithTicketTypes({ pass: { priceCents: 30_000, capacity: 10 } });
        const { created, sessionId } = await startCheckout(
          checkoutBody(event, [{ ticketType: 'pass', quantity: 2 }], { provider: 'paypal' }),
          `security-${mode}`,
        );
        const postbacksBefore = sandbox.requests.filter((r) => r.path === '/v1/notifications/verify-webhook-signature').length;
        const approved = await sandbox.approve(sessionId);
        expect(approved.outcome).toBe('approved');
        await sandbox.idle();
        const completed = sandbox.webhooks.find(
          (w) => w.eventType === 'PAYMENT.CAPTURE.COMPLETED' && w.payload.includes(created.orderId),
        );
        expect(completed?.status).toBe(200);
        expect(await inboxRow(String(completed?.eventId), 'paypal')).toMatchObject({ status: 'processed' });
        const state = await orderState(created.orderId, types.pass.id);
        expect(state.order.status).toBe('completed');
        const captureId = JSON.parse(completed?.payload ?? '{}').resource.id;
        expect(sandbox.requests.some((r) => r.method === 'GET' && r.path === `/v2/payments/captures/${captureId}`)).toBe(true);
        const postbacks = sandbox.requests.filter((r) => r.path === '/v1/notifications/verify-webhook-signature').length;
        expect(postbacks - postbacksBefore).toBe(mode === 'postback' ? 2 : 0); // APPROVED + COMPLETED
      } finally {
        useApiBase(sandbox.url);
      }
    });
  }
});

describe('the sandbox verify-webhook-signature answers as PayPal’s spec says', () => {
  it('SUCCESS/FAILURE per the response schema; a missing required field is a 400', async () => {
    const spec = JSON.parse(
      readFileSync(new URL('../../sandbox/fixtures/paypal-verify-webhook-signature.json', import.meta.url), 'utf8'),
    ) as { response: object; request: { required: string[] } };
    const validResponse = new Ajv.default({ strict: false }).compile(spec.response);
    const tokenRes = await fetch(`${sandbox.url}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const event = sandbox.buildEvent('PAYMENT.CAPTURE.COMPLETED', 'capture', {
      id: 'CAPSPEC1',
      status: 'COMPLETED',
      amount: { currency_code: 'USD', value: '1.00' },
    });
    const raw = JSON.stringify(event);
    const h = sandbox.signPayload(raw);
    const body = {
      auth_algo: h['PAYPAL-AUTH-ALGO'],
      cert_url: h['PAYPAL-CERT-URL'],
      transmission_id: h['PAYPAL-TRANSMISSION-ID'],
      transmission_sig: h['PAYPAL-TRANSMISSION-SIG'],
      transmission_time: h['PAYPAL-TRANSMISSION-TIME'],
      webhook_id: WEBHOOK_ID,
      webhook_event: event,
    };
    const post = async (payload: unknown) =>
      await fetch(`${sandbox.url}/v1/notifications/verify-webhook-signature`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
    const ok = await post(body);
    const okBody = await ok.json();
    expect(validResponse(okBody)).toBe(true);
    expect(okBody).toEqual({ verification_status: 'SUCCESS' });
    const forged = await (await post({ ...body, webhook_event: { ...event, id: 'WH-OTHER' } })).json();
    expect(validResponse(forged)).toBe(true);
    expect(forged).toEqual({ verification_status: 'FAILURE' });
    for (const field of spec.request.required) {
      const { [field]: _dropped, ...rest } = body as Record<string, unknown>;
      expect((await post(rest)).status, field).toBe(400);
    }
  });
});

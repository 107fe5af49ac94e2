import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { SANDBOX_CA_PEM } from '../../lib/providers/paypal-cert-trust.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateFetcher,
  isAllowedCertUrl,
  type VerifyPayPalWebhookSignatureInput,
  verifyPayPalWebhookSignature,
} from '../../lib/providers/paypal-webhook-signature.js';
import { type PayPalSandbox, startPayPalSandbox } from '../../sandbox/paypal-sandbox.js';

const WEBHOOK_ID = 'SBXWEBHOOKSIG01';
let sandbox: PayPalSandbox;

beforeAll(async () => {
  sandbox = await startPayPalSandbox({ webhookId: WEBHOOK_ID });
});

afterAll(async () => {
  await sandbox.close();
});

/** A body signed by the sandbox, as the app would receive it. */
function signed(
  rawBody = '{"id":"WH-TEST","event_type":"PAYMENT.CAPTURE.COMPLETED"}',
  sentAt = new Date(),
): VerifyPayPalWebhookSignatureInput {
  const headers = new Headers(Object.entries(sandbox.signPayload(rawBody, { transmissionTime: sentAt })));
  return {
    headers,
    rawBody,
    webhookId: WEBHOOK_ID,
    fetchCertificate: async () => sandbox.certificatePem,
    allowedCertOrigins: [new URL(sandbox.url).origin],
    trustedRoots: [new X509Certificate(SANDBOX_CA_PEM)],
    now: sentAt,
  };
}

describe('verifyPayPalWebhookSignature', () => {
  it('accepts a genuine signature (cert fetched from the sandbox cert URL)', async () => {
    const input = signed();
    expect(await verifyPayPalWebhookSignature({ ...input, fetchCertificate: createCertificateFetcher() })).toEqual({ ok: true });
  });

  it('checks the CRC32 of the exact raw bytes: whitespace changes fail', async () => {
    const input = signed('{"a":1}');
    expect(await verifyPayPalWebhookSignature({ ...input, rawBody: '{"a": 1}' })).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });
    expect(await verifyPayPalWebhookSignature({ ...input, rawBody: '{"a":2}' })).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });
  });

  it('the signature binds transmission id and time', async () => {
    const input = signed();
    const otherId = new Headers(input.headers);
    otherId.set('paypal-transmission-id', '00000000-0000-0000-0000-000000000000');
    expect(await verifyPayPalWebhookSignature({ ...input, headers: otherId })).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });
    const otherTime = new Headers(input.headers);
    otherTime.set(
      'paypal-transmission-time',
      new Date((input.now ?? new Date()).getTime() + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    );
    expect(await verifyPayPalWebhookSignature({ ...input, headers: otherTime })).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });
  });

  it('requires every header and the SHA256withRSA algorithm', async () => {
    const input = signed();
    for (const name of [
      'paypal-transmission-id',
      'paypal-transmission-time',
      'paypal-transmission-sig',
      'paypal-cert-url',
      'paypal-auth-algo',
    ]) {
      const headers = new Headers(input.headers);
      headers.delete(name);
      const result = await verifyPayPalWebhookSignature({ ...input, headers });
      expect(result).toMatchObject({ ok: false, code: 'missing_header' });
      if (!result.ok) expect(result.reason).toContain(name);
    }
    const sha1 = new Headers(input.headers);
    sha1.set('paypal-auth-algo', 'SHA1withRSA');
    expect(await verifyPayPalWebhookSignature({ ...input, headers: sha1 })).toMatchObject({
      ok: false,
      code: 'unsupported_auth_algo',
    });
    expect(await verifyPayPalWebhookSignature({ ...input, webhookId: '' })).toMatchObject({
      ok: false,
      code: 'missing_webhook_id',
    });
  });

  it('fetches certificates only from allowed exact origins under the cert path', async () => {
    const input = signed();
    let fetched = 0;
    const counting = async (): Promise<string> => {
      fetched += 1;
      return sandbox.certificatePem;
    };
    expect(
      await verifyPayPalWebhookSignature({
        ...input,
        fetchCertificate: counting,
        allowedCertOrigins: ['https://api.paypal.com'],
      }),
    ).toMatchObject({
      ok: false,
      code: 'cert_url_not_allowed',
    });
    const elsewhere = new Headers(input.headers);
    elsewhere.set('paypal-cert-url', 'https://evil.example/v1/notifications/certs/CERT-1');
    expect(
      await verifyPayPalWebhookSignature({
        ...input,
        headers: elsewhere,
        fetchCertificate: counting,
        allowedCertOrigins: ['https://api.paypal.com'],
      }),
    ).toMatchObject({
      ok: false,
      code: 'cert_url_not_allowed',
    });
    expect(fetched).toBe(0);

    const paypal = ['https://api.paypal.com'];
    const local = ['http://127.0.0.1:4011'];
    expect(isAllowedCertUrl(new URL('https://api.paypal.com/v1/notifications/certs/CERT-1'), paypal)).toBe(true);
    expect(isAllowedCertUrl(new URL('https://api.paypal.com:443/v1/notifications/certs/CERT-1'), paypal)).toBe(true);
    expect(isAllowedCertUrl(new URL('http://api.paypal.com/v1/notifications/certs/CERT-1'), paypal)).toBe(false);
    expect(isAllowedCertUrl(new URL('https://api.paypal.com:8443/v1/notifications/certs/CERT-1'), paypal)).toBe(false);
    expect(isAllowedCertUrl(new URL('https://api.paypal.com/v1/oauth2/token'), paypal)).toBe(false);
    expect(isAllowedCertUrl(new URL('https://api.paypal.com/v1/notifications/certs/a/../../x'), paypal)).toBe(false);
    expect(isAllowedCertUrl(new URL('https://api.paypal.com/v1/notifications/certs/CERT-1?x=1'), paypal)).toBe(false);
    expect(isAllowedCertUrl(new URL('https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1'), paypal)).toBe(false);
    expect(isAllowedCertUrl(new URL('https://user@api.paypal.com/v1/notifications/certs/CERT-1'), paypal)).toBe(false);
    expect(isAllowedCertUrl(new URL('http://127.0.0.1:4011/v1/notifications/certs/CERT-1'), local)).toBe(true);
    expect(isAllowedCertUrl(new URL('http://127.0.0.1:4012/v1/notifications/certs/CERT-1'), local)).toBe(false);
    expect(isAllowedCertUrl(new URL('http://127.0.0.1:4011/admin/secret'), local)).toBe(false);
    expect(isAllowedCertUrl(new URL('http://localhost:4011/v1/notifications/certs/CERT-1'), local)).toBe(false);
  });

  it('refuses transmissions outside the time tolerance', async () => {
    const sentAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const input = signed(undefined, sentAt);
    expect(await verifyPayPalWebhookSignature({ ...input, now: new Date(sentAt.getTime() + 299_000) })).toEqual({ ok: true });
    expect(await verifyPayPalWebhookSignature({ ...input, now: new Date(sentAt.getTime() + 301_000) })).toMatchObject({
      ok: false,
      code: 'transmission_time_out_of_tolerance',
    });
    expect(
      await verifyPayPalWebhookSignature({ ...input, now: new Date(sentAt.getTime() - 3600_000), toleranceSeconds: 7200 }),
    ).toEqual({ ok: true });
    const garbage = new Headers(input.headers);
    garbage.set('paypal-transmission-time', 'yesterday');
    expect(await verifyPayPalWebhookSignature({ ...input, headers: garbage })).toMatchObject({
      ok: false,
      code: 'transmission_time_invalid',
    });
  });

  it('reports certificate download failures, non-certificates and certificates outside their validity', async () => {
    const input = signed();
    expect(
      await verifyPayPalWebhookSignature({
        ...input,
        fetchCertificate: async () => {
          throw new Error('connection refused');
        },
      }),
    ).toMatchObject({ ok: false, code: 'certificate_fetch_failed' });
    expect(await verifyPayPalWebhookSignature({ ...input, fetchCertificate: async () => 'not a certificate' })).toMatchObject({
      ok: false,
      code: 'certificate_invalid',
    });
    const later = new Date(Date.now() + 3 * 365 * 24 * 3600 * 1000);
    const old = signed(undefined, later);
    expect(await verifyPayPalWebhookSignature(old)).toMatchObject({ ok: false, code: 'certificate_not_valid_now' });
  });
});

describe('createCertificateFetcher', () => {
  let server: http.Server;
  let base = '';
  let hits = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits += 1;
      if (req.url === '/cert') {
        res.writeHead(200, { 'content-type': 'application/x-pem-file' });
        res.end(sandbox.certificatePem);
      } else if (req.url === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>hello</html>');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('downloads a certificate once per URL, shares concurrent downloads, and does not cache failures', async () => {
    const fetcher = createCertificateFetcher();
    hits = 0;
    const [a, b] = await Promise.all([fetcher(`${base}/cert`), fetcher(`${base}/cert`)]);
    expect(a).toBe(sandbox.certificatePem);
    expect(b).toBe(a);
    expect(await fetcher(`${base}/cert`)).toBe(a);
    expect(hits).toBe(1);

    await expect(fetcher(`${base}/missing`)).rejects.toThrow(/HTTP 404/);
    await expect(fetcher(`${base}/missing`)).rejects.toThrow(/HTTP 404/);
    expect(hits).toBe(3);
    await expect(fetcher(`${base}/html`)).rejects.toThrow(/no PEM/);
  });

  it('downloads again after the TTL', async () => {
    let clock = 0;
    const fetcher = createCertificateFetcher({ ttlMs: 1000, now: () => clock });
    hits = 0;
    await fetcher(`${base}/cert`);
    clock = 999;
    await fetcher(`${base}/cert`);
    expect(hits).toBe(1);
    clock = 1001;
    await fetcher(`${base}/cert`);
    expect(hits).toBe(2);
  });
});

/**
 * Offline verification of PayPal webhook signatures (no call to PayPal's verify endpoint):
 * PayPal signs `<transmission id>|<transmission time>|<webhook id>|<crc32 of the raw body, decimal>`
 * with RSA-SHA256 and tells where the certificate is in PAYPAL-CERT-URL. We check the headers, that
 * the certificate URL is on an allowed host, the transmission time, the certificate's validity
 * period, and the signature with the certificate's public key.
 *
 * No module-level state: the certificate cache lives in the fetcher createCertificateFetcher() returns.
 */
import { verify, X509Certificate } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type PayPalSignatureFailureReason =
  | 'missing_header'
  | 'unsupported_auth_algo'
  | 'missing_webhook_id'
  | 'cert_url_invalid'
  | 'cert_url_not_allowed'
  | 'transmission_time_invalid'
  | 'transmission_time_out_of_tolerance'
  | 'certificate_fetch_failed'
  | 'certificate_invalid'
  | 'certificate_not_valid_now'
  | 'signature_invalid';

export type PayPalSignatureResult = { ok: true } | { ok: false; reason: string; code: PayPalSignatureFailureReason };

export interface VerifyPayPalWebhookSignatureInput {
  headers: Headers;
  /** The request body exactly as received (the CRC is over these bytes, UTF-8). */
  rawBody: string;
  /** Our webhook id (from the PayPal dashboard); part of the signed message. */
  webhookId: string;
  /** Returns the PEM at a certificate URL (use createCertificateFetcher() for caching). */
  fetchCertificate: (url: string) => Promise<string>;
  /**
   * Hosts the certificate may come from, e.g. ['api.paypal.com', 'api.sandbox.paypal.com'] (https only).
   * Plain http is accepted only for loopback hosts listed here (`127.0.0.1`, `localhost`, `[::1]`,
   * optionally with `:port`), which is how the local sandbox serves its certificate.
   */
  allowedCertHosts: string[];
  /** Clock for the tolerance and certificate-validity checks (default: now). */
  now?: Date;
  /** Allowed distance between transmission time and now, in seconds (default 300). */
  toleranceSeconds?: number;
}

export const PAYPAL_AUTH_ALGO = 'SHA256withRSA';
export const DEFAULT_PAYPAL_SIGNATURE_TOLERANCE_SECONDS = 300;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function fail(code: PayPalSignatureFailureReason, detail: string): PayPalSignatureResult {
  return { ok: false, code, reason: `${code}: ${detail}` };
}

/** Whether `certUrl` may be fetched, given the allowed hosts (see VerifyPayPalWebhookSignatureInput.allowedCertHosts). */
export function isAllowedCertUrl(certUrl: URL, allowedCertHosts: readonly string[]): boolean {
  if (certUrl.username || certUrl.password) return false;
  const hostname = certUrl.hostname.toLowerCase();
  const host = certUrl.host.toLowerCase();
  const listed = allowedCertHosts.some((entry) => {
    const e = entry.trim().toLowerCase();
    return e === hostname || e === host;
  });
  if (!listed) return false;
  if (certUrl.protocol === 'https:') return true;
  return certUrl.protocol === 'http:' && LOOPBACK_HOSTS.has(hostname);
}

export async function verifyPayPalWebhookSignature(input: VerifyPayPalWebhookSignatureInput): Promise<PayPalSignatureResult> {
  const transmissionId = input.headers.get('paypal-transmission-id');
  const transmissionTime = input.headers.get('paypal-transmission-time');
  const signature = input.headers.get('paypal-transmission-sig');
  const certUrlText = input.headers.get('paypal-cert-url');
  const authAlgo = input.headers.get('paypal-auth-algo');
  const missing = [
    ['paypal-transmission-id', transmissionId],
    ['paypal-transmission-time', transmissionTime],
    ['paypal-transmission-sig', signature],
    ['paypal-cert-url', certUrlText],
    ['paypal-auth-algo', authAlgo],
  ]
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (missing.length > 0 || !transmissionId || !transmissionTime || !signature || !certUrlText || !authAlgo) {
    return fail('missing_header', missing.join(', '));
  }
  if (authAlgo !== PAYPAL_AUTH_ALGO) return fail('unsupported_auth_algo', authAlgo);
  if (!input.webhookId) return fail('missing_webhook_id', 'no webhook id configured');

  let certUrl: URL;
  try {
    certUrl = new URL(certUrlText);
  } catch {
    return fail('cert_url_invalid', 'not a URL');
  }
  if (!isAllowedCertUrl(certUrl, input.allowedCertHosts)) return fail('cert_url_not_allowed', certUrl.host);

  const now = input.now ?? new Date();
  const sentAt = Date.parse(transmissionTime);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(transmissionTime) || Number.isNaN(sentAt)) {
    return fail('transmission_time_invalid', transmissionTime);
  }
  const tolerance = input.toleranceSeconds ?? DEFAULT_PAYPAL_SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(now.getTime() - sentAt) > tolerance * 1000) {
    return fail('transmission_time_out_of_tolerance', `${transmissionTime} is more than ${tolerance}s from now`);
  }

  let pem: string;
  try {
    pem = await input.fetchCertificate(certUrl.toString());
  } catch (error) {
    return fail('certificate_fetch_failed', error instanceof Error ? error.message : String(error));
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return fail('certificate_invalid', 'not a PEM/DER X.509 certificate');
  }
  const validFrom = Date.parse(certificate.validFrom);
  const validTo = Date.parse(certificate.validTo);
  if (!(validFrom <= now.getTime() && now.getTime() <= validTo)) {
    return fail('certificate_not_valid_now', `valid ${certificate.validFrom} to ${certificate.validTo}`);
  }

  const checksum = crc32(Buffer.from(input.rawBody, 'utf8'));
  const message = `${transmissionId}|${transmissionTime}|${input.webhookId}|${checksum}`;
  let valid = false;
  try {
    valid = verify('sha256', Buffer.from(message, 'utf8'), certificate.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : fail('signature_invalid', 'RSA-SHA256 signature does not match');
}

export interface CertificateFetcherOptions {
  /** Request timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Cache lifetime of a certificate (default 24 h). */
  ttlMs?: number;
  /** Most certificates kept (default 20; the oldest is dropped). */
  maxEntries?: number;
  /** fetch implementation (default: global fetch). */
  fetch?: typeof fetch;
  /** Clock for the TTL (default Date.now). */
  now?: () => number;
}

/**
 * A certificate fetcher with an in-memory cache keyed by URL. Concurrent requests for one URL share
 * one download; failures are not cached. Rejects on non-2xx answers or bodies that are not PEM.
 */
export function createCertificateFetcher(options: CertificateFetcherOptions = {}): (url: string) => Promise<string> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
  const maxEntries = options.maxEntries ?? 20;
  const doFetch = options.fetch ?? fetch;
  const clock = options.now ?? Date.now;
  const cache = new Map<string, { pem: Promise<string>; expiresAt: number }>();

  async function download(url: string): Promise<string> {
    const response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    if (!response.ok) throw new Error(`certificate download failed: HTTP ${response.status}`);
    const text = await response.text();
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error('certificate download returned no PEM certificate');
    return text;
  }

  return (url: string): Promise<string> => {
    const cached = cache.get(url);
    if (cached && cached.expiresAt > clock()) return cached.pem;
    const pem = download(url);
    cache.set(url, { pem, expiresAt: clock() + ttlMs });
    pem.catch(() => {
      if (cache.get(url)?.pem === pem) cache.delete(url);
    });
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    return pem;
  };
}

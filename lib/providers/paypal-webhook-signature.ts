/**
 * Offline verification of PayPal webhook signatures (no call to PayPal's verify endpoint):
 * PayPal signs `<transmission id>|<transmission time>|<webhook id>|<crc32 of the raw body, decimal>`
 * with RSA-SHA256 and tells where the certificate is in PAYPAL-CERT-URL. We check the headers, that
 * the certificate URL is an allowed exact origin under the certificate path prefix, the transmission
 * time, that the certificate chains to a trusted root (every link's signature and validity period),
 * that it was issued to PayPal's message-verification host, and the signature with its public key.
 *
 * No module-level state: the certificate cache lives in the fetcher createCertificateFetcher() returns.
 */
import { verify, X509Certificate } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { PAYPAL_CERT_PATH_PREFIX, PAYPAL_SIGNING_HOSTS } from './paypal-cert-trust.js';

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
  | 'certificate_untrusted'
  | 'certificate_subject_invalid'
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
   * Exact origins the certificate may come from, e.g. ['https://api.paypal.com'] (scheme, host and port
   * must all match); the path must start with PAYPAL_CERT_PATH_PREFIX. See lib/providers/paypal-cert-trust.ts.
   */
  allowedCertOrigins: readonly string[];
  /** Roots the certificate must chain to (lib/providers/paypal-cert-trust.ts trustedPayPalRoots()). */
  trustedRoots: readonly X509Certificate[];
  /** Hosts the leaf certificate may be issued to (default: PayPal's message-verification hosts). */
  signingHosts?: readonly string[];
  /** Clock for the tolerance and certificate-validity checks (default: now). */
  now?: Date;
  /** Allowed distance between transmission time and now, in seconds (default 300). */
  toleranceSeconds?: number;
}

export const PAYPAL_AUTH_ALGO = 'SHA256withRSA';
export const DEFAULT_PAYPAL_SIGNATURE_TOLERANCE_SECONDS = 300;
const CERT_NAME = /^[A-Za-z0-9._-]{1,200}$/;
const MAX_CHAIN = 6;

function fail(code: PayPalSignatureFailureReason, detail: string): PayPalSignatureResult {
  return { ok: false, code, reason: `${code}: ${detail}` };
}

/** Whether `certUrl` may be fetched: an exact allowed origin, the cert path prefix, one plain name, nothing else. */
export function isAllowedCertUrl(certUrl: URL, allowedCertOrigins: readonly string[]): boolean {
  if (certUrl.username || certUrl.password || certUrl.search || certUrl.hash) return false;
  if (!allowedCertOrigins.some((origin) => origin.toLowerCase() === certUrl.origin.toLowerCase())) return false;
  if (!certUrl.pathname.startsWith(PAYPAL_CERT_PATH_PREFIX)) return false;
  return CERT_NAME.test(certUrl.pathname.slice(PAYPAL_CERT_PATH_PREFIX.length));
}

function validAt(certificate: X509Certificate, now: Date): boolean {
  return Date.parse(certificate.validFrom) <= now.getTime() && now.getTime() <= Date.parse(certificate.validTo);
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** The PEM's certificates (leaf first, then any intermediates), or undefined when one does not parse. */
export function parseCertificateBundle(pem: string): X509Certificate[] | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0 || blocks.length > MAX_CHAIN) return undefined;
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return undefined;
  }
}

/**
 * Builds the chain from the leaf through the bundle's intermediates to a trusted root: every link's
 * signature verified, every certificate valid now, intermediates must be CAs. A self-signed leaf,
 * or one issued by a CA we do not trust, fails.
 */
export function chainsToTrustedRoot(bundle: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): boolean {
  let current = bundle[0];
  if (!current) return false;
  const intermediates = bundle.slice(1);
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (!validAt(current, now)) return false;
    const cert: X509Certificate = current;
    const root = roots.find((candidate) => candidate.ca && validAt(candidate, now) && issuedBy(cert, candidate));
    if (root) return true;
    const next = intermediates.find((candidate) => candidate.ca && candidate !== cert && issuedBy(cert, candidate));
    if (!next) return false;
    current = next;
  }
  return false;
}

function issuedToSigningHost(certificate: X509Certificate, hosts: readonly string[]): boolean {
  if (certificate.ca) return false;
  return hosts.some((host) => certificate.checkHost(host, { subject: 'default' }) === host);
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
  if (!isAllowedCertUrl(certUrl, input.allowedCertOrigins)) return fail('cert_url_not_allowed', certUrl.origin);

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
  const bundle = parseCertificateBundle(pem);
  const certificate = bundle?.[0];
  if (!bundle || !certificate) return fail('certificate_invalid', 'not a PEM X.509 certificate bundle');
  if (!validAt(certificate, now)) {
    return fail('certificate_not_valid_now', `valid ${certificate.validFrom} to ${certificate.validTo}`);
  }
  if (!chainsToTrustedRoot(bundle, input.trustedRoots, now)) {
    return fail('certificate_untrusted', 'the certificate does not chain to a trusted root');
  }
  if (!issuedToSigningHost(certificate, input.signingHosts ?? PAYPAL_SIGNING_HOSTS)) {
    return fail('certificate_subject_invalid', 'the certificate was not issued to PayPal');
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

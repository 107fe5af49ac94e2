import { PayPalReportingStore } from './reporting.js';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { generate as generateCertificate } from 'selfsigned';
import { randomString, type SandboxServer } from '../http-kit.js';
import { isoSeconds } from './helpers.js';
import {
  type CaptureRecord,
  type ErrorCatalog,
  type IdempotencyRecord,
  loadErrorCatalog,
  type OrderRecord,
  type RefundRecord,
} from './records.js';
import type { PayPalSandboxOptions } from './types.js';

const generateRsaKeyPair = promisify(generateKeyPair);

/** The sandbox root CA (certificate + private key, test-only, never deployed). */
export function sandboxCa(): { key: string; cert: string } {
  return {
    key: readFileSync(new URL('../fixtures/paypal-sandbox-ca.key', import.meta.url), 'utf8'),
    cert: readFileSync(new URL('../fixtures/paypal-sandbox-ca.pem', import.meta.url), 'utf8'),
  };
}

/**
 * Everything one PayPal sandbox holds: its settings, its signing key and certificate, the orders, captures,
 * refunds, tokens and idempotency keys it made, the webhook target (changeable at run time) and, once bound, its
 * server. Every part of the sandbox (errors, render, events, approval, api) reads and writes this one object.
 */
export interface PayPalState {
  readonly options: PayPalSandboxOptions;
  readonly catalog: ErrorCatalog;
  readonly now: () => Date;
  readonly timestamp: () => string;
  readonly webhookTimeoutMs: number;
  readonly tokenTtlSeconds: number;
  readonly blockDuplicateInvoiceId: boolean;
  /** Refunds give the percentage part of the fee back, in proportion (default false: PayPal keeps it). */
  returnFeesOnRefund: boolean;
  webhookUrl: string | undefined;
  webhookId: string | undefined;
  readonly certificate: { cert: string };
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly certName: string;
  /** Set once the server is bound (the handlers only run after that). */
  publicUrl: string;
  certUrl: string;
  /** The bound server (throws before it is). */
  server: SandboxServer;
  readonly orders: Map<string, OrderRecord>;
  readonly captures: Map<string, CaptureRecord>;
  readonly refunds: Map<string, RefundRecord>;
  readonly tokens: Map<string, number>;
  readonly idempotency: Map<string, IdempotencyRecord>;
  /** Transaction Search records (one per capture and per refund): what reconciliation reads. */
  readonly reporting: PayPalReportingStore;
}

export async function createPayPalState(options: PayPalSandboxOptions): Promise<PayPalState> {
  const now = options.now ?? (() => new Date());
  // Signing key + certificate (valid from a day before "now" for a year), issued by the sandbox CA
  // (sandbox/fixtures/paypal-sandbox-ca.*), which only non-production app config trusts
  // (lib/providers/paypal-cert-trust.ts), to PayPal's sandbox message-verification host.
  const keys = await generateRsaKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const certificate = await generateCertificate([{ name: 'commonName', value: 'messageverificationcerts.sandbox.paypal.com' }], {
    keyPair: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    algorithm: 'sha256',
    notBeforeDate: new Date(now().getTime() - 24 * 3600 * 1000),
    notAfterDate: new Date(now().getTime() + 365 * 24 * 3600 * 1000),
    ...(options.signingCa === null ? {} : { ca: options.signingCa ?? sandboxCa() }),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'messageverificationcerts.sandbox.paypal.com' }] },
    ],
  });
  let server: SandboxServer | undefined;
  return {
    options,
    catalog: loadErrorCatalog(),
    now,
    timestamp: (): string => isoSeconds(now()),
    webhookTimeoutMs: options.webhookTimeoutMs ?? 10_000,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 32_400,
    blockDuplicateInvoiceId: options.blockDuplicateInvoiceId ?? true,
    returnFeesOnRefund: options.returnFeesOnRefund ?? false,
    webhookUrl: options.webhookUrl,
    webhookId: options.webhookId,
    certificate,
    privateKey: createPrivateKey(keys.privateKey),
    publicKey: createPublicKey(keys.publicKey),
    certName: `CERT-360caa42-fca2a594-${randomString(8, '0123456789abcdef')}`,
    publicUrl: '',
    certUrl: '',
    get server(): SandboxServer {
      if (!server) throw new Error('paypal sandbox: server not started yet');
      return server;
    },
    set server(value: SandboxServer) {
      server = value;
    },
    orders: new Map(),
    captures: new Map(),
    refunds: new Map(),
    tokens: new Map(),
    idempotency: new Map(),
    reporting: new PayPalReportingStore({ now: () => now().getTime() }),
  };
}

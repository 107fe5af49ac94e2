import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';

/**
 * Which PayPal webhook signing certificates are believed (issue 18).
 *
 * - Cert URLs: only exact https origins (PayPal's two API hosts, default port) and the path prefix
 *   /v1/notifications/certs/; outside production also the local sandbox's exact origin (scheme, host
 *   AND port of PAYPAL_API_BASE). Never another port or path: this also closes the SSRF.
 * - Chain: the downloaded certificate must chain (signature + validity of every link, intermediates
 *   marked CA) to a trusted root: Node's bundled Mozilla roots (PayPal's certs chain to DigiCert),
 *   plus, only outside production and only when PAYPAL_API_BASE points at the local sandbox, the
 *   sandbox CA below (its private key lives in sandbox/fixtures/ and is never deployed).
 * - Subject: the leaf must be issued to PayPal's message-verification host.
 */

export const PAYPAL_CERT_ORIGINS = ['https://api.paypal.com', 'https://api.sandbox.paypal.com'] as const;
export const PAYPAL_CERT_PATH_PREFIX = '/v1/notifications/certs/';
export const PAYPAL_SIGNING_HOSTS = [
  'messageverificationcerts.paypal.com',
  'messageverificationcerts.sandbox.paypal.com',
] as const;

/** The sandbox root CA (sandbox/fixtures/paypal-sandbox-ca.pem). Trusted only by non-production config. */
export const SANDBOX_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIDfDCCAmSgAwIBAgIJEyI2kRowTKJYMA0GCSqGSIb3DQEBCwUAMGsxQTA/BgNV
BAMTOEJvdWxkZXIgRmVzdCBQYXlQYWwgU2FuZGJveCBSb290IENBIChub3QgZm9y
IHByb2R1Y3Rpb24pMSYwJAYDVQQKEx1Cb3VsZGVyIEZlc3QgcGF5bWVudHMgc2Fu
ZGJveDAeFw0yNTAxMDEwMDAwMDBaFw00NTAxMDEwMDAwMDBaMGsxQTA/BgNVBAMT
OEJvdWxkZXIgRmVzdCBQYXlQYWwgU2FuZGJveCBSb290IENBIChub3QgZm9yIHBy
b2R1Y3Rpb24pMSYwJAYDVQQKEx1Cb3VsZGVyIEZlc3QgcGF5bWVudHMgc2FuZGJv
eDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBALU03Pz32+ffKDTxgxiI
ycZlTsNTrO2U4wMWi93VeO4QH1AF919XugvL4X7gSgMq7Dq9ZGPY87MeUYHDWIMs
ZaURi5wJ7L2eUC7C2DA8eDcM73K2G3tQUB4Ttk9zpDlDCU7medoTrqlrE7V0zAAn
Lr5Iu9ixaoHTgS1a2D5MB9pqAUaCML+/eOT0hJrXG3KpAAT2saa06kSzMk3wzq8G
QEeYNRxeGQTbQ0tXgGxQSuB3ZYO8KrAGXM5Wv/ASLrkYaoJDvuVpKnbLg2YP/F0o
Kc57pDm1VZo/RrJNfgIdxsJ5MycY0svu7euaEH/DuyBH8skdugOadV0Krx/6w3DJ
5jECAwEAAaMjMCEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwDQYJ
KoZIhvcNAQELBQADggEBALK4VpQ0KiX+SYaht9zqh2fYMzaSMyYduJLM59OE1+0X
4VxvwJeVaC9qt3Zj385lVVbOu3mNF9vz4wQTFSMWpKthl8ClqQK7PFLcm17uhuPB
Oji8ZHPuO2g46NzhDpMnivPyL9XrLJ8WYtpVGSkr2h3eGQGROUYIt14v6dEbBJ93
dxOZF3vvjDpKyxE5cY3fxOuYfZAzkCBIgFWJ2crZDLGxFm/+YKrCLUpOQNjUOBM9
TCkt+EYZmgzlwGCONQ6rAFeQlpNr6Y99/YPQK2jb37dkGoy4VziEzzC8N9qn4Ebq
H3ReG6y/OIuhPz2M+sP40edGdH5RaViLfEUOF1BbVr4=
-----END CERTIFICATE-----`;

let publicRoots: X509Certificate[] | undefined;
let sandboxRoot: X509Certificate | undefined;

function loadPublicRoots(): X509Certificate[] {
  publicRoots ??= rootCertificates.flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  return publicRoots;
}

export interface PayPalTrustConfig {
  isProduction: boolean;
  /** PAYPAL_API_BASE (the local sandbox), refused in production by lib/config.ts. */
  apiBase: string | undefined;
}

export function allowedPayPalCertOrigins(config: PayPalTrustConfig): string[] {
  const origins: string[] = [...PAYPAL_CERT_ORIGINS];
  if (!config.isProduction && config.apiBase) origins.push(new URL(config.apiBase).origin);
  return origins;
}

export function trustedPayPalRoots(config: PayPalTrustConfig): X509Certificate[] {
  if (config.isProduction || !config.apiBase) return loadPublicRoots();
  sandboxRoot ??= new X509Certificate(SANDBOX_CA_PEM);
  return [...loadPublicRoots(), sandboxRoot];
}

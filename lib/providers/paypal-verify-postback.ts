import type { Config } from '../config.js';

/**
 * PAYPAL_WEBHOOK_VERIFICATION=postback: ask PayPal itself (POST /v1/notifications/verify-webhook-signature,
 * after an OAuth client-credentials token) instead of checking the certificate chain locally. One more
 * round trip per delivery, but no certificate handling here. `true` only for verification_status SUCCESS.
 */

const API_BASE = { production: 'https://api-m.paypal.com', sandbox: 'https://api-m.sandbox.paypal.com' } as const;

export class PayPalPostbackUnavailable extends Error {
  override name = 'PayPalPostbackUnavailable';
}

export async function verifyWithPayPalPostback(input: {
  rawBody: string;
  headers: Headers;
  webhookId: string;
  config: Config;
  fetchImpl?: typeof fetch;
}): Promise<boolean> {
  const { clientId, clientSecret, environment, apiBase } = input.config.paypal;
  if (!clientId || !clientSecret) throw new PayPalPostbackUnavailable('PayPal client credentials are not set');
  const base = (apiBase ?? API_BASE[environment]).replace(/\/+$/, '');
  const doFetch = input.fetchImpl ?? fetch;
  const timeout = () => AbortSignal.timeout(input.config.checkout.providerTimeoutMs);
  const header = (name: string) => input.headers.get(name);
  const fields = {
    auth_algo: header('paypal-auth-algo'),
    cert_url: header('paypal-cert-url'),
    transmission_id: header('paypal-transmission-id'),
    transmission_sig: header('paypal-transmission-sig'),
    transmission_time: header('paypal-transmission-time'),
  };
  if (Object.values(fields).some((value) => !value)) return false;
  let event: unknown;
  try {
    event = JSON.parse(input.rawBody);
  } catch {
    return false;
  }
  let token: string;
  try {
    const response = await doFetch(`${base}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
      signal: timeout(),
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
    token = String(((await response.json()) as { access_token?: unknown }).access_token ?? '');
    if (!token) throw new Error('token: none in the answer');
  } catch (error) {
    throw new PayPalPostbackUnavailable(error instanceof Error ? error.message : String(error));
  }
  try {
    const response = await doFetch(`${base}/v1/notifications/verify-webhook-signature`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...fields, webhook_id: input.webhookId, webhook_event: event }),
      signal: timeout(),
      redirect: 'error',
    });
    if (response.status >= 500) throw new Error(`verify: HTTP ${response.status}`);
    if (!response.ok) return false;
    return ((await response.json()) as { verification_status?: unknown }).verification_status === 'SUCCESS';
  } catch (error) {
    throw new PayPalPostbackUnavailable(error instanceof Error ? error.message : String(error));
  }
}

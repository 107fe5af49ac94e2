/**
 * What the three buyer pages share (bundled into each by scripts/build-pages.ts): talking to the API,
 * money shown from integer minor units, the access token kept in sessionStorage, and the words a buyer
 * sees for every error the API can give.
 */

export interface ApiErrorBody {
  code: string;
  message: string;
  requestId?: string;
  details?: Record<string, unknown> & { fields?: { path: string; message: string }[] };
}

export type ApiAnswer<T> =
  | { kind: 'ok'; status: number; body: T }
  | { kind: 'error'; status: number; error: ApiErrorBody; retryAfterSeconds: number | null }
  /** No answer at all (offline, connection dropped): the same attempt may be retried. */
  | { kind: 'network' };

/** One API call; never throws. Non-JSON answers (a gateway's 502 page) become an error with the HTTP status. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<ApiAnswer<T>> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    return { kind: 'network' };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (response.ok) return { kind: 'ok', status: response.status, body: body as T };
  const retryHeader = Number(response.headers.get('retry-after'));
  const error =
    body && typeof body === 'object' && 'error' in body && body.error && typeof body.error === 'object'
      ? (body.error as ApiErrorBody)
      : { code: response.status >= 500 ? 'SERVICE_UNAVAILABLE' : 'BAD_REQUEST', message: '' };
  const fromDetails = Number(error.details?.retryAfterSeconds);
  const retryAfterSeconds = Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : fromDetails > 0 ? fromDetails : null;
  return { kind: 'error', status: response.status, error, retryAfterSeconds };
}

/** Integer minor units → "$1,234.50" (USD) or "1,234.50 EUR"; no floating point on the amount. */
export function formatMoney(cents: number, currency: string): string {
  const negative = cents < 0;
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  const minor = String(abs - whole * 100).padStart(2, '0');
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const text = currency === 'USD' ? `$${grouped}.${minor}` : `${grouped}.${minor} ${currency}`;
  return negative ? `−${text}` : text;
}

const TOKEN_PREFIX = 'bf-order-token:';

/** The order's access token lives in this tab's sessionStorage only: never in a URL, never in localStorage. */
export const orderTokens = {
  save(orderId: string, token: string): void {
    sessionStorage.setItem(TOKEN_PREFIX + orderId, token);
  },
  read(orderId: string | null): string | null {
    if (!orderId) return null;
    try {
      return sessionStorage.getItem(TOKEN_PREFIX + orderId);
    } catch {
      return null;
    }
  },
};

export function waitText(seconds: number | null): string {
  if (!seconds || seconds <= 0) return 'in a minute';
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** Words for errors that are not about one field (used by all pages). */
export function generalErrorText(answer: Exclude<ApiAnswer<unknown>, { kind: 'ok' }>): string {
  if (answer.kind === 'network') {
    return 'We could not reach the ticket office. Check your connection and try again; you will not be charged twice.';
  }
  switch (answer.error.code) {
    case 'RATE_LIMITED':
      return `Too many tries from this connection. Please wait and try again ${waitText(answer.retryAfterSeconds)}.`;
    case 'PROVIDER_UNAVAILABLE':
      return 'The payment service is not answering right now. Nothing was charged. Try again, or choose the other payment method.';
    case 'SERVICE_UNAVAILABLE':
    case 'DATABASE_UNAVAILABLE':
    case 'INTERNAL_ERROR':
      return 'Something went wrong on our side. Nothing was charged. Please try again in a moment.';
    case 'IDEMPOTENCY_IN_PROGRESS':
      return 'Your order is still being placed. Please wait a moment before trying again.';
    default:
      return 'That did not work. Please check the form and try again.';
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} missing`);
  return node as T;
}

import { type ApiAnswer, type ApiErrorBody, api } from '../shared.js';
import { session } from './session.js';

/**
 * Every dashboard call: the key from sessionStorage as `Authorization: Bearer bf_...` (never in the
 * URL). A 401 signs out (the key was revoked, expired or mistyped); a 404 that no function of ours
 * answered (no request id: the platform's or the local server's "no such route") means the endpoint is
 * not on this deployment.
 */

export type AdminAnswer<T> = ApiAnswer<T> | { kind: 'unavailable' };

let onUnauthorized: (message: string) => void = () => undefined;

export function whenUnauthorized(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

export function authHeaders(apiKey: string | null = session.read()): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

function isOurs(error: ApiErrorBody): boolean {
  return typeof error.requestId === 'string' && error.requestId.length > 0;
}

export async function adminApi<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; apiKey?: string } = {},
): Promise<AdminAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(init.apiKey), ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  const answer = await api<T>(path, { method: init.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
  if (answer.kind === 'error' && answer.status === 401 && init.apiKey === undefined) {
    onUnauthorized('The API refused your key (it was revoked, has expired, or was mistyped). Sign in again.');
  }
  if (answer.kind === 'error' && answer.status === 404 && !isOurs(answer.error)) return { kind: 'unavailable' };
  return answer;
}

/** A CSV (or other text) download with the key in the header; returns the text and the server's file name. */
export async function adminDownload(
  path: string,
): Promise<{ kind: 'ok'; text: string; filename: string } | Exclude<AdminAnswer<never>, { kind: 'ok' }>> {
  let response: Response;
  try {
    response = await fetch(path, { headers: authHeaders(), cache: 'no-store', credentials: 'same-origin' });
  } catch {
    return { kind: 'network' };
  }
  if (!response.ok) {
    const status = response.status;
    let error: ApiErrorBody = { code: 'BAD_REQUEST', message: '' };
    try {
      const parsed = (await response.json()) as { error?: ApiErrorBody };
      if (parsed.error) error = parsed.error;
    } catch {
      // not JSON
    }
    if (status === 401) onUnauthorized('The API refused your key. Sign in again.');
    if (status === 404 && !isOurs(error)) return { kind: 'unavailable' };
    return { kind: 'error', status, error, retryAfterSeconds: null };
  }
  const disposition = response.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'export.csv';
  return { kind: 'ok', text: await response.text(), filename };
}

/** The API's error in words for staff (the server's own message is already written for people). */
export function errorWords(answer: Exclude<AdminAnswer<unknown>, { kind: 'ok' }>, what = 'That'): string {
  if (answer.kind === 'network') return 'The server could not be reached. Check the connection and try again.';
  if (answer.kind === 'unavailable') return `${what} is not available on this deployment.`;
  const { code, message, details } = answer.error;
  const fields = details?.fields?.map((f) => `${f.path}: ${f.message}`).join('; ');
  switch (code) {
    case 'UNAUTHORIZED':
      return 'Your API key was refused. Sign in again.';
    case 'FORBIDDEN':
      return `Your API key may not do this. ${message}`.trim();
    case 'VALIDATION_ERROR':
      return `Please correct the form: ${fields || message}`;
    case 'REFUND_EXCEEDS_REFUNDABLE':
      return `That is more than can still be refunded. ${message}`.trim();
    case 'ORDER_NOT_PAID':
      return `This order cannot be refunded: ${message}`;
    case 'PROVIDER_UNAVAILABLE':
      return `The payment provider did not answer; nothing was refunded. Try again in a moment. ${message}`.trim();
    case 'IDEMPOTENCY_IN_PROGRESS':
      return 'This request is still being processed. Wait a moment, then reload the order.';
    case 'IDEMPOTENCY_KEY_REUSED':
      return 'This submission was already used for a different request. Start again.';
    case 'RATE_LIMITED':
      return `Too many requests with this key. Try again ${answer.retryAfterSeconds ? `in ${answer.retryAfterSeconds} s` : 'in a minute'}.`;
    case 'NOT_FOUND':
      return message || 'Not found.';
    case 'INTERNAL_ERROR':
    case 'SERVICE_UNAVAILABLE':
    case 'DATABASE_UNAVAILABLE':
      return `Something went wrong on the server (request ${answer.error.requestId ?? 'unknown'}). Try again.`;
    default:
      return message || `The request failed (HTTP ${answer.status}).`;
  }
}

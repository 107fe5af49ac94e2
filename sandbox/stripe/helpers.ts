import {
  type FormObject,
  type FormValue,
  type InjectedFailure,
  isHttpUrl,
  isJsonObject,
  type JsonObject,
  jsonReply,
  type JsonValue,
  minorToDecimal,
  type PageLook,
  type Reply,
  sandboxPage,
} from '../http-kit.js';
import { CURRENCY_SYMBOL, StripeApiError, ZERO_DECIMAL } from './records.js';
import type { StripeObject } from './types.js';

/** Stateless helpers of the Stripe sandbox: error replies, form parameter parsing, money, the page shell. */

export function stripeErrorReply(error: StripeApiError, headers: Record<string, string>): Reply {
  const body: JsonObject = { type: error.type, message: error.message };
  if (error.code) {
    body.code = error.code;
    body.doc_url = `https://stripe.com/docs/error-codes/${error.code.replaceAll('_', '-')}`;
  }
  if (error.param) body.param = error.param;
  Object.assign(body, error.extra);
  return jsonReply(error.status, { error: body }, headers);
}

export function injectedStripeError(failure: InjectedFailure): StripeApiError {
  const status = failure.status ?? (failure.code === 'card_declined' ? 402 : failure.code ? 400 : 500);
  if (status >= 500) {
    return new StripeApiError(
      status,
      'api_error',
      failure.message ?? 'An unknown error occurred (injected by the sandbox).',
      failure.code,
    );
  }
  if (status === 402) {
    const code = failure.code ?? 'card_declined';
    return new StripeApiError(status, 'card_error', failure.message ?? 'Your card was declined.', code, undefined, {
      decline_code: 'generic_decline',
    });
  }
  if (status === 429) {
    return new StripeApiError(
      status,
      'invalid_request_error',
      failure.message ?? 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
      failure.code ?? 'rate_limit',
    );
  }
  if (status === 401) {
    return new StripeApiError(status, 'invalid_request_error', failure.message ?? 'Invalid API Key provided.', failure.code);
  }
  return new StripeApiError(
    status,
    'invalid_request_error',
    failure.message ?? 'Invalid request (injected by the sandbox).',
    failure.code,
  );
}

/** Same object with `id` and `object` as the first keys, the order Stripe's JSON has. */
export function idFirst(value: StripeObject): StripeObject {
  const { id = null, object = null, ...rest } = value;
  return { id, object, ...rest };
}

export function isFormObject(value: JsonValue): value is FormObject {
  return isJsonObject(value);
}

/** A 400 invalid_request_error (the most common Stripe error). */
export function invalidRequest(message: string, code?: string, param?: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', message, code, param);
}

export function unknownParameter(key: string): StripeApiError {
  return invalidRequest(`Received unknown parameter: ${key}`, 'parameter_unknown', key);
}

export function missingParameter(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, 'parameter_missing', param);
}

export function invalidArray(param: string): StripeApiError {
  return invalidRequest(`Invalid array`, 'parameter_invalid_array', param);
}

export function noSuchObject(kind: string, id: string, param: string, status: number): StripeApiError {
  return new StripeApiError(status, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);
}

export function asObject(value: FormValue, param: string): { [key: string]: FormValue } {
  if (typeof value === 'object' && !Array.isArray(value)) return value;
  throw invalidRequest(`Invalid object`, 'parameter_invalid_object', param);
}

export function optionalString(value: FormValue | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw invalidRequest(`Invalid string: ${param} must be a string`, 'parameter_invalid_string', param);
  }
  return value === '' ? undefined : value;
}

export function optionalInteger(value: FormValue | undefined, param: string): number | undefined {
  const text = optionalString(value, param);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw invalidRequest(`Invalid integer: ${text}`, 'parameter_invalid_integer', param);
  }
  return Number(text);
}

export function optionalUrl(value: FormValue | undefined, param: string): string | null {
  const text = optionalString(value, param);
  if (text === undefined) return null;
  if (!isHttpUrl(text.replaceAll('{CHECKOUT_SESSION_ID}', 'x'))) throw invalidRequest('Not a valid URL', 'url_invalid', param);
  return text;
}

export function parseMetadata(value: FormValue | undefined, param: string): Record<string, string> {
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest('Invalid object', 'parameter_invalid_object', param);
  }
  const out: Record<string, string> = {};
  const entries = Object.entries(value);
  if (entries.length > 50) {
    throw invalidRequest('You can specify up to 50 keys in metadata.', 'parameter_invalid_object', param);
  }
  for (const [key, v] of entries) {
    if (typeof v !== 'string') {
      throw invalidRequest(`Invalid value for metadata key ${key}`, 'parameter_invalid_string', `${param}[${key}]`);
    }
    if (key.length > 40) {
      throw invalidRequest('Metadata keys can be at most 40 characters long.', 'parameter_invalid_string', `${param}[${key}]`);
    }
    if (v.length > 500) {
      throw invalidRequest('Metadata values can be at most 500 characters long.', 'parameter_invalid_string', `${param}[${key}]`);
    }
    if (v !== '') out[key] = v;
  }
  return out;
}

export function expandList(value: FormValue | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return Object.values(value).filter((v): v is string => typeof v === 'string');
}

export function formatMoney(amount: number, currency: string): string {
  const symbol = CURRENCY_SYMBOL[currency] ?? '';
  const major = minorToDecimal(amount, ZERO_DECIMAL.has(currency) ? 0 : 2);
  return symbol ? `${symbol}${major}` : `${major} ${currency.toUpperCase()}`;
}

export function redactKey(key: string): string {
  if (key.length <= 12) return '****';
  return `${key.slice(0, 8)}****${key.slice(-4)}`;
}

export function luhnValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export const PAGE_LOOK: PageLook = {
  sandbox: 'Stripe sandbox',
  hint: 'Stripe sandbox (local, test mode)',
  css: 'button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}\ntable{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.2rem 0}',
};

export function pageShell(title: string, body: string): string {
  return sandboxPage(PAGE_LOOK, title, body);
}

import { isJsonObject, type JsonObject, jsonReply, type JsonValue, randomString, type Reply } from '../http-kit.js';
import { formatMinor } from './helpers.js';
import { PayPalApiError, type PayPalErrorDetail, ZERO_DECIMAL } from './records.js';
import type { PayPalState } from './state.js';

/** Errors in PayPal's shape (name, message, details with issue descriptions from the specs) and amounts as PayPal parses them. */
export function createErrors(state: PayPalState) {
  const { catalog } = state;

  function errorBody(status: number, details: PayPalErrorDetail[], message?: string): { body: JsonObject; debugId: string } {
    const known = catalog.errors[String(status)] ?? {
      name: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'INVALID_REQUEST',
      message: 'Request failed.',
    };
    const debugId = randomString(13, '0123456789abcdef');
    const body: JsonObject = { name: known.name, message: message ?? known.message, debug_id: debugId };
    if (details.length > 0) {
      body.details = details.map((d) => {
        const out: JsonObject = {};
        if (d.field !== undefined) out.field = d.field;
        if (d.value !== undefined) out.value = d.value;
        if (d.location !== undefined) out.location = d.location;
        out.issue = d.issue;
        out.description = d.description ?? catalog.issues[d.issue] ?? d.issue;
        return out;
      });
    }
    const anchor = details[0]?.issue ?? known.name;
    body.links = [
      {
        href: `https://developer.paypal.com/api/rest/reference/orders/v2/errors/#${anchor}`,
        rel: 'information_link',
        method: 'GET',
      },
    ];
    return { body, debugId };
  }

  function errorReply(error: PayPalApiError): Reply {
    const { body, debugId } = errorBody(
      error.status,
      error.details,
      error.message === 'PayPal API error' ? undefined : error.message,
    );
    return jsonReply(error.status, body, { 'paypal-debug-id': debugId });
  }

  function issue(
    status: number,
    code: string,
    field?: string,
    value?: string,
    location: PayPalErrorDetail['location'] = 'body',
  ): PayPalApiError {
    const detail: PayPalErrorDetail = { issue: code };
    if (field !== undefined) {
      detail.field = field;
      detail.location = location;
    }
    if (value !== undefined) detail.value = value;
    return new PayPalApiError(status, [detail]);
  }

  /** The record `id` names, or PayPal's 404 INVALID_RESOURCE_ID for the path parameter `field`. */
  function existing<R>(records: { get(id: string): R | undefined }, id: string, field: string): R {
    const record = records.get(id);
    if (!record) throw issue(404, 'INVALID_RESOURCE_ID', field, id, 'path');
    return record;
  }

  function parseAmount(value: JsonValue | undefined, field: string): { currency: string; minor: number; raw: JsonObject } {
    if (!isJsonObject(value)) throw issue(400, 'MISSING_REQUIRED_PARAMETER', field);
    const currency = value.currency_code;
    if (currency === undefined) throw issue(400, 'MISSING_REQUIRED_PARAMETER', `${field}/currency_code`);
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
      throw issue(422, 'INVALID_CURRENCY_CODE', `${field}/currency_code`, String(currency));
    }
    const minor = parseMoneyValue(value.value, currency, `${field}/value`);
    return { currency, minor, raw: { currency_code: currency, value: String(value.value) } };
  }

  function parseMoneyValue(value: JsonValue | undefined, currency: string, field: string): number {
    if (value === undefined) throw issue(400, 'MISSING_REQUIRED_PARAMETER', field);
    if (typeof value !== 'string' || value.length > 32 || !/^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$/.test(value)) {
      throw issue(400, 'INVALID_PARAMETER_SYNTAX', field, String(value));
    }
    if (value.startsWith('-')) throw issue(422, 'CANNOT_BE_NEGATIVE', field, value);
    const [whole = '0', fraction = ''] = value.split('.');
    const decimals = ZERO_DECIMAL.has(currency) ? 0 : 2;
    if (decimals === 0 && fraction.length > 0) throw issue(422, 'DECIMALS_NOT_SUPPORTED', field, value);
    if (fraction.length > decimals) throw issue(422, 'DECIMAL_PRECISION', field, value);
    const minor = Number(whole || '0') * 10 ** decimals + Number(fraction.padEnd(decimals, '0') || '0');
    if (!Number.isSafeInteger(minor)) throw issue(422, 'MAX_VALUE_EXCEEDED', field, value);
    return minor;
  }

  function money(currency: string, minor: number): JsonObject {
    return { currency_code: currency, value: formatMinor(currency, minor) };
  }

  return { errorBody, errorReply, existing, issue, money, parseAmount, parseMoneyValue };
}

export type PayPalErrors = ReturnType<typeof createErrors>;

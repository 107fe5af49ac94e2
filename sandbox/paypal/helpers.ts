import { isHttpUrl, type JsonValue, minorToDecimal, type PageLook, sandboxPage } from '../http-kit.js';
import { PayPalApiError, ZERO_DECIMAL } from './records.js';

/** Stateless helpers of the PayPal sandbox. */

/** Formats minor units as PayPal's decimal string (2 decimals, none for HUF/JPY/TWD). */
export function formatMinor(currency: string, minor: number): string {
  return minorToDecimal(minor, ZERO_DECIMAL.has(currency) ? 0 : 2);
}

/** A PayPal-like fee: 3.49% (half up) + a fixed 0.49 (49 units for zero-decimal currencies), in integer arithmetic. */
export function paypalFee(_currency: string, amountMinor: number): number {
  return Math.floor((amountMinor * 349 + 5000) / 10000) + 49;
}

/**
 * The fee a refund gives back when the sandbox returns fees: the percentage part of paypalFee for the
 * amount refunded (3.49 %, half up), never more than what is left of the capture's fee beyond its fixed
 * part (49) once earlier refunds gave theirs back.
 */
export function returnedRefundFee(refundMinor: number, captureFeeMinor: number, alreadyReturnedMinor: number): number {
  const share = Math.floor((refundMinor * 349 + 5000) / 10000);
  return Math.max(0, Math.min(share, captureFeeMinor - 49 - alreadyReturnedMinor));
}

export function optionalText(value: JsonValue | undefined, field: string, maxLength: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new PayPalApiError(400, [{ issue: 'INVALID_PARAMETER_SYNTAX', field, location: 'body' }]);
  if (value.length < 1 || value.length > maxLength) {
    throw new PayPalApiError(400, [{ issue: 'INVALID_STRING_LENGTH', field, value, location: 'body' }]);
  }
  return value;
}

export function optionalUrl(value: JsonValue | undefined, field: string): string | null {
  const text = optionalText(value, field, 4000);
  if (text === null) return null;
  if (isHttpUrl(text)) return text;
  throw new PayPalApiError(400, [{ issue: 'INVALID_PARAMETER_SYNTAX', field, value: text, location: 'body' }]);
}

export const PAGE_LOOK: PageLook = {
  sandbox: 'PayPal sandbox',
  hint: 'PayPal sandbox (local)',
  css: 'button{margin:1rem .5rem 0 0;padding:.6rem 1.2rem;font-size:1rem}\n',
};

export function pageShell(title: string, body: string): string {
  return sandboxPage(PAGE_LOOK, title, body);
}

/** ISO 8601 time without milliseconds (`2026-01-02T03:04:05Z`), as PayPal writes times. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

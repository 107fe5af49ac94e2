/**
 * Money is integer minor units (cents) with an ISO 4217 currency; never floats. The database enforces
 * the same list (domain currency_code) and non-negative amounts (domain money_cents).
 */
export const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'MXN', 'AUD'] as const;
export type Currency = (typeof CURRENCIES)[number];

export interface Money {
  amountCents: number;
  currency: Currency;
}

export function isCurrency(value: string): value is Currency {
  return (CURRENCIES as readonly string[]).includes(value);
}

export function assertCents(value: number, what = 'amount'): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer of minor units`);
  return value;
}

/** "12.50" style text for display and CSV; all listed currencies have two decimals. */
export function formatMinorUnits(amountCents: number): string {
  const sign = amountCents < 0 ? '-' : '';
  const abs = Math.abs(amountCents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Minor units from a decimal string as PayPal sends amounts ("12", "12.5", "12.50"), without floating
 * point; undefined for anything else (negative, more than two decimals, not a number).
 */
export function parseDecimalAmount(value: string): number | undefined {
  const match = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

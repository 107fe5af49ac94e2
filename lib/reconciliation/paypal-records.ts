import { type Config, getConfig } from '../config.js';
import { parseDecimalAmount } from '../money.js';
import { ProviderError } from '../providers/checkout-provider.js';
import { getPayPalClients } from '../providers/index.js';
import type { ProviderRecord } from './types.js';

/**
 * Reads one UTC day of PayPal Transaction Search: GET /v1/reporting/transactions with start_date,
 * end_date, fields=all, page_size and page.
 *
 * The PayPal server SDK (@paypal/paypal-server-sdk) has no client for the Transaction Search API (it
 * covers Orders, Payments, Vault, Subscriptions), so we call it directly with fetch, authenticated
 * with the SDK's own OAuth token (its client-credentials manager fetches and renews it) and sent to the
 * same API base the SDK is pointed at.
 *
 * PayPal answers at most 10,000 items per query (RESULTSET_TOO_LARGE): a window that is too large is
 * halved until it fits. The cursor a run continues from is {windowStart, windowEnd, page}.
 *
 * Event codes: T00xx are payments (T0006 checkout captures), T11xx refunds and reversals, T04xx
 * withdrawals to the bank (payouts, listed apart), T01xx fees, anything else an adjustment.
 */

export interface PayPalCursor {
  /** Epoch ms, inclusive. */
  windowStart: number;
  /** Epoch ms, inclusive. */
  windowEnd: number;
  page: number;
}

export interface PayPalWithdrawal {
  id: string;
  amountCents: number;
  currency: string;
  at: string;
}

export interface PayPalChunk {
  records: ProviderRecord[];
  withdrawals: PayPalWithdrawal[];
  /** Where to continue; null when the day is done. */
  next: PayPalCursor | null;
}

const PAGE_SIZE = 500;
const SDK_BASE_URLS = { sandbox: 'https://api-m.sandbox.paypal.com', production: 'https://api-m.paypal.com' } as const;

interface Money {
  currency_code?: string;
  value?: string;
}
interface TransactionInfo {
  transaction_id?: string;
  paypal_reference_id?: string;
  transaction_event_code?: string;
  transaction_initiation_date?: string;
  transaction_amount?: Money;
  fee_amount?: Money;
  transaction_status?: string;
  invoice_id?: string;
  custom_field?: string;
}
interface SearchResponse {
  transaction_details?: { transaction_info?: TransactionInfo }[];
  total_pages?: number;
  page?: number;
}

/** Signed minor units from PayPal's decimal string ("-12.34"). */
export function signedMinorUnits(money: Money | undefined): number {
  if (!money?.value) return 0;
  const negative = money.value.trim().startsWith('-');
  const minor = parseDecimalAmount(money.value.trim().replace(/^[-+]/, ''));
  if (minor === undefined) throw new Error(`PayPal amount is not a decimal: ${money.value}`);
  return negative ? -minor : minor;
}

export function paypalRecord(info: TransactionInfo): ProviderRecord | PayPalWithdrawal | undefined {
  const id = info.transaction_id;
  const code = info.transaction_event_code ?? '';
  if (!id || !info.transaction_initiation_date) return undefined;
  // Denied and pending transactions move no money (yet).
  if (info.transaction_status && info.transaction_status !== 'S') return undefined;
  const amountCents = signedMinorUnits(info.transaction_amount);
  const currency = (info.transaction_amount?.currency_code ?? '').toUpperCase();
  if (code.startsWith('T04')) return { id, amountCents, currency, at: new Date(info.transaction_initiation_date).toISOString() };
  const kind = code.startsWith('T00')
    ? 'charge'
    : code.startsWith('T11')
      ? 'refund'
      : code.startsWith('T01')
        ? 'fee'
        : 'adjustment';
  return {
    recordId: id,
    kind,
    sourceId: id,
    reference: id,
    paymentReference: kind === 'charge' ? id : (info.paypal_reference_id ?? null),
    occurredAt: new Date(info.transaction_initiation_date),
    amountCents,
    currency,
    // PayPal reports its fee as a negative amount; a refund may give part of it back (positive).
    feeCents: -signedMinorUnits(info.fee_amount),
    orderIdHint: info.custom_field ?? null,
    payoutId: null,
  };
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

async function accessToken(config: Config): Promise<string> {
  const { client } = await getPayPalClients('refund', config);
  // The SDK's client-credentials manager: POST /v1/oauth2/token through the SDK's own request pipeline.
  const token = await client.clientCredentialsAuthManager.fetchToken();
  return token.accessToken;
}

async function searchPage(
  config: Config,
  token: string,
  cursor: PayPalCursor,
): Promise<{ ok: true; body: SearchResponse } | { ok: false; tooLarge: true }> {
  const base = (config.paypal.apiBase ?? SDK_BASE_URLS[config.paypal.environment]).replace(/\/+$/, '');
  const query = new URLSearchParams({
    start_date: rfc3339(cursor.windowStart),
    end_date: rfc3339(cursor.windowEnd),
    fields: 'all',
    page_size: String(PAGE_SIZE),
    page: String(cursor.page),
  });
  let response: Response;
  try {
    response = await fetch(`${base}/v1/reporting/transactions?${query.toString()}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(Math.max(config.checkout.providerTimeoutMs, 15_000)),
    });
  } catch (error) {
    const timeout = error instanceof Error && error.name === 'TimeoutError';
    throw new ProviderError('paypal', timeout ? 'timeout' : 'connection_error', 'PayPal Transaction Search did not answer', {
      kind: timeout ? 'timeout' : 'network',
      cause: error,
    });
  }
  const text = await response.text();
  if (response.ok) return { ok: true, body: JSON.parse(text) as SearchResponse };
  let issue = `http_${response.status}`;
  try {
    const body = JSON.parse(text) as { name?: string; details?: { issue?: string }[] };
    issue = body.details?.[0]?.issue ?? body.name ?? issue;
  } catch {
    // not JSON: keep the status
  }
  if (issue === 'RESULTSET_TOO_LARGE') return { ok: false, tooLarge: true };
  throw new ProviderError('paypal', issue, `PayPal Transaction Search refused the query (${response.status} ${issue})`, {
    kind: 'api',
    statusCode: response.status,
  });
}

/** The first cursor of a day: the whole day as one window, page 1. */
export function firstPayPalCursor(dayStart: Date, dayEnd: Date): PayPalCursor {
  return { windowStart: dayStart.getTime(), windowEnd: dayEnd.getTime() - 1, page: 1 };
}

/** The day's transactions one page (≤ 500) per chunk, from `cursor` on. */
export async function* paypalDayChunks(input: { dayEnd: Date; cursor: PayPalCursor }): AsyncGenerator<PayPalChunk> {
  const config = getConfig();
  let token = await accessToken(config);
  let cursor: PayPalCursor | null = input.cursor;
  const last = input.dayEnd.getTime() - 1;
  while (cursor) {
    let answer = await searchPage(config, token, cursor).catch(async (error: unknown) => {
      if (error instanceof ProviderError && error.statusCode === 401) {
        token = await accessToken(config);
        return await searchPage(config, token, cursor as PayPalCursor);
      }
      throw error;
    });
    while (!answer.ok) {
      if (cursor.windowEnd - cursor.windowStart < 1_000) throw new Error('PayPal reports more than 10,000 items in one second');
      cursor = { ...cursor, windowEnd: cursor.windowStart + Math.floor((cursor.windowEnd - cursor.windowStart) / 2), page: 1 };
      answer = await searchPage(config, token, cursor);
    }
    const records: ProviderRecord[] = [];
    const withdrawals: PayPalWithdrawal[] = [];
    for (const detail of answer.body.transaction_details ?? []) {
      const parsed = detail.transaction_info ? paypalRecord(detail.transaction_info) : undefined;
      if (!parsed) continue;
      if ('recordId' in parsed) records.push(parsed);
      else withdrawals.push(parsed);
    }
    const totalPages = answer.body.total_pages ?? 0;
    let next: PayPalCursor | null;
    if (cursor.page < totalPages) next = { ...cursor, page: cursor.page + 1 };
    else if (cursor.windowEnd < last) next = { windowStart: cursor.windowEnd + 1, windowEnd: last, page: 1 };
    else next = null;
    yield { records, withdrawals, next };
    cursor = next;
  }
}

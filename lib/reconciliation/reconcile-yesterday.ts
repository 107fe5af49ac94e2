import { getConfig } from '../config.js';
import type { Provider } from '../db/models/orders.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import { ProviderError } from '../providers/checkout-provider.js';
import { reconcileDay } from './reconcile-day.js';
import type { ReconcileOutcome } from './types.js';

/**
 * The cron's job: yesterday (UTC) for every configured provider, within one time budget shared by
 * both. Unconfigured providers are skipped (and say so); a provider failure is reported, not thrown,
 * so the other provider still runs; the next call continues either.
 */

export type ProviderResult =
  | ({ outcome: 'ran' } & Omit<ReconcileOutcome, 'summary'> & { mismatches?: number })
  | { outcome: 'not_configured'; provider: Provider }
  | { outcome: 'failed'; provider: Provider; error: string };

export function yesterdayUtc(now: Date = new Date()): string {
  return new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
}

export async function reconcileYesterday(input: { timeBudgetMs: number; now?: Date }): Promise<{
  day: string;
  providers: ProviderResult[];
}> {
  const day = yesterdayUtc(input.now);
  const config = getConfig();
  const deadline = Date.now() + input.timeBudgetMs;
  const providers: ProviderResult[] = [];
  for (const provider of ['stripe', 'paypal'] as const) {
    const configured = provider === 'stripe' ? Boolean(config.stripe.secretKey) : Boolean(config.paypal.clientId);
    if (!configured) {
      providers.push({ outcome: 'not_configured', provider });
      continue;
    }
    try {
      const { summary, ...outcome } = await reconcileDay({ provider, day, timeBudgetMs: Math.max(0, deadline - Date.now()) });
      providers.push({ outcome: 'ran', ...outcome, ...(summary ? { mismatches: summary.mismatches } : {}) });
    } catch (error) {
      log.error('reconciliation failed', { provider, day, error });
      // The code only (ProviderError / AppError); the details are in the log.
      const code = error instanceof ProviderError || error instanceof AppError ? error.code : 'internal_error';
      providers.push({ outcome: 'failed', provider, error: code });
    }
  }
  return { day, providers };
}

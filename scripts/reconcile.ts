import { parseArgs } from 'node:util';
import { closePool } from '../lib/db/client.js';
import type { Provider } from '../lib/db/models/orders.js';
import { reconcileDay } from '../lib/reconciliation/reconcile-day.js';
import type { ReconcileOutcome } from '../lib/reconciliation/types.js';

/**
 * Reconciles one UTC day against the providers (against DATABASE_URL / POSTGRES_URL and the provider
 * keys in the environment), replacing that day's stored report:
 *   npm run reconcile -- --date 2026-06-01 [--provider stripe|paypal] [--budget-ms N]
 * Without --provider: both providers that are configured. Prints one JSON line per provider: the run's
 * summary (totals, counts per class, payouts) and the number of mismatches; exit 1 when there are any.
 * --budget-ms: work in calls of at most N ms each, as the cron does (the run continues from its cursor).
 */

const USAGE = 'usage: npm run reconcile -- --date YYYY-MM-DD [--provider stripe|paypal] [--budget-ms N]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { date: { type: 'string' }, provider: { type: 'string' }, 'budget-ms': { type: 'string' } },
    strict: true,
  });
  if (!values.date || !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) {
    console.error(USAGE);
    return 2;
  }
  if (values.provider !== undefined && values.provider !== 'stripe' && values.provider !== 'paypal') {
    console.error(USAGE);
    return 2;
  }
  const budget = values['budget-ms'] === undefined ? undefined : Number(values['budget-ms']);
  if (budget !== undefined && (!Number.isInteger(budget) || budget < 0)) {
    console.error(USAGE);
    return 2;
  }
  const { getConfig } = await import('../lib/config.js');
  const config = getConfig();
  const providers: Provider[] = values.provider
    ? [values.provider as Provider]
    : (['stripe', 'paypal'] as const).filter((p) => (p === 'stripe' ? config.stripe.secretKey : config.paypal.clientId));
  if (providers.length === 0) {
    console.error('No provider is configured (STRIPE_SECRET_KEY, PAYPAL_CLIENT_ID)');
    return 2;
  }
  let mismatches = 0;
  for (const provider of providers) {
    let outcome: ReconcileOutcome = await reconcileDay({ provider, day: values.date, restart: true, timeBudgetMs: budget });
    let calls = 1;
    while (outcome.status !== 'completed') {
      outcome = await reconcileDay({ provider, day: values.date, timeBudgetMs: budget });
      calls += 1;
    }
    mismatches += outcome.summary?.mismatches ?? 0;
    console.log(JSON.stringify({ provider, day: values.date, runId: outcome.runId, calls, summary: outcome.summary }));
  }
  return mismatches > 0 ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
} finally {
  await closePool();
}

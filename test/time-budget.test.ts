import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config.js';
import { deriveTimeBudget, worstCaseMs } from '../lib/time-budget.js';

/** The one time budget (lib/time-budget.ts) against the function limit vercel.json gives. */

const vercel = JSON.parse(readFileSync(new URL('../vercel.json', import.meta.url), 'utf8')) as {
  functions: Record<string, { maxDuration?: number }>;
  crons: { path: string }[];
};

describe('the time budget', () => {
  it("FUNCTION_MAX_DURATION_S defaults to vercel.json's maxDuration for api/**", () => {
    const config = parseConfig({ NODE_ENV: 'test' });
    expect(config.timeBudget.functionLimitMs).toBe((vercel.functions['api/**/*.ts']?.maxDuration ?? 0) * 1000);
  });

  it('with the 10 s limit every provider call and database deadline fits with room to spare (was 3 × 8 s = 25 s)', () => {
    const budget = deriveTimeBudget(10);
    expect(budget.providerBudgetMs).toBeLessThanOrEqual(6_000);
    expect(worstCaseMs(budget.stripe.refund)).toBeLessThanOrEqual(budget.providerBudgetMs);
    expect(worstCaseMs(budget.stripe.checkout)).toBeLessThanOrEqual(budget.providerBudgetMs);
    // PayPal: the OAuth token request, then the call (its SDK never retries a POST).
    expect(worstCaseMs(budget.paypal.refund, 2)).toBeLessThanOrEqual(budget.providerBudgetMs);
    expect(worstCaseMs(budget.paypal.checkout, 2)).toBeLessThanOrEqual(budget.providerBudgetMs);
    expect(budget.stripe.refund.maxNetworkRetries).toBe(1);
    const { connectTimeoutMs, queryTimeoutMs, statementTimeoutMs } = budget.database;
    expect(Math.max(connectTimeoutMs, queryTimeoutMs, statementTimeoutMs)).toBeLessThanOrEqual(budget.functionLimitMs / 2);
    expect(budget.deadRequestAfterMs).toBeGreaterThan(budget.functionLimitMs);
  });

  it('PROVIDER_TIMEOUT_MS can only lower a per-request time-out', () => {
    expect(deriveTimeBudget(10, 1_000).stripe.checkout.timeoutMs).toBe(1_000);
    expect(deriveTimeBudget(10, 60_000).stripe.checkout.timeoutMs).toBe(6_000);
  });

  it('the refund-check cron is scheduled', () => {
    expect(vercel.crons.map((c) => c.path)).toContain('/api/cron/check-refunds');
  });
});

/**
 * The one time budget. Every deadline a request can run into (provider SDK time-outs and retries, the
 * database's connect / query / statement deadlines, when an unanswered request is surely dead) is
 * derived here from the function's limit, `FUNCTION_MAX_DURATION_S`, which must equal vercel.json's
 * `maxDuration` for `api/**` (a test checks that they agree). Pure: config.ts calls it once.
 *
 * With the default 10 s limit:
 *   provider operation (all attempts, PayPal's token fetch and SDK retry sleeps included)  ≤ 6 s
 *     Stripe checkout: 1 attempt × 6 s        Stripe refund: 2 attempts × 2.75 s + ≤ 0.5 s retry sleep
 *     PayPal (token + call, no SDK retries for POST): 2 requests × 3 s
 *   database: connect 3 s, each query 5 s client-side (statement_timeout 4.5 s server-side, lock waits included)
 *   one email over SMTP: connect 3 s, greeting 3 s, idle socket 5 s, the whole send cut at 6 s
 *   a request older than 15 s is dead (the platform killed it at 10 s): its leftovers can be recovered.
 * A provider call is also raced against the whole provider budget (withDeadline in lib/providers), so
 * an SDK that sleeps longer than planned (a Retry-After) still cannot outlast the function.
 */

export interface ProviderCallPlan {
  /** Per HTTP request (SDK `timeout`). */
  timeoutMs: number;
  /** Stripe `maxNetworkRetries` (PayPal POSTs are never retried by its SDK). */
  maxNetworkRetries: number;
}

export interface TimeBudget {
  functionLimitMs: number;
  /** Everything one provider operation may take, retries included; the hard deadline of withDeadline. */
  providerBudgetMs: number;
  stripe: { checkout: ProviderCallPlan; refund: ProviderCallPlan };
  paypal: { checkout: ProviderCallPlan; refund: ProviderCallPlan };
  database: { connectTimeoutMs: number; queryTimeoutMs: number; statementTimeoutMs: number };
  /** Buyer emails (lib/messages/transport.ts): nodemailer's time-outs and a hard deadline for one whole send. */
  smtp: { connectionTimeoutMs: number; greetingTimeoutMs: number; socketTimeoutMs: number; sendBudgetMs: number };
  /** A request started longer ago than this is no longer running anywhere (limit + margin). */
  deadRequestAfterMs: number;
  /**
   * A cron working through provider operations one by one starts another only while less than this has passed
   * since it started: each may take the whole providerBudgetMs, and the function must still answer in time.
   */
  lastProviderStartMs: number;
}

/** Stripe's first retry sleeps 0.5 s at most (stripe-node: initialNetworkRetryDelay 0.5 s, jittered down). */
const STRIPE_RETRY_SLEEP_MS = 500;
/** PayPal: the OAuth token request, then the call itself, each with the SDK timeout. */
const PAYPAL_REQUESTS_PER_CALL = 2;

export function deriveTimeBudget(functionLimitSeconds: number, providerTimeoutMs?: number): TimeBudget {
  const functionLimitMs = functionLimitSeconds * 1000;
  const providerBudgetMs = Math.floor(functionLimitMs * 0.6);
  // PROVIDER_TIMEOUT_MS may only lower a per-request time-out, never push a call past the budget.
  const cap = (ms: number) => Math.max(100, Math.floor(Math.min(ms, providerTimeoutMs ?? ms)));
  const stripeRefundAttempts = 2;
  return {
    functionLimitMs,
    providerBudgetMs,
    stripe: {
      checkout: { timeoutMs: cap(providerBudgetMs), maxNetworkRetries: 0 },
      refund: {
        timeoutMs: cap((providerBudgetMs - STRIPE_RETRY_SLEEP_MS) / stripeRefundAttempts),
        maxNetworkRetries: stripeRefundAttempts - 1,
      },
    },
    paypal: {
      checkout: { timeoutMs: cap(providerBudgetMs / PAYPAL_REQUESTS_PER_CALL), maxNetworkRetries: 0 },
      refund: { timeoutMs: cap(providerBudgetMs / PAYPAL_REQUESTS_PER_CALL), maxNetworkRetries: 0 },
    },
    database: {
      connectTimeoutMs: Math.floor(functionLimitMs * 0.3),
      queryTimeoutMs: Math.floor(functionLimitMs * 0.5),
      statementTimeoutMs: Math.floor(functionLimitMs * 0.45),
    },
    smtp: {
      connectionTimeoutMs: Math.floor(functionLimitMs * 0.3),
      greetingTimeoutMs: Math.floor(functionLimitMs * 0.3),
      socketTimeoutMs: Math.floor(functionLimitMs * 0.5),
      sendBudgetMs: providerBudgetMs,
    },
    deadRequestAfterMs: functionLimitMs + 5_000,
    lastProviderStartMs: functionLimitMs - providerBudgetMs - 1_000,
  };
}

/** The worst case of one provider operation under a plan (what the budget must cover). */
export function worstCaseMs(plan: ProviderCallPlan, requestsPerAttempt = 1): number {
  return (plan.maxNetworkRetries + 1) * plan.timeoutMs * requestsPerAttempt + plan.maxNetworkRetries * STRIPE_RETRY_SLEEP_MS;
}

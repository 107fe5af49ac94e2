import { z } from 'zod';
import { deriveTimeBudget, type TimeBudget } from './time-budget.js';

/**
 * Every environment variable the system reads, parsed once with zod. Nothing here runs at import
 * time: `getConfig()` parses on first use and caches. Tests call `resetConfigForTests()` after
 * changing process.env.
 */

const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const optionalInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value)));

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Set by Vercel: production | preview | development. */
  VERCEL_ENV: z.enum(['production', 'preview', 'development']).optional(),
  APP_VERSION: optionalString,
  VERCEL_GIT_COMMIT_SHA: optionalString,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),

  // Database
  DATABASE_URL: optionalString,
  POSTGRES_URL: optionalString,
  POSTGRES_URL_NON_POOLING: optionalString,
  DATABASE_DRIVER: z.enum(['pg', 'vercel-postgres']).default('pg'),
  DATABASE_POOL_MAX: int(5, 1, 100),
  /**
   * The functions' time limit in seconds: vercel.json `maxDuration` of api/**. Every deadline (provider
   * calls, database) is derived from it in lib/time-budget.ts.
   */
  FUNCTION_MAX_DURATION_S: int(10, 1, 900),
  /** Connect / per-query (client side) / statement (server side) deadlines; default: derived from the limit. */
  DATABASE_CONNECT_TIMEOUT_MS: optionalInt(100, 60_000),
  DATABASE_IDLE_TIMEOUT_MS: int(10_000, 100, 600_000),
  DATABASE_STATEMENT_TIMEOUT_MS: optionalInt(100, 600_000),
  DATABASE_QUERY_TIMEOUT_MS: optionalInt(100, 600_000),
  /** Local/test only: route @vercel/postgres' WebSocket through this host:port proxy. */
  VERCEL_POSTGRES_WS_PROXY: optionalString,
  /**
   * Named (server-side prepared) statements for the hot paths (lib/db/statement.ts): on, or off for a
   * transaction-mode pooler that does not track them (PgBouncer before 1.21, or max_prepared_statements = 0).
   */
  DATABASE_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),

  // HTTP
  /** Origins (scheme://host[:port]) allowed to call the buyer endpoints and used for return URLs. */
  ALLOWED_ORIGINS: csv,
  /** Public base URL of the festival site, used for default success/cancel URLs. */
  PUBLIC_SITE_URL: optionalString,
  MAX_BODY_BYTES: int(65_536, 1_024, 1_048_576),

  // Checkout
  /**
   * How long checkout holds tickets for a buyer on their way to the provider (5–1440; shorter on a busy
   * on-sale). The provider's own session keeps its minimum (Stripe: 30 minutes); a payment made after
   * the hold ended is settled by the late-payment path (sold if tickets remain, else refunded).
   */
  HOLD_MINUTES: int(15, 5, 1_440),
  /** Upper bound of one provider HTTP request (Stripe/PayPal), in ms; the time budget may set a lower one. */
  PROVIDER_TIMEOUT_MS: int(7_000, 200, 60_000),
  CRON_SECRET: optionalString,
  ADMIN_SECRET: optionalString,

  // Stale-payment sweeper (api/cron/sweep-stale-payments.ts)
  /** Ask the provider about a checkout this many minutes after it started (default: HOLD_MINUTES + 5). */
  SWEEPER_STALE_AFTER_MINUTES: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z.coerce.number().int().min(1).max(10_080).optional(),
  ),
  /** At most this many checkouts per run. */
  SWEEPER_BATCH_LIMIT: int(50, 1, 1_000),
  /** Provider calls stop after this many ms (inside the function's 60 s maxDuration). */
  SWEEPER_TIME_BUDGET_MS: int(40_000, 1_000, 55_000),

  // Stripe
  STRIPE_SECRET_KEY: optionalString,
  /** Comma-separated so that a rolled secret and its successor both verify. */
  STRIPE_WEBHOOK_SECRET: csv,
  /** Dev/test only: http://127.0.0.1:port of the local Stripe sandbox. Refused in production. */
  STRIPE_API_BASE: optionalString,

  // PayPal
  PAYPAL_CLIENT_ID: optionalString,
  PAYPAL_CLIENT_SECRET: optionalString,
  PAYPAL_ENVIRONMENT: z.enum(['sandbox', 'production']).default('sandbox'),
  PAYPAL_WEBHOOK_ID: optionalString,
  /** Dev/test only: http://127.0.0.1:port of the local PayPal sandbox. Refused in production. */
  PAYPAL_API_BASE: optionalString,

  // Rate limits
  RATE_LIMIT_ENABLED: bool(true),

  // Email (the outbox) and tickets
  /** smtp://user:pass@host:port or smtps://… (Mailtrap, Postmark, SES, Resend, any SMTP server). */
  SMTP_URL: optionalString,
  /** The From of every buyer email, e.g. `A Lo Cubano Boulder Fest <tickets@example.org>`. */
  MAIL_FROM: optionalString,
  /** Delivery attempts before a message is dead (staff can still resend it). */
  MAIL_MAX_ATTEMPTS: int(8, 1, 50),
  /** Backoff after the first failed attempt (doubles after each further one, capped at 6 hours). */
  MAIL_RETRY_BASE_SECONDS: int(60, 1, 86_400),
  /** Key of the ticket codes (HMAC-SHA256 of each ticket's random nonce). At least 32 characters. */
  TICKET_CODE_SECRET: optionalString,
  // Abuse limits (issue 18; README "Abuse limits")
  /** Tickets one client address (IPv6 per /64) may hold at once in pending orders. */
  HOLD_CAP_PER_CLIENT: int(40, 1, 10_000),
  /** Tickets one buyer email may hold at once in pending orders. */
  HOLD_CAP_PER_EMAIL: int(20, 1, 10_000),
  /** Header that carries the client address, as set by the platform (Vercel overwrites x-forwarded-for). */
  CLIENT_IP_HEADER: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/i)
    .default('x-forwarded-for')
    .transform((value) => value.toLowerCase()),
  /** Proxies of ours that append to that header after the one that saw the client (0 on Vercel). */
  TRUSTED_PROXY_HOPS: int(0, 0, 10),
  /** On-sale challenge: when set, checkout requires a Cloudflare Turnstile token verified server-side. */
  TURNSTILE_SECRET_KEY: optionalString,
  TURNSTILE_VERIFY_URL: z.string().url().default('https://challenges.cloudflare.com/turnstile/v0/siteverify'),
  /** `local`: certificate chain + signature checked here; `postback`: PayPal's verify-webhook-signature. */
  PAYPAL_WEBHOOK_VERIFICATION: z.enum(['local', 'postback']).default('local'),

  // Operator alerts (lib/ops/evaluate-alerts.ts)
  /** Where alerts are POSTed (JSON); unset: the `alert raised` / `alert cleared` log lines only. */
  ALERT_WEBHOOK_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  ALERT_FAILED_PAYMENTS_PER_HOUR: int(10, 1, 1_000_000),
  ALERT_MIN_SUCCESS_RATE_PERCENT: int(99, 1, 100),
  ALERT_INBOX_BACKLOG_MINUTES: int(15, 1, 1_440),
  /** 5xx share (percent) of the checkout / webhook routes' last ALERT_ERROR_RATE_REQUESTS answers above which an alert fires. */
  ALERT_MAX_ERROR_RATE_PERCENT: int(1, 0, 100),
  ALERT_ERROR_RATE_REQUESTS: int(100, 1, 1_000_000),
  /** Fewer answers than this in the last hour: no error-rate verdict (one 502 of three is not a trend). */
  ALERT_ERROR_RATE_MIN_REQUESTS: int(20, 1, 1_000_000),
  /** A due email older than this many minutes (or any dead one nobody resent) raises email_backlog. */
  ALERT_EMAIL_BACKLOG_MINUTES: int(15, 1, 1_440),
  /**
   * Request outcome counts (lib/ops/request-metrics.ts) are kept in memory per instance and written at most
   * once per this many ms, after a response. Tests set it out of reach and flush by hand.
   */
  REQUEST_METRICS_FLUSH_MS: int(10_000, 0, 2_147_483_647),
  /** Money ledger writes (lib/ledger). `off` only for the checkout bench's on/off comparison and the backfill test; refused in production. */
  LEDGER_WRITES: z.enum(['on', 'off']).default('on'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  isProduction: boolean;
  version: string;
  logLevel: Env['LOG_LEVEL'];
  database: {
    url: string | undefined;
    /** Direct (non-pooling) URL for migrations, falling back to the pooled one. */
    migrationUrl: string | undefined;
    driver: Env['DATABASE_DRIVER'];
    poolMax: number;
    connectTimeoutMs: number;
    idleTimeoutMs: number;
    statementTimeoutMs: number;
    /** Client-side deadline of one query: a frozen server (which cannot enforce statement_timeout) still answers. */
    queryTimeoutMs: number;
    vercelPostgresWsProxy: string | undefined;
    /** Hot statements (lib/db/statement.ts) run as named prepared statements: parsed and planned once per connection. */
    preparedStatements: boolean;
  };
  http: {
    allowedOrigins: string[];
    publicSiteUrl: string | undefined;
    maxBodyBytes: number;
  };
  checkout: { holdMinutes: number; providerTimeoutMs: number };
  sweeper: { staleAfterMinutes: number; batchLimit: number; timeBudgetMs: number };
  /** Every deadline, derived from the function's limit (lib/time-budget.ts). */
  timeBudget: TimeBudget;
  cronSecret: string | undefined;
  adminSecret: string | undefined;
  stripe: { secretKey: string | undefined; webhookSecrets: string[]; apiBase: string | undefined };
  paypal: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    environment: Env['PAYPAL_ENVIRONMENT'];
    webhookId: string | undefined;
    apiBase: string | undefined;
  };
  rateLimit: { enabled: boolean };
  mail: { smtpUrl: string | undefined; from: string | undefined; maxAttempts: number; retryBaseSeconds: number };
  /** undefined in production when TICKET_CODE_SECRET is unset (confirmations then wait, queued, with that error). */
  tickets: { codeSecret: string | undefined };
  abuse: {
    holdCapPerClient: number;
    holdCapPerEmail: number;
    clientIpHeader: string;
    trustedProxyHops: number;
    turnstileSecretKey: string | undefined;
    turnstileVerifyUrl: string;
  };
  paypalWebhookVerification: Env['PAYPAL_WEBHOOK_VERIFICATION'];
  alerts: {
    webhookUrl: string | undefined;
    failedPaymentsPerHour: number;
    minSuccessRatePercent: number;
    inboxBacklogMinutes: number;
    maxErrorRatePercent: number;
    errorRateRequests: number;
    errorRateMinRequests: number;
    emailBacklogMinutes: number;
  };
  requestMetrics: { flushIntervalMs: number };
  ledger: { writes: boolean };
}

/** Dev and test only: ticket codes need a key, and a fresh clone has none. Never used in production. */
const DEV_TICKET_CODE_SECRET = 'dev-only-ticket-code-secret-not-for-production';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

let cached: Config | undefined;

export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

export function resetConfigForTests(): void {
  cached = undefined;
}

function normaliseOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    throw new ConfigError(`ALLOWED_ORIGINS has an entry that is not an origin: ${origin}`);
  }
}

export function parseConfig(source: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    // Only names, never values: values may be secrets.
    throw new ConfigError(`Invalid environment variables: ${fields}`);
  }
  const env = parsed.data;
  const isProduction = env.VERCEL_ENV === 'production' || (env.VERCEL_ENV === undefined && env.NODE_ENV === 'production');
  if (isProduction && (env.STRIPE_API_BASE || env.PAYPAL_API_BASE || env.VERCEL_POSTGRES_WS_PROXY)) {
    throw new ConfigError(
      'Sandbox endpoints (STRIPE_API_BASE, PAYPAL_API_BASE, VERCEL_POSTGRES_WS_PROXY) are refused in production',
    );
  }
  if (isProduction && env.LEDGER_WRITES === 'off') {
    throw new ConfigError('LEDGER_WRITES=off is refused in production: every money movement must reach the ledger');
  }
  if (env.TICKET_CODE_SECRET !== undefined && env.TICKET_CODE_SECRET.length < 32) {
    throw new ConfigError('TICKET_CODE_SECRET must be at least 32 characters');
  }
  const url = env.DATABASE_URL ?? env.POSTGRES_URL;
  const timeBudget = deriveTimeBudget(env.FUNCTION_MAX_DURATION_S, env.PROVIDER_TIMEOUT_MS);
  return {
    env: env.NODE_ENV,
    isProduction,
    version: env.APP_VERSION ?? env.VERCEL_GIT_COMMIT_SHA?.slice(0, 12) ?? '0.1.0',
    logLevel: env.LOG_LEVEL,
    database: {
      url,
      migrationUrl: env.POSTGRES_URL_NON_POOLING ?? url,
      driver: env.DATABASE_DRIVER,
      poolMax: env.DATABASE_POOL_MAX,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS ?? timeBudget.database.connectTimeoutMs,
      idleTimeoutMs: env.DATABASE_IDLE_TIMEOUT_MS,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS ?? timeBudget.database.statementTimeoutMs,
      queryTimeoutMs: env.DATABASE_QUERY_TIMEOUT_MS ?? timeBudget.database.queryTimeoutMs,
      vercelPostgresWsProxy: env.VERCEL_POSTGRES_WS_PROXY,
      preparedStatements: env.DATABASE_PREPARED_STATEMENTS === 'on',
    },
    http: {
      allowedOrigins: env.ALLOWED_ORIGINS.map(normaliseOrigin),
      publicSiteUrl: env.PUBLIC_SITE_URL,
      maxBodyBytes: env.MAX_BODY_BYTES,
    },
    checkout: { holdMinutes: env.HOLD_MINUTES, providerTimeoutMs: env.PROVIDER_TIMEOUT_MS },
    sweeper: {
      staleAfterMinutes: env.SWEEPER_STALE_AFTER_MINUTES ?? env.HOLD_MINUTES + 5,
      batchLimit: env.SWEEPER_BATCH_LIMIT,
      timeBudgetMs: env.SWEEPER_TIME_BUDGET_MS,
    },
    timeBudget,
    cronSecret: env.CRON_SECRET,
    adminSecret: env.ADMIN_SECRET,
    stripe: { secretKey: env.STRIPE_SECRET_KEY, webhookSecrets: env.STRIPE_WEBHOOK_SECRET, apiBase: env.STRIPE_API_BASE },
    paypal: {
      clientId: env.PAYPAL_CLIENT_ID,
      clientSecret: env.PAYPAL_CLIENT_SECRET,
      environment: env.PAYPAL_ENVIRONMENT,
      webhookId: env.PAYPAL_WEBHOOK_ID,
      apiBase: env.PAYPAL_API_BASE,
    },
    rateLimit: { enabled: env.RATE_LIMIT_ENABLED },
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM ?? (isProduction ? undefined : 'A Lo Cubano Boulder Fest <tickets@localhost>'),
      maxAttempts: env.MAIL_MAX_ATTEMPTS,
      retryBaseSeconds: env.MAIL_RETRY_BASE_SECONDS,
    },
    tickets: { codeSecret: env.TICKET_CODE_SECRET ?? (isProduction ? undefined : DEV_TICKET_CODE_SECRET) },
    abuse: {
      holdCapPerClient: env.HOLD_CAP_PER_CLIENT,
      holdCapPerEmail: env.HOLD_CAP_PER_EMAIL,
      clientIpHeader: env.CLIENT_IP_HEADER,
      trustedProxyHops: env.TRUSTED_PROXY_HOPS,
      turnstileSecretKey: env.TURNSTILE_SECRET_KEY,
      turnstileVerifyUrl: env.TURNSTILE_VERIFY_URL,
    },
    paypalWebhookVerification: env.PAYPAL_WEBHOOK_VERIFICATION,
    alerts: {
      webhookUrl: env.ALERT_WEBHOOK_URL,
      failedPaymentsPerHour: env.ALERT_FAILED_PAYMENTS_PER_HOUR,
      minSuccessRatePercent: env.ALERT_MIN_SUCCESS_RATE_PERCENT,
      inboxBacklogMinutes: env.ALERT_INBOX_BACKLOG_MINUTES,
      maxErrorRatePercent: env.ALERT_MAX_ERROR_RATE_PERCENT,
      errorRateRequests: env.ALERT_ERROR_RATE_REQUESTS,
      errorRateMinRequests: env.ALERT_ERROR_RATE_MIN_REQUESTS,
      emailBacklogMinutes: env.ALERT_EMAIL_BACKLOG_MINUTES,
    },
    requestMetrics: { flushIntervalMs: env.REQUEST_METRICS_FLUSH_MS },
    ledger: { writes: env.LEDGER_WRITES === 'on' },
  };
}

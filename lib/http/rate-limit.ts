import { getConfig } from '../config.js';
import { db } from '../db/client.js';
import {
  deleteExpiredWindows,
  incrementSlidingWindow,
  type SlidingCount,
  type SlidingWindowHit,
} from '../db/models/rate-limits.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import { handToWaitUntil } from '../ops/wait-until.js';
import { clientKey } from './client-address.js';
import type { RequestContext } from './handler.js';

/**
 * Postgres-backed sliding-window rate limits (no Redis, no scheduler; see slidingWindowState).
 *
 * `await enforceRateLimit(ctx, { bucket: 'checkout:ip:' + ip, limit: 10, windowSeconds: 60 })`
 * counts the request with one atomic upsert, puts RateLimit-Limit / RateLimit-Remaining /
 * RateLimit-Reset on the response (whatever its status) and throws 429 RATE_LIMITED with
 * Retry-After once the window's count is over the limit. With several limits on one request the
 * headers describe the tightest one. Roughly one request in CLEANUP_EVERY also deletes a batch of
 * ended windows. RATE_LIMIT_ENABLED=false turns every limit (and its headers) off.
 */

export interface RateLimitRule {
  /** What is counted, e.g. `checkout:ip:203.0.113.9`; at most 300 characters. */
  bucket: string;
  limit: number;
  windowSeconds: number;
}

export interface RateLimitState {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends (at least 1). */
  resetSeconds: number;
  count: number;
}

const CLEANUP_EVERY = 100;
/** Counters are kept this long after their window ends (a little slack for clock skew between instances). */
const KEEP_AFTER_END_MS = 60_000;

let clock: () => Date = () => new Date();
let cleanupChance = 1 / CLEANUP_EVERY;

/** Tests: freeze or move time (windows are computed from this clock). Call with no argument to restore. */
export function setRateLimitClockForTests(now?: () => Date): void {
  clock = now ?? (() => new Date());
}

/** Tests: probability (0..1) that a counted request also cleans up. Call with no argument to restore. */
export function setRateLimitCleanupChanceForTests(chance?: number): void {
  cleanupChance = chance ?? 1 / CLEANUP_EVERY;
}

/** The clock limits are computed with (tests move it). */
export function rateLimitNow(): Date {
  return clock();
}

export function rateLimitsEnabled(): boolean {
  return getConfig().rateLimit.enabled;
}

function bucketName(bucket: string): string {
  // Buckets carry user input (emails); keep them bounded and printable.
  const clean = bucket.replace(/[^\x21-\x7e]/g, '?');
  return clean.length <= 300 ? clean : clean.slice(0, 300);
}

/**
 * Sliding window (issue 18: a fixed window let 2 × limit through across a window edge). The estimate
 * is `previous × (share of the previous window still inside the last windowSeconds) + current`; a hit
 * is allowed while the estimate is at most the limit. Refused hits count too, so hammering keeps a
 * client out until it slows down. Retry-After is when one more hit would be allowed, if none come.
 */
export function slidingWindowState(
  rule: Pick<RateLimitRule, 'limit' | 'windowSeconds'>,
  counted: { current: number; previous: number; windowStart: Date },
  now: Date,
): RateLimitState {
  const windowMs = rule.windowSeconds * 1000;
  const elapsed = now.getTime() - counted.windowStart.getTime();
  const weight = Math.max(0, (windowMs - elapsed) / windowMs);
  const estimate = counted.previous * weight + counted.current;
  const allowed = estimate <= rule.limit;
  const untilWindowEnd = windowMs - elapsed;
  // When would previous·w + current + 1 ≤ limit again (no further hits)?
  let waitMs: number;
  if (counted.current + 1 <= rule.limit) {
    // Within this window, once enough of the previous window has slid out.
    const neededWeight = counted.previous > 0 ? (rule.limit - counted.current - 1) / counted.previous : 1;
    waitMs = Math.max(0, windowMs * (1 - neededWeight) - elapsed);
  } else {
    // In the next window this window is the previous one: current·(1 − e/W) + 1 ≤ limit.
    const neededWeight = counted.current > 0 ? Math.max(0, rule.limit - 1) / counted.current : 1;
    waitMs = untilWindowEnd + windowMs * (1 - neededWeight);
  }
  return {
    allowed,
    limit: rule.limit,
    remaining: Math.max(0, Math.floor(rule.limit - estimate)),
    resetSeconds: Math.max(1, Math.ceil((allowed ? untilWindowEnd : waitMs) / 1000)),
    count: counted.current,
  };
}

async function cleanUp(now: Date): Promise<void> {
  try {
    await deleteExpiredWindows(db, new Date(now.getTime() - KEEP_AFTER_END_MS));
  } catch (error) {
    log.warn('rate limit cleanup failed', { error });
  }
}

/** Counts one hit and reports the state; does not touch the response. */
export async function hitRateLimit(rule: RateLimitRule): Promise<RateLimitState> {
  const now = clock();
  const counted = await incrementSlidingWindow(db, bucketName(rule.bucket), rule.windowSeconds, now);
  if (Math.random() < cleanupChance) await cleanUp(now);
  return slidingWindowState(rule, counted, now);
}

function setHeaders(ctx: RequestContext, state: RateLimitState): void {
  const current = ctx.responseHeaders.get('ratelimit-remaining');
  const currentLimit = ctx.responseHeaders.get('ratelimit-limit');
  const tighter =
    current === null ||
    state.remaining < Number(current) ||
    (state.remaining === Number(current) && state.limit < Number(currentLimit));
  if (!tighter && state.allowed) return;
  ctx.responseHeaders.set('ratelimit-limit', String(state.limit));
  ctx.responseHeaders.set('ratelimit-remaining', String(state.remaining));
  ctx.responseHeaders.set('ratelimit-reset', String(state.resetSeconds));
}

/** Counts the request against `rule`; 429 RATE_LIMITED (with Retry-After) when over the limit. */
export async function enforceRateLimit(ctx: RequestContext, rule: RateLimitRule): Promise<RateLimitState | undefined> {
  if (!rateLimitsEnabled()) return undefined;
  const state = await hitRateLimit(rule);
  setHeaders(ctx, state);
  if (!state.allowed) throw rateLimited(state);
  return state;
}

function rateLimited(state: RateLimitState): AppError {
  return new AppError('RATE_LIMITED', 'Too many requests; try again later', {
    headers: { 'retry-after': String(state.resetSeconds) },
    details: { retryAfterSeconds: state.resetSeconds },
  });
}

// ---------------------------------------------------------------------------------------------
// The limits of the public routes, in one place (the routes call these one-liners).

/** Checkouts per client IP and per buyer email. */
export const CHECKOUT_LIMIT = { limit: 10, windowSeconds: 60 } as const;
/** Buyer order lookups (GET /api/orders/{id} with an access token) per client IP. */
export const ORDER_LOOKUP_LIMIT = { limit: 60, windowSeconds: 60 } as const;

/**
 * The IP a limit counts against (IPv6 per /64, mapped IPv4 as IPv4). Vercel always sets x-forwarded-for; a request without one (local
 * tools, in-process tests) is not IP-limited outside production, and shares one bucket in production.
 */
function ipKey(ctx: RequestContext): string | undefined {
  const key = clientKey(ctx.ip);
  if (key) return key;
  return getConfig().isProduction ? 'unknown' : undefined;
}

/**
 * Checkout's two limits (per client IP, per buyer email) counted INSIDE checkout's first statement (issue 17:
 * no round trip of their own; lib/db/queries/checkout.ts): the hits to count and `admit`, which decides on
 * the counts exactly as enforceRateLimit does (headers, 429 RATE_LIMITED). The occasional clean-up of ended
 * windows runs after the response (waitUntil on Vercel). Undefined when rate limits are off.
 * Counted once the body is valid: a 400 costs no database work.
 */
export function checkoutRateLimits(
  ctx: RequestContext,
  email: string,
): { hits: SlidingWindowHit[]; now: Date; admit(counts: SlidingCount[]): void } | undefined {
  if (!rateLimitsEnabled()) return undefined;
  const ip = ipKey(ctx);
  const rules: RateLimitRule[] = [
    ...(ip === undefined ? [] : [{ bucket: `checkout:ip:${ip}`, ...CHECKOUT_LIMIT }]),
    { bucket: `checkout:email:${email.trim().toLowerCase()}`, ...CHECKOUT_LIMIT },
  ];
  const now = clock();
  return {
    hits: rules.map((rule) => ({ bucket: bucketName(rule.bucket), windowSeconds: rule.windowSeconds })),
    now,
    admit(counts) {
      if (Math.random() < cleanupChance) afterResponse(() => cleanUp(now));
      let refused: RateLimitState | undefined;
      rules.forEach((rule, i) => {
        const counted = counts[i];
        if (!counted) throw new Error(`no count for ${rule.bucket}`);
        const state = slidingWindowState(rule, counted, now);
        setHeaders(ctx, state);
        if (!state.allowed && !refused) refused = state;
      });
      if (refused) throw rateLimited(refused);
    },
  };
}

/** Work after the response: waitUntil on Vercel, the background elsewhere. */
function afterResponse(fn: () => Promise<void>): void {
  const work = fn();
  handToWaitUntil(work);
}

export async function limitCheckoutByIp(ctx: RequestContext): Promise<void> {
  const ip = ipKey(ctx);
  if (ip !== undefined) await enforceRateLimit(ctx, { bucket: `checkout:ip:${ip}`, ...CHECKOUT_LIMIT });
}

export async function limitCheckoutByEmail(ctx: RequestContext, email: string): Promise<void> {
  await enforceRateLimit(ctx, { bucket: `checkout:email:${email.trim().toLowerCase()}`, ...CHECKOUT_LIMIT });
}

export async function limitOrderLookupByIp(ctx: RequestContext): Promise<void> {
  const ip = ipKey(ctx);
  if (ip !== undefined) await enforceRateLimit(ctx, { bucket: `order-lookup:ip:${ip}`, ...ORDER_LOOKUP_LIMIT });
}

/** Confirmation resends (POST /api/orders/resend-confirmation) per client IP and per email address. */
export const CONFIRMATION_RESEND_LIMIT = { limit: 10, windowSeconds: 60 } as const;

export async function limitConfirmationResendByIp(ctx: RequestContext): Promise<void> {
  const ip = ipKey(ctx);
  if (ip !== undefined) await enforceRateLimit(ctx, { bucket: `resend-confirmation:ip:${ip}`, ...CONFIRMATION_RESEND_LIMIT });
}

export async function limitConfirmationResendByEmail(ctx: RequestContext, email: string): Promise<void> {
  await enforceRateLimit(ctx, {
    bucket: `resend-confirmation:email:${email.trim().toLowerCase()}`,
    ...CONFIRMATION_RESEND_LIMIT,
  });
}

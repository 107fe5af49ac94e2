import { getConfig } from '../config.js';
import { db } from '../db/client.js';
import { readSlidingWindow } from '../db/models/rate-limits.js';
import { AppError } from '../errors.js';
import { clientKey } from './client-address.js';
import type { RequestContext } from './handler.js';
import { hitRateLimit, rateLimitNow, rateLimitsEnabled, slidingWindowState } from './rate-limit.js';

/**
 * Failed API-key attempts are throttled per client address (IPv6 per /64): after AUTH_FAILURE_LIMIT
 * failures in a sliding minute, the address gets 429 before its key is even looked at, so guessing
 * keys cannot go faster than that. Successful authentications do not count.
 */
export const AUTH_FAILURE_LIMIT = { limit: 10, windowSeconds: 60 } as const;

function bucketFor(ctx: RequestContext): string | undefined {
  const key = clientKey(ctx.ip) ?? (getConfig().isProduction ? 'unknown' : undefined);
  return key === undefined ? undefined : `auth-fail:${key}`;
}

function throttled(retryAfterSeconds: number): AppError {
  return new AppError('RATE_LIMITED', 'Too many failed API key attempts from this address; try again later', {
    headers: { 'retry-after': String(retryAfterSeconds) },
    details: { retryAfterSeconds },
  });
}

/** 429 when this address has used up its failed attempts (reads only). */
export async function refuseThrottledAuth(ctx: RequestContext): Promise<void> {
  const bucket = bucketFor(ctx);
  if (bucket === undefined || !rateLimitsEnabled()) return;
  const now = rateLimitNow();
  const counted = await readSlidingWindow(db, bucket, AUTH_FAILURE_LIMIT.windowSeconds, now);
  // Would one more failure be over the limit? Then refuse now.
  const state = slidingWindowState(AUTH_FAILURE_LIMIT, { ...counted, current: counted.current + 1 }, now);
  if (!state.allowed) throw throttled(state.resetSeconds);
}

/** Counts a failed attempt. */
export async function recordFailedAuth(ctx: RequestContext): Promise<void> {
  const bucket = bucketFor(ctx);
  if (bucket === undefined || !rateLimitsEnabled()) return;
  await hitRateLimit({ bucket, ...AUTH_FAILURE_LIMIT });
}

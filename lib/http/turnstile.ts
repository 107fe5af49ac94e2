import { z } from 'zod';
import { getConfig } from '../config.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import type { RequestContext } from './handler.js';

/**
 * The on-sale challenge switch (issue 18, README "Abuse limits"): with TURNSTILE_SECRET_KEY set,
 * every checkout must carry a Cloudflare Turnstile token (header `cf-turnstile-response`, from the
 * widget on the checkout page), verified server-side at TURNSTILE_VERIFY_URL (Cloudflare's siteverify)
 * with the platform-reported client address. Off when the secret is unset (the default).
 * No token or a refused one → 403 CHALLENGE_FAILED; the verifier unreachable → 503 (fail closed).
 * Tokens are single-use: a retry needs a new one (an idempotent replay does not re-verify).
 */

export const TURNSTILE_HEADER = 'cf-turnstile-response';

/** The token as checkout accepts it (trimmed, 1–2048 characters); also the header's schema in the OpenAPI document. */
export const turnstileTokenSchema = z.string().trim().min(1).max(2048);

/** Request headers of a checkout that concern the challenge (lib/contract/routes.ts documents them from this). */
export const TurnstileHeaders = z.object({
  [TURNSTILE_HEADER]: turnstileTokenSchema.optional().meta({
    description:
      'Cloudflare Turnstile token from the widget on the checkout page. Required while the on-sale challenge is on (TURNSTILE_SECRET_KEY set): missing or refused → 403 CHALLENGE_FAILED; the verifier unreachable → 503. Single-use.',
  }),
});
const VERIFY_TIMEOUT_MS = 3_000;

export async function verifyOnSaleChallenge(ctx: RequestContext): Promise<void> {
  const { turnstileSecretKey: secret, turnstileVerifyUrl: url } = getConfig().abuse;
  if (!secret) return;
  const parsedToken = turnstileTokenSchema.safeParse(ctx.request.headers.get(TURNSTILE_HEADER) ?? '');
  const token = parsedToken.success ? parsedToken.data : undefined;
  if (!token) {
    throw new AppError('CHALLENGE_FAILED', 'Complete the bot check on the checkout page and try again');
  }
  const form = new URLSearchParams({ secret, response: token });
  if (ctx.ip) form.set('remoteip', ctx.ip);
  form.set('idempotency_key', ctx.requestId);
  let outcome: { success?: unknown; 'error-codes'?: unknown };
  try {
    const response = await fetch(url, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS),
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    outcome = (await response.json()) as typeof outcome;
  } catch (error) {
    log.warn('turnstile verification unavailable', { requestId: ctx.requestId, error: String(error) });
    throw new AppError('SERVICE_UNAVAILABLE', 'The bot check could not be verified; try again in a moment', {
      headers: { 'retry-after': '5' },
    });
  }
  if (outcome.success !== true) {
    log.info('turnstile refused', { requestId: ctx.requestId, errors: outcome['error-codes'] });
    throw new AppError('CHALLENGE_FAILED', 'The bot check failed; complete it again and retry');
  }
}

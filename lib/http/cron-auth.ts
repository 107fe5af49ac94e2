import { timingSafeEqual } from 'node:crypto';
import { getConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { RequestContext } from './handler.js';

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Vercel Cron sends `Authorization: Bearer $CRON_SECRET`. Without a configured secret, nothing gets in. */
export function requireCronSecret(ctx: RequestContext): void {
  const secret = getConfig().cronSecret;
  const header = ctx.request.headers.get('authorization') ?? '';
  const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  if (!secret || !given || !safeEqual(given, secret)) {
    throw new AppError('UNAUTHORIZED', 'Missing or invalid cron credentials');
  }
}

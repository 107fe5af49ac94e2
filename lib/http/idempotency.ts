import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { getConfig } from '../config.js';
import { db } from '../db/client.js';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  findIdempotencyKey,
  type IdempotencyKeyRow,
  releaseIdempotencyKey,
} from '../db/models/idempotency-keys.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import type { RequestContext } from './handler.js';
import { json } from './response.js';

/**
 * `Idempotency-Key` for POST endpoints (checkout, refunds, ...).
 *
 * - Same key + same request → the stored response of the first one (header `Idempotent-Replayed: true`).
 * - Same key while the first is still running → wait for it (up to `waitMs`) and replay its
 *   response; still running after that → 409 IDEMPOTENCY_IN_PROGRESS.
 * - Same key + a different request → 422 IDEMPOTENCY_KEY_REUSED.
 * - Only successful (2xx) responses are stored. An error leaves nothing lasting behind (4xx) or is
 *   worth retrying (409, 5xx, provider down), so the key is released and a retry runs again.
 * - Rows are kept at least 24 hours (schema CHECK); the hold cron deletes expired ones.
 *
 * Secrets in stored responses (the buyer's access token in a checkout answer) must not sit in the
 * database in clear: the row's key is the SHA-256 of the client's key, and the response is sealed
 * with AES-256-GCM under a key derived from the client's key itself. Only a caller who knows the
 * Idempotency-Key can read the stored response back.
 *
 * Validate the request fully BEFORE calling this (a 400 writes nothing, not even the key).
 */

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/**
 * A claim older than this belongs to a request that is no longer running anywhere (the platform ends
 * a function at its limit): a retry takes it over. Derived from the function's limit (lib/time-budget.ts).
 */
const staleAfterSeconds = () => Math.ceil(getConfig().timeBudget.deadRequestAfterMs / 1000);

export interface IdempotentResult {
  status: number;
  body: unknown;
}

export interface IdempotencyOptions {
  /** What the key is for, e.g. `POST /api/payments/checkout-session` (keys are unique per scope). */
  scope: string;
  /** The client's key; undefined/null = no idempotency (run once). */
  key: string | null | undefined;
  /** The validated request (canonicalised and hashed; a different one under the same key is refused). */
  request: unknown;
  /** How long a concurrent duplicate waits for the first request to finish (default 5 s). */
  waitMs?: number;
  /** Poll interval while waiting (default 50 ms). */
  pollMs?: number;
}

/** The header's value, checked (printable ASCII, 1..255), or undefined when absent. */
export function idempotencyKeyFrom(ctx: RequestContext): string | undefined {
  const value = ctx.request.headers.get(IDEMPOTENCY_HEADER);
  if (value === null) return undefined;
  if (!KEY_PATTERN.test(value)) {
    throw new AppError('BAD_REQUEST', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  }
  return value;
}

/** JSON with sorted object keys: the same request always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, inner]) => inner !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, inner]) => `${JSON.stringify(k)}:${canonicalJson(inner)}`).join(',')}}`;
}

export function hashRequest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** What the idempotency_keys.key column holds for a client's key (the key itself is never stored). */
export function idempotencyKeyHash(scope: string, key: string): string {
  return keyHashOf(scope, key);
}

function keyHashOf(scope: string, key: string): string {
  return createHash('sha256').update(`${scope}\u0000${key}`).digest('hex');
}

interface SealedBody {
  v: 1;
  iv: string;
  tag: string;
  data: string;
}

function sealingKey(scope: string, key: string): Buffer {
  return sha256(`bf-idempotency-seal-v1\u0000${scope}\u0000${key}`);
}

export function sealBody(scope: string, key: string, body: unknown): SealedBody {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(scope, key), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(body ?? null), 'utf8'), cipher.final()]);
  return { v: 1, iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), data: data.toString('base64url') };
}

function isSealed(value: unknown): value is SealedBody {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return v.v === 1 && typeof v.iv === 'string' && typeof v.tag === 'string' && typeof v.data === 'string';
}

export function openBody(scope: string, key: string, sealed: unknown): unknown {
  if (!isSealed(sealed)) throw new Error('stored idempotent response is not sealed');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(scope, key), Buffer.from(sealed.iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
  const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]).toString('utf8');
  return JSON.parse(text) as unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `run` at most once per (scope, key, request) while the key is kept. Returns its result, or
 * the stored result of an earlier run (`replayed: true`). Errors thrown by `run` release the key
 * and are rethrown unchanged.
 */
export async function runIdempotently(
  options: IdempotencyOptions,
  run: () => Promise<IdempotentResult>,
): Promise<IdempotentResult & { replayed: boolean }> {
  if (options.key === undefined || options.key === null) return { ...(await run()), replayed: false };
  const { scope, key } = options;
  if (!KEY_PATTERN.test(key)) throw new AppError('BAD_REQUEST', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  const ref = { scope, keyHash: keyHashOf(scope, key), requestHash: hashRequest(options.request) };
  const waitMs = options.waitMs ?? 5_000;
  const pollMs = options.pollMs ?? 50;
  const deadline = Date.now() + waitMs;

  for (;;) {
    const claimed = await claimIdempotencyKey(db, { ...ref, staleAfterSeconds: staleAfterSeconds() });
    if (claimed) return await runClaimed(ref, key, run);

    const existing = await findIdempotencyKey(db, ref.scope, ref.keyHash);
    if (!existing && Date.now() < deadline) continue; // released (or expired and deleted) in between: claim again
    const replay = existing ? replayOf(existing, ref, key) : undefined;
    if (replay) return replay;
    // Same request, still running elsewhere.
    if (Date.now() >= deadline) {
      throw new AppError(
        'IDEMPOTENCY_IN_PROGRESS',
        'A request with this Idempotency-Key is still being processed; retry shortly',
        {
          headers: { 'retry-after': '1' },
        },
      );
    }
    await sleep(pollMs);
  }
}

function replayOf(
  existing: IdempotencyKeyRow,
  ref: { requestHash: string; scope: string },
  key: string,
): (IdempotentResult & { replayed: true }) | undefined {
  if (existing.requestHash !== ref.requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request');
  }
  if (existing.status !== 'completed' || existing.responseStatus === null) return undefined;
  return { status: existing.responseStatus, body: openBody(ref.scope, key, existing.responseBody), replayed: true };
}

async function runClaimed(
  ref: { scope: string; keyHash: string; requestHash: string },
  key: string,
  run: () => Promise<IdempotentResult>,
): Promise<IdempotentResult & { replayed: false }> {
  let result: IdempotentResult;
  try {
    result = await run();
  } catch (error) {
    await releaseQuietly(ref);
    throw error;
  }
  if (result.status >= 200 && result.status < 300) {
    try {
      await completeIdempotencyKey(db, ref, { status: result.status, body: sealBody(ref.scope, key, result.body) });
    } catch (error) {
      // The work is done: answer it. The claim goes stale and a later retry would run again.
      log.error('idempotent response could not be stored', { scope: ref.scope, error });
    }
  } else {
    await releaseQuietly(ref);
  }
  return { ...result, replayed: false };
}

async function releaseQuietly(ref: { scope: string; keyHash: string; requestHash: string }): Promise<void> {
  try {
    await releaseIdempotencyKey(db, ref);
  } catch (error) {
    // The claim goes stale and is taken over after staleAfterSeconds().
    log.warn('idempotency key release failed', { scope: ref.scope, error });
  }
}

/**
 * Issue 17: the key folded into the statements of the work itself (checkout), instead of a claim and a
 * completion of its own: the work looks the key up in its first statement, claims it in its write (undone
 * with it) and stores the sealed answer in its last write. When the key already has a row the work does
 * nothing and the route takes respondIdempotently (replay, wait, 422), which behaves as before.
 * `guard` gives the key back when the work fails after its claim was committed (as runClaimed does).
 */
export interface FoldedKey {
  scope: string;
  keyHash: string;
  requestHash: string;
  staleAfterSeconds: number;
  storedAnswer(body: unknown): { status: number; body: unknown };
  onClaimed(): void;
  guard<T>(work: () => Promise<T>): Promise<T>;
}

export function foldIdempotencyKey(options: { scope: string; key: string; request: unknown; status: number }): FoldedKey {
  const { scope, key } = options;
  const ref = { scope, keyHash: keyHashOf(scope, key), requestHash: hashRequest(options.request) };
  let claimed = false;
  return {
    ...ref,
    staleAfterSeconds: staleAfterSeconds(),
    storedAnswer: (body) => ({ status: options.status, body: sealBody(scope, key, body) }),
    onClaimed() {
      claimed = true;
    },
    async guard(work) {
      try {
        return await work();
      } catch (error) {
        if (claimed) await releaseQuietly(ref);
        throw error;
      }
    },
  };
}

/**
 * Route helper: reads the Idempotency-Key header, runs `run` idempotently and answers with JSON
 * (`Idempotent-Replayed: true` on a replay).
 */
export async function respondIdempotently(
  ctx: RequestContext,
  options: { scope: string; request: unknown; waitMs?: number },
  run: () => Promise<IdempotentResult>,
): Promise<Response> {
  const key = idempotencyKeyFrom(ctx);
  const result = await runIdempotently({ ...options, key }, run);
  return json(result.body, {
    status: result.status,
    headers: result.replayed ? { 'idempotent-replayed': 'true' } : {},
  });
}

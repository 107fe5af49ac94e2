import { getConfig } from '../config.js';
import { db, type Queryable } from '../db/client.js';
import { DbError, type DbErrorKind } from '../db/errors.js';
import { addRequestOutcomes, type RequestOutcomeCount } from '../db/models/request-outcomes.js';
import type { ErrorCode } from '../errors.js';
import { ERROR_STATUS } from '../http/error-status.js';
import { log } from '../log.js';
import { runInBackground } from '../messages/schedule-delivery.js';

/**
 * Request outcomes of the checkout and webhook routes, by code ("checkout and webhook counts and error rates
 * by code", issue 16), WITHOUT a database statement on the request path:
 *
 * - lib/http/handler.ts calls `countRequestOutcome` for every answer: a POST to one of COUNTED_ROUTES adds 1
 *   to an in-memory count per (minute, route, code). `code` is `ok` for an answer under 400, else the error
 *   code of the error body (SOLD_OUT, VALIDATION_ERROR, RATE_LIMITED, WEBHOOK_SIGNATURE_INVALID, ...).
 * - After an answer, when REQUEST_METRICS_FLUSH_MS have passed since the last flush started, the counts are
 *   written in ONE statement (an upsert adding them: lib/db/models/request-outcomes.ts), in the background
 *   (waitUntil on Vercel, a detached promise elsewhere). At exit (beforeExit; SIGTERM on Vercel; the dev
 *   server's stop) what is left is flushed.
 * - Bound: an instance killed before its flush loses the counts of at most one interval (the answers since
 *   its last flush). The request log lines (`request`, with status and code) stay the source of truth.
 * - Tests set the interval out of reach and call `flushRequestMetrics()` themselves.
 */

/** The routes counted, and which alert each belongs to. Only POST is counted (the calls that do something). */
export const COUNTED_ROUTES = {
  '/api/payments/checkout-session': 'checkout',
  '/api/payments/paypal-capture': 'checkout',
  '/api/webhooks/stripe': 'webhook',
  '/api/webhooks/paypal': 'webhook',
} as const;
export type CountedRoute = keyof typeof COUNTED_ROUTES;
export type RouteGroup = (typeof COUNTED_ROUTES)[CountedRoute];

export const routesOf = (group: RouteGroup): CountedRoute[] =>
  (Object.keys(COUNTED_ROUTES) as CountedRoute[]).filter((route) => COUNTED_ROUTES[route] === group);

/** `ok`, an error code, or `HTTP_<status>` for an error answer without a code (none is made today). */
export type OutcomeCode = 'ok' | ErrorCode | `HTTP_${number}`;

/** What an answer counts as: `ok` (< 400), a client's or business refusal (4xx), or a server error (5xx). */
export function outcomeClass(code: string): 'ok' | 'clientError' | 'serverError' {
  if (code === 'ok') return 'ok';
  const status = ERROR_STATUS[code as ErrorCode] ?? Number(code.replace(/^HTTP_/, ''));
  return status >= 500 ? 'serverError' : 'clientError';
}

const MINUTE_MS = 60_000;
/** Counts a failed flush puts back are dropped once older than this (the metrics show 24 hours). */
const KEEP_UNFLUSHED_MS = 24 * 60 * MINUTE_MS;
/** Failures after which the statement surely changed nothing and may work next time: the counts are kept. */
const TRANSIENT: readonly DbErrorKind[] = [
  'CONNECTION_ERROR',
  'STATEMENT_TIMEOUT',
  'LOCK_NOT_AVAILABLE',
  'DEADLOCK',
  'SERIALIZATION_FAILURE',
];

/**
 * One instance's counts. The module keeps one; tests make several to act as several function instances
 * flushing at once.
 */
export class RequestOutcomeCounter {
  #counts = new Map<string, RequestOutcomeCount>();

  record(route: string, code: string, at: Date = new Date()): void {
    const bucket = new Date(Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS);
    this.#add({ bucket, route, code, count: 1 });
  }

  /** Answers counted and not flushed yet. */
  pending(): number {
    let sum = 0;
    for (const row of this.#counts.values()) sum += row.count;
    return sum;
  }

  /**
   * Writes every count in one statement and forgets them. Rows are sorted: concurrent flushes lock shared rows
   * in one order. On a transient failure (connection, time-out, lock) the counts are put back for the next
   * flush; any other failure (a row the table refuses) drops them, so one bad row cannot block every later
   * flush. Either way the error is thrown (and logged by the background runner).
   */
  async flush(q: Queryable = db): Promise<{ rows: number; requests: number }> {
    const rows = [...this.#counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
    this.#counts = new Map();
    if (rows.length === 0) return { rows: 0, requests: 0 };
    try {
      await addRequestOutcomes(q, rows);
    } catch (error) {
      if (error instanceof DbError && TRANSIENT.includes(error.kind)) {
        const keepAfter = Date.now() - KEEP_UNFLUSHED_MS;
        for (const row of rows) if (row.bucket.getTime() >= keepAfter) this.#add(row);
      }
      throw error;
    }
    return { rows: rows.length, requests: rows.reduce((sum, row) => sum + row.count, 0) };
  }

  #add(row: RequestOutcomeCount): void {
    const key = `${row.bucket.toISOString()} ${row.route} ${row.code}`;
    const known = this.#counts.get(key);
    if (known) known.count += row.count;
    else this.#counts.set(key, { ...row });
  }
}

const counter = new RequestOutcomeCounter();
/** The first automatic flush comes one interval after the instance started (then one interval after the last). */
let lastFlushStartedAt = Date.now();
let autoFlushRunning = false;

function countedRoute(method: string, path: string): CountedRoute | undefined {
  if (method !== 'POST') return undefined;
  const route = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return Object.hasOwn(COUNTED_ROUTES, route) ? (route as CountedRoute) : undefined;
}

/**
 * The hook of lib/http/handler.ts, for every answer: counts it when it is a POST to a counted route. No I/O
 * here; a flush that is due starts in the background, after this answer. Never throws.
 */
export function countRequestOutcome(method: string, path: string, code: OutcomeCode): void {
  try {
    const route = countedRoute(method, path);
    if (!route) return;
    counter.record(route, code);
    hookExit();
    const interval = getConfig().requestMetrics.flushIntervalMs;
    if (autoFlushRunning || Date.now() - lastFlushStartedAt < interval) return;
    autoFlushRunning = true;
    lastFlushStartedAt = Date.now();
    runInBackground('request metrics flush', async () => {
      // After the answer is on its way (this runs once the handler's return has been handed back).
      await new Promise((resolve) => setImmediate(resolve));
      try {
        return await flushRequestMetrics();
      } finally {
        autoFlushRunning = false;
      }
    });
  } catch (error) {
    log.error('request outcome not counted', { error });
  }
}

/** Writes this instance's counts now (one statement; none when there is nothing to write). */
export async function flushRequestMetrics(q: Queryable = db): Promise<{ rows: number; requests: number }> {
  return await counter.flush(q);
}

/** Answers counted by this instance and not written yet. */
export function pendingRequestOutcomes(): number {
  return counter.pending();
}

let exitHooked = false;

/**
 * Flush what is left when the process ends: `beforeExit` (the loop ran dry), and on Vercel the SIGTERM an
 * instance gets before it is stopped (then the signal is raised again when nobody else handles it). Not in
 * tests (their processes end with counts nobody asked to write). The dev server flushes in its own stop.
 */
function hookExit(): void {
  if (exitHooked || getConfig().env === 'test') return;
  exitHooked = true;
  const flushLeft = async () => {
    if (counter.pending() === 0) return;
    await flushRequestMetrics().catch((error: unknown) => log.error('request metrics flush at exit failed', { error }));
  };
  process.once('beforeExit', () => void flushLeft());
  if (process.env.VERCEL) {
    process.once('SIGTERM', () => {
      void flushLeft().finally(() => {
        if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
      });
    });
  }
}

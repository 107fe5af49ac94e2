import type pg from 'pg';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';

/** The smoke's vocabulary: methods, request specs and builders, and the expectation table's shape. */

export const HTTP_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** What the child process turns into `new Request(url, { method, headers, body })`. */
export interface RequestSpec {
  /** Path + query on the default origin (default: `/<route>` with `[param]` → `smoke` and `?param=smoke`). */
  path?: string;
  /** Full URL; wins over `path`. */
  url?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON (content-type added when absent). */
  body?: unknown;
}

export interface RequestBuildContext {
  route: string;
  method: HttpMethod;
  /** `/<route>` with dynamic segments filled with "smoke" (and the matching query Vercel adds). */
  defaultPath: string;
  databaseUrl: string | undefined;
  env: Record<string, string | undefined>;
  /** Query the smoke database (e.g. pick a seeded ticket type). Throws without DATABASE_URL. */
  query: <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<R[]>;
  /** The local PayPal sandbox the functions talk to, when the caller started one (it signs PayPal webhooks). */
  paypalSandbox?: PayPalSandbox | undefined;
}

export type RequestBuilder = RequestSpec | ((ctx: RequestBuildContext) => RequestSpec | Promise<RequestSpec>);

export interface MethodExpectation {
  /** Expected status (or any of several). */
  status: number | number[];
  request?: RequestBuilder;
  /**
   * Text the response body must contain (a RegExp: must match). Checked on the first BODY_LIMIT
   * characters the runner keeps; reported as a string (`String(regexp)`) in the result.
   */
  bodyIncludes?: string | RegExp;
  /** Extra env for this function's process (merged over the base env; applies to the whole process). */
  env?: Record<string, string>;
  note?: string;
  /**
   * Further calls, made once in the same process after every method's regular call (in table order),
   * each checked and reported like the others. Their method defaults to this key's (required under `*`).
   * Tools that make one call per function (bench cold-start) ignore them.
   */
  also?: ExtraCall[];
}

/** One extra call of a route (see MethodExpectation.also). */
export interface ExtraCall extends Omit<MethodExpectation, 'also' | 'env'> {
  method?: HttpMethod;
}

/** Per route: method → status or full expectation. `*` = every exported method not listed. */
export type RouteExpectation = Partial<Record<HttpMethod | '*', number | MethodExpectation>>;
/** Keys: a route as built (`api/health`, `api/orders/[id]`) or a glob (`api/admin/**`, `api/cron/*`). */
export type ExpectationTable = Record<string, RouteExpectation>;

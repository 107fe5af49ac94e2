/**
 * `npx tsx scripts/smoke-vercel-output.ts` — runs every function of `.vercel/output` the way Vercel would:
 * each `functions/**\/*.func` folder is copied alone to a fresh temp dir (so a file the tracer left out is
 * really missing), a fresh Node 22 process (Vercel's runtime, see build-vercel.ts) chdirs there, imports the
 * handler named in `.vc-config.json`, calls each exported HTTP method with a `Request` and reports the
 * status. Statuses are compared with EXPECTATIONS below (route → method → status, optional request
 * builder, optional text the body must contain). A method's `also` list adds deeper calls (a signed
 * webhook, the other payment provider, an admin call with a real API key...) made in the same process
 * after the one-per-method calls: the deployed code is a bundle, and its lazily loaded paths only show a
 * bundling mistake when a request reaches them. Also checks that `.vercel/output/static` holds only files
 * that exist under public/.
 *
 * Fails (exit 1, summary on stderr) when: a function does not import (named, with the error: missing traced
 * file, relative import without `.js`...); a function has no expectation ("no expectation for api/x");
 * an exported method has none; an expected method is not exported; a status differs; a body lacks its
 * `bodyIncludes` text; a handler throws or does not return a Response; public/ is missing; static output
 * has a path not under public/.
 *
 * Options: --output DIR (default .vercel/output), --root DIR (repo root, default this repo),
 *   --only ROUTE (repeatable), --fresh-db (create a throw-away database on DATABASE_URL's server, migrate it,
 *   drop it after), --migrate (run migrations on DATABASE_URL first), --no-seed (by default the demo event
 *   and ticket types are upserted: checkout needs one), --no-stripe-sandbox (by default, unless STRIPE_API_BASE
 *   is set, the local Stripe sandbox is started and STRIPE_API_BASE / STRIPE_SECRET_KEY point the functions at
 *   it), --no-paypal-sandbox (likewise for PayPal unless PAYPAL_API_BASE is set: PAYPAL_API_BASE,
 *   PAYPAL_CLIENT_ID / PAYPAL_CLIENT_SECRET and PAYPAL_ENVIRONMENT=sandbox; the signed PayPal webhook call
 *   needs this sandbox, it signs the event), --driver pg|vercel-postgres (the functions' DATABASE_DRIVER, default
 *   pg; see driverEnv: vercel-postgres starts the local WebSocket-to-TCP proxy, test/support/ws-proxy.ts, unless
 *   VERCEL_POSTGRES_WS_PROXY is given, and every function must connect through it), --json (print the full result),
 *   --node PATH (Node binary; default the cached Node 22 from build-vercel, else this node).
 * Env: DATABASE_URL (real PostgreSQL; passed to the functions, as POSTGRES_URL under vercel-postgres; the smoke's
 *   own seeding and request builders always use it with pg), anything else the functions read.
 *   Without --fresh-db the smoke writes to DATABASE_URL's database (orders with both providers, signed webhook
 *   events, an API key with every scope valid 30 min, both crons), so it refuses (exit 2) unless its host is
 *   loopback (localhost, 127.0.0.1, ::1) or a unix socket: see databaseTargetRefusal.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { listFunctionDirs } from './build-vercel.js';
import type { PayPalSandbox } from '../sandbox/paypal-sandbox.js';

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

/**
 * Env every function process gets under the caller's env (the caller's values win). Fake secrets so
 * that "401 without CRON_SECRET" and "400 for an unsigned webhook" test the checks, not a missing
 * setting (that answers 500); the deeper `also` calls send them (cron bearer, signed webhooks).
 * VERCEL_ENV=preview: what `vercel build` targets; it lets STRIPE_API_BASE / PAYPAL_API_BASE (sandboxes)
 * through, which production refuses.
 */
export const SMOKE_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  VERCEL_ENV: 'preview',
  LOG_LEVEL: 'info',
  ALLOWED_ORIGINS: 'http://localhost:3000',
  CRON_SECRET: 'smoke-cron-secret',
  STRIPE_WEBHOOK_SECRET: 'whsec_smoke_signing_secret',
  PAYPAL_WEBHOOK_ID: 'WH-SMOKE-0000000000',
};

const buyerHeaders = { origin: 'http://localhost:3000' };
/** A webhook delivery without any signature: refused with 400 before anything is stored. */
const unsignedWebhook: RequestSpec = { body: '{"id":"evt_unsigned"}', headers: { 'content-type': 'application/json' } };

/** Memoised per smoke run (keyed by the run's `query`): one API key, one signed event, however many calls use it. */
function perRun<T>(make: (ctx: RequestBuildContext) => Promise<T>): (ctx: RequestBuildContext) => Promise<T> {
  const made = new WeakMap<RequestBuildContext['query'], Promise<T>>();
  return (ctx) => {
    let value = made.get(ctx.query);
    if (!value) {
      value = make(ctx);
      made.set(ctx.query, value);
    }
    return value;
  };
}

/** A checkout of one ticket of the cheapest on-sale type (the CLI seeds the demo event unless --no-seed). */
function checkoutRequest(provider: 'stripe' | 'paypal'): RequestBuilder {
  return async (ctx) => {
    const [row] = await ctx.query<{ slug: string; code: string }>(
      `SELECT e.slug, t.code FROM ticket_types t JOIN events e ON e.id = t.event_id
        WHERE e.status = 'on_sale' ORDER BY t.price_cents, t.code LIMIT 1`,
    );
    if (!row) throw new Error('no on-sale ticket type in the smoke database (the CLI seeds one unless --no-seed)');
    return {
      headers: { ...buyerHeaders, 'idempotency-key': `smoke-${provider}-${randomUUID()}` },
      body: {
        event: row.slug,
        items: [{ ticketType: row.code, quantity: 1 }],
        customer: { email: 'smoke@example.com', firstName: 'Smoke', lastName: 'Test' },
        provider,
      },
    };
  };
}

/**
 * A staff API key with every scope, inserted straight into the smoke database (once per run). It expires
 * after 30 minutes, so a run against a database that is kept (no --fresh-db) leaves no usable key behind.
 */
const smokeApiKey = perRun(async (ctx) => {
  const { API_KEY_SCOPES } = await import('../lib/db/models/api-keys.js');
  // The format lib/auth/api-keys.ts parses: bf_test_<16 alphanumerics>_<43 alphanumerics>; stored as its SHA-256.
  const prefix = `bf_test_${randomBytes(8).toString('hex')}`;
  const key = `${prefix}_${randomBytes(22).toString('hex').slice(0, 43)}`;
  const [row] = await ctx.query<{ id: string }>(
    `INSERT INTO api_keys (name, environment, prefix, secret_hash, scopes, expires_at, created_by)
     VALUES ('vercel smoke', 'test', $1, $2, $3::text[], now() + interval '30 minutes', 'smoke-vercel-output') RETURNING id`,
    [prefix, createHash('sha256').update(key, 'utf8').digest('hex'), [...API_KEY_SCOPES]],
  );
  if (!row) throw new Error('could not insert the smoke API key');
  return { key, id: row.id };
});

/** A request carrying the smoke API key (`Authorization: Bearer bf_test_...`). */
function withApiKey(spec: (key: { key: string; id: string }) => RequestSpec = () => ({})): RequestBuilder {
  return async (ctx) => {
    const key = await smokeApiKey(ctx);
    const built = spec(key);
    return { ...built, headers: { ...(built.headers ?? {}), authorization: `Bearer ${key.key}` } };
  };
}

/** A copy of one of Stripe's published example objects (sandbox/fixtures/stripe-objects.json). */
function stripeFixture(name: 'event' | 'checkout.session' | 'charge'): Record<string, unknown> {
  const file = join(REPO_ROOT, 'sandbox', 'fixtures', 'stripe-objects.json');
  const object = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown> | undefined>)[name];
  if (!object) throw new Error(`${file} has no ${name}`);
  return object;
}

/**
 * A Stripe event delivery: the fixture envelope around `object`, signed with (the first) STRIPE_WEBHOOK_SECRET
 * by the stripe package, as Stripe signs it.
 */
async function signedStripeEvent(ctx: RequestBuildContext, type: string, object: Record<string, unknown>): Promise<RequestSpec> {
  const secret = ctx.env.STRIPE_WEBHOOK_SECRET?.split(',')[0]?.trim();
  if (!secret) throw new Error('STRIPE_WEBHOOK_SECRET is not set');
  const { default: Stripe } = await import('stripe');
  const payload = JSON.stringify({
    ...stripeFixture('event'),
    id: `evt_smoke_${randomBytes(12).toString('hex')}`,
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  });
  const signature = new Stripe('sk_test_smoke').webhooks.generateTestHeaderString({ payload, secret });
  return { headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload };
}

/** checkout.session.expired for a session no order has: stored, dispatched, ignored ("No matching order"). Once per run, so it can be resent. */
const expiredUnknownSession = perRun((ctx) =>
  signedStripeEvent(ctx, 'checkout.session.expired', {
    ...stripeFixture('checkout.session'),
    id: `cs_test_smoke_${randomBytes(12).toString('hex')}`,
    status: 'expired',
    payment_status: 'unpaid',
    client_reference_id: null,
    metadata: {},
    payment_intent: null,
    url: null,
  }),
);

/**
 * CHECKOUT.ORDER.APPROVED as the local PayPal sandbox delivers it: an order created on the sandbox (for no
 * order of ours), approved as the buyer would; the sandbox renders the event and signs it with its key, whose
 * certificate it serves at PAYPAL-CERT-URL on PAYPAL_API_BASE's host (an allowed host outside production).
 */
async function signedPayPalApproval(ctx: RequestBuildContext): Promise<RequestSpec> {
  const sandbox = ctx.paypalSandbox;
  if (!sandbox)
    throw new Error('needs the local PayPal sandbox to sign the event (the CLI starts it unless --no-paypal-sandbox)');
  const credentials = `${ctx.env.PAYPAL_CLIENT_ID ?? 'smoke'}:${ctx.env.PAYPAL_CLIENT_SECRET ?? 'smoke'}`;
  const tokenResponse = await fetch(`${sandbox.url}/v1/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const token = (await tokenResponse.json()) as { access_token?: string };
  if (!token.access_token) throw new Error(`PayPal sandbox token: HTTP ${tokenResponse.status}`);
  const orderResponse = await fetch(`${sandbox.url}/v2/checkout/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      intent: 'CAPTURE',
      purchase_units: [
        {
          reference_id: randomUUID(),
          custom_id: randomUUID(),
          invoice_id: `SMOKE-${randomBytes(6).toString('hex')}`,
          amount: { currency_code: 'EUR', value: '10.00' },
        },
      ],
    }),
  });
  const order = (await orderResponse.json()) as { id?: string };
  if (!order.id) throw new Error(`PayPal sandbox order: HTTP ${orderResponse.status}`);
  const approved = await sandbox.approve(order.id);
  if (approved.outcome !== 'approved') throw new Error(`PayPal sandbox approval: ${approved.message}`);
  const { headers, payload } = approved.delivery;
  if (!headers['paypal-transmission-sig']) throw new Error('the PayPal sandbox did not sign the event (no webhook id)');
  return { headers, body: payload };
}

/**
 * THE TABLE THE LEAD FILLS IN. Route names are the api/ file paths without extension. Exact keys win over
 * globs; among globs the longest wins. Every built function must match an entry, every exported method
 * must have a status (`*` covers the rest: `defineRoute` exports all methods and answers 405 for unhandled).
 * `also` calls go past the first check (a real API key, a signed webhook, the other provider) into code the
 * bundle loads lazily; bench cold-start ignores them.
 */
export const EXPECTATIONS: ExpectationTable = {
  // Degraded (200 too) = pending migrations: the bundle lost the migrations/ folder, or could not read it.
  'api/health': { GET: { status: 200, bodyIncludes: '"status":"healthy"' }, '*': 405 },
  // Buyer routes (CORS preflight allowed).
  'api/tickets': {
    GET: { status: 200, request: { path: '/api/tickets?event=boulder-fest-2026', headers: buyerHeaders } },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'GET' } } },
    '*': 405,
  },
  // Checkout against the local sandboxes (the CLI seeds the demo event and starts both sandboxes).
  'api/payments/checkout-session': {
    POST: {
      status: 201,
      request: checkoutRequest('stripe'),
      also: [{ status: 201, request: checkoutRequest('paypal'), bodyIncludes: '"provider":"paypal"', note: 'PayPal checkout' }],
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'POST' } } },
    '*': 405,
  },
  // An empty body is refused before any provider call; an order we do not have is a 404.
  'api/payments/paypal-capture': {
    POST: {
      status: 400,
      request: { headers: buyerHeaders, body: {} },
      also: [{ status: 404, request: { headers: buyerHeaders, body: { orderId: randomUUID() } }, note: 'unknown order' }],
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'POST' } } },
    '*': 405,
  },
  // Unsigned provider webhooks are refused (any webhook route; the two below also send signed events).
  'api/webhooks/**': {
    POST: { status: 400, request: unsignedWebhook },
    '*': 405,
  },
  // Signed events are stored in the inbox, dispatched to their handler and answered 200 with the outcome. An
  // event type missing from the dispatch table would answer "ignored" too: charge.refunded must say "processed".
  'api/webhooks/stripe': {
    POST: {
      status: 400,
      request: unsignedWebhook,
      also: [
        {
          status: 200,
          request: expiredUnknownSession,
          bodyIncludes: '"duplicate":false,"status":"ignored"',
          note: 'signed checkout.session.expired, no such order',
        },
        {
          status: 200,
          request: expiredUnknownSession,
          bodyIncludes: '"duplicate":true',
          note: 'the same event again',
        },
        {
          status: 200,
          // As recent API versions send it: no refund list on the charge (refund.* events carry them): nothing to sync.
          request: (ctx) => {
            const { refunds: _refunds, ...charge } = stripeFixture('charge');
            const id = `ch_smoke_${randomBytes(12).toString('hex')}`;
            return signedStripeEvent(ctx, 'charge.refunded', { ...charge, id, refunded: true, amount_refunded: charge.amount });
          },
          bodyIncludes: '"status":"processed"',
          note: 'signed charge.refunded',
        },
      ],
    },
    '*': 405,
  },
  'api/webhooks/paypal': {
    POST: {
      status: 400,
      request: unsignedWebhook,
      also: [
        {
          status: 200,
          request: signedPayPalApproval,
          bodyIncludes: '"duplicate":false,"status":"ignored"',
          note: 'signed CHECKOUT.ORDER.APPROVED, no such order',
        },
      ],
    },
    '*': 405,
  },
  // Back office without an API key: 401 (defineRoute answers 405 for methods a file does not handle); with one, the data.
  'api/admin/api-keys': {
    GET: { status: 401, also: [{ status: 200, request: withApiKey(), bodyIncludes: 'vercel smoke', note: 'API key' }] },
    POST: 401,
    '*': 405,
  },
  'api/admin/api-keys/[id]': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: withApiKey(({ id }) => ({ path: `/api/admin/api-keys/${id}?id=${id}` })),
          bodyIncludes: 'vercel smoke',
          note: 'API key, its own id',
        },
      ],
    },
    DELETE: 401,
    '*': 405,
  },
  'api/admin/webhook-events': { GET: { status: 401, also: [{ status: 200, request: withApiKey(), note: 'API key' }] }, '*': 405 },
  'api/admin/webhook-events/[id]': {
    GET: {
      status: 401,
      also: [{ status: 404, request: withApiKey(() => unknownIdPath('api/admin/webhook-events')), note: 'API key, unknown id' }],
    },
    '*': 405,
  },
  'api/admin/webhook-events/[id]/replay': {
    POST: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => {
            const id = randomUUID();
            return { path: `/api/admin/webhook-events/${id}/replay?id=${id}` };
          }),
          note: 'API key, unknown id',
        },
      ],
    },
    '*': 405,
  },
  'api/audit': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: withApiKey(({ id }) => ({ path: `/api/audit?entity=api_key&id=${id}` })),
          note: 'API key, its own timeline',
        },
      ],
    },
    '*': 405,
  },
  'api/orders/index': { GET: { status: 401, also: [{ status: 200, request: withApiKey(), note: 'API key' }] }, '*': 405 },
  // No credential: the buyer view answers 404 for a missing order and for a missing/wrong token alike.
  'api/orders/[id]': {
    GET: {
      status: 404,
      also: [{ status: 404, request: withApiKey(() => unknownIdPath('api/orders')), note: 'API key, unknown order' }],
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'GET' } } },
    '*': 405,
  },
  // Treasurer's reports (analytics:read): with a key but no event, the 400 that names the field.
  'api/analytics/**': {
    GET: { status: 401, also: [{ status: 400, request: withApiKey(), bodyIncludes: 'event', note: 'API key, no event' }] },
    '*': 405,
  },
  'api/customers/orders': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: withApiKey(() => ({ path: '/api/customers/orders?email=nobody%40example.test' })),
          note: 'API key',
        },
      ],
    },
    '*': 405,
  },
  'api/orders/[id]/money': {
    GET: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => {
            const id = randomUUID();
            return { path: `/api/orders/${id}/money?id=${id}` };
          }),
          note: 'API key, unknown order',
        },
      ],
    },
    '*': 405,
  },
  'api/payments/transactions': {
    GET: { status: 401, also: [{ status: 200, request: withApiKey(), note: 'API key' }] },
    '*': 405,
  },
  'api/payments/refund': {
    POST: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => ({
            headers: { 'idempotency-key': `smoke-refund-${randomUUID()}` },
            body: { orderId: randomUUID(), reason: 'vercel smoke: an order that does not exist' },
          })),
          note: 'API key, unknown order',
        },
      ],
    },
    '*': 405,
  },
  // Crons without CRON_SECRET (Vercel Cron calls GET); with it, the job runs.
  'api/cron/**': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: (ctx) => ({ headers: { authorization: `Bearer ${ctx.env.CRON_SECRET}` } }),
          note: 'CRON_SECRET',
        },
      ],
    },
    '*': 405,
  },
};

/** `/<base>/<random uuid>?id=<it>`: a dynamic route for an id nothing has. */
function unknownIdPath(base: string): RequestSpec {
  const id = randomUUID();
  return { path: `/${base}/${id}?id=${id}` };
}

export const DEFAULT_ORIGIN = 'http://localhost:3000';

// ---------------------------------------------------------------------------------------------------
// Database driver of the functions

/** The values of the app's DATABASE_DRIVER (lib/config.ts). */
export const SMOKE_DRIVERS = ['pg', 'vercel-postgres'] as const;
export type SmokeDriver = (typeof SMOKE_DRIVERS)[number];

/** `--driver NAME` or `--driver=NAME` (default pg). Throws on a missing or unknown name: never a silent pg run. */
export function driverOption(args: readonly string[]): SmokeDriver {
  let value: string | undefined = 'pg';
  args.forEach((arg, i) => {
    if (arg === '--driver') value = args[i + 1]?.startsWith('--') ? undefined : args[i + 1];
    else if (arg.startsWith('--driver=')) value = arg.slice('--driver='.length);
  });
  const driver = SMOKE_DRIVERS.find((name) => name === value);
  if (!driver) throw new Error(`--driver needs one of ${SMOKE_DRIVERS.join(', ')} (got ${value ?? 'nothing'})`);
  return driver;
}

/**
 * The env the function processes get to run on `driver` against the database at `databaseUrl`, over `env`.
 * pg: DATABASE_URL. vercel-postgres: what the Vercel Postgres / Neon integration sets, POSTGRES_URL and
 * POSTGRES_URL_NON_POOLING, and no DATABASE_URL (the app prefers it over POSTGRES_URL), plus
 * VERCEL_POSTGRES_WS_PROXY, the local proxy the driver's WebSocket goes through.
 */
export function driverEnv(
  env: Record<string, string | undefined>,
  driver: SmokeDriver,
  databaseUrl: string,
  wsProxy?: string,
): Record<string, string | undefined> {
  if (driver === 'pg') return { ...env, DATABASE_DRIVER: 'pg', DATABASE_URL: databaseUrl };
  if (!wsProxy)
    throw new Error('the vercel-postgres driver needs a WebSocket proxy (VERCEL_POSTGRES_WS_PROXY) to reach a local database');
  return {
    ...env,
    DATABASE_DRIVER: 'vercel-postgres',
    DATABASE_URL: undefined,
    POSTGRES_URL: databaseUrl,
    POSTGRES_URL_NON_POOLING: databaseUrl,
    VERCEL_POSTGRES_WS_PROXY: wsProxy,
  };
}

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, '..');

// ---------------------------------------------------------------------------------------------------
// Static output

export interface StaticCheckResult {
  ok: boolean;
  publicMissing: boolean;
  /** Paths (relative, `/`-separated) in static output that are not files under public/. */
  extraneous: string[];
  problems: string[];
}

function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && statSync(abs).isDirectory())) out.push(...listFiles(abs, base));
    else out.push(relative(base, abs).split(sep).join('/'));
  }
  return out.sort();
}

/**
 * `.vercel/output/static` may only hold files that exist under public/ — with public/ Vercel serves just
 * that; without it the whole repo root. A missing (or, in git terms, empty) public/ fails.
 */
export function checkStaticOutput(outputDir: string, publicDir: string): StaticCheckResult {
  const problems: string[] = [];
  const publicMissing = !existsSync(publicDir) || !statSync(publicDir).isDirectory();
  if (publicMissing) {
    problems.push(`public/ is missing (${publicDir}): Vercel would serve the whole repo root as static files`);
  } else if (listFiles(publicDir).length === 0) {
    problems.push(
      `public/ has no files (${publicDir}): git keeps no empty folder, so a clone has no public/ and Vercel serves the repo root`,
    );
  }
  const staticFiles = listFiles(join(outputDir, 'static'));
  const extraneous = staticFiles.filter((file) => {
    if (publicMissing) return true;
    const inPublic = join(publicDir, ...file.split('/'));
    return !existsSync(inPublic) || !statSync(inPublic).isFile();
  });
  if (extraneous.length > 0) {
    const shown = extraneous.slice(0, 20).join(', ');
    problems.push(
      `static output has ${extraneous.length} path(s) not under public/: ${shown}${extraneous.length > 20 ? ', ...' : ''}`,
    );
  }
  return { ok: problems.length === 0, publicMissing, extraneous, problems };
}

// ---------------------------------------------------------------------------------------------------
// Functions

export interface FunctionInfo {
  route: string;
  dir: string;
  config: { handler?: string; runtime?: string; filePathMap?: Record<string, string>; [key: string]: unknown };
}

export function listFunctions(outputDir: string): FunctionInfo[] {
  return listFunctionDirs(outputDir).map(({ route, dir }) => {
    const configFile = join(dir, '.vc-config.json');
    const config = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as FunctionInfo['config']) : {};
    return { route, dir, config };
  });
}

/**
 * Copies one .func folder to a fresh temp dir (dereferencing the CLI's symlinks) and materialises a
 * `filePathMap` (files a non-standalone build leaves in the repo) from `root`, as a deploy uploads them.
 */
export function copyFunction(fn: FunctionInfo, root: string, parentTemp?: string): string {
  const temp = mkdtempSync(join(parentTemp ?? tmpdir(), 'vercel-func-'));
  const dest = join(temp, 'task');
  cpSync(fn.dir, dest, { recursive: true, dereference: true });
  for (const [inFunc, inRepo] of Object.entries(fn.config.filePathMap ?? {})) {
    const target = join(dest, inFunc);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(root, inRepo), target, { dereference: true });
  }
  return dest;
}

export interface PlannedCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface RunnerCall {
  method: string;
  status?: number;
  /** Duration of this call (handler + reading the body). */
  ms?: number;
  /** From the start of the import to the end of this call. */
  sinceImportStartMs?: number;
  /** CPU time (user + system) of the process over the same span: far less sensitive to a busy machine. */
  cpuSinceImportStartMs?: number;
  body?: string;
  error?: string;
  /** The module does not export this method; nothing was called. */
  skipped?: boolean;
}

export interface RunnerOutput {
  exports: string[];
  /** With `trackPackages` on Node >= 22.15: node_modules packages the import (and calls) resolved, in order. */
  loadedPackages?: string[];
  importMs?: number;
  /** CPU time (user + system) spent importing. */
  importCpuMs?: number;
  importError?: { code?: string; message: string };
  calls: RunnerCall[];
  /** Wall time from spawn to exit, seen by the parent. */
  processMs: number;
  exitCode: number | null;
  stderr: string;
  stdout: string;
  timedOut: boolean;
}

/** Characters of each response body the runner keeps (what `bodyIncludes` is checked against). */
export const BODY_LIMIT = 2_000;

/** Plain ESM run by the child Node: no TypeScript, nothing from the repo. */
const RUNNER_SOURCE = `
import { readFileSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [funcDir, planFile, resultFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const out = { exports: [], calls: [] };
if (plan.trackPackages && typeof module.registerHooks === 'function') {
  const seen = new Set();
  out.loadedPackages = [];
  module.registerHooks({
    resolve(specifier, context, next) {
      const result = next(specifier, context);
      const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url || '');
      if (m && !seen.has(m[1])) { seen.add(m[1]); out.loadedPackages.push(m[1]); }
      return result;
    },
  });
}
const save = () => writeFileSync(resultFile, JSON.stringify(out));
const describe = (e) => (e && e.stack ? String(e.stack) : String(e)).split('\\n').slice(0, 6).join('\\n').slice(0, 2000);
process.chdir(funcDir);
const started = performance.now();
const cpu0 = process.cpuUsage();
const cpuMs = () => { const u = process.cpuUsage(cpu0); return (u.user + u.system) / 1000; };
let mod;
try {
  mod = await import(pathToFileURL(join(funcDir, plan.handler)).href);
} catch (e) {
  out.importMs = performance.now() - started;
  out.importError = { code: e && e.code, message: describe(e) };
  save();
  process.exit(0);
}
out.importMs = performance.now() - started;
out.importCpuMs = cpuMs();
out.exports = Object.keys(mod).sort();
save();
for (const call of plan.calls) {
  const fn = mod[call.method];
  const t = performance.now();
  if (typeof fn !== 'function') { out.calls.push({ method: call.method, skipped: true }); continue; }
  try {
    const init = { method: call.method, headers: call.headers };
    if (call.body !== undefined && call.method !== 'GET' && call.method !== 'HEAD') init.body = call.body;
    const response = await fn(new Request(call.url, init));
    if (!(response instanceof Response)) throw new Error('handler did not return a Response (got ' + typeof response + ')');
    const text = call.method === 'HEAD' ? '' : await response.text();
    const now = performance.now();
    out.calls.push({ method: call.method, status: response.status, ms: now - t, sinceImportStartMs: now - started, cpuSinceImportStartMs: cpuMs(), body: text.slice(0, ${BODY_LIMIT}) });
  } catch (e) {
    out.calls.push({ method: call.method, ms: performance.now() - t, error: describe(e) });
  }
  save();
}
save();
process.exit(0);
`;

export interface RunFunctionOptions {
  /** The (copied) .func folder. */
  funcDir: string;
  handler: string;
  calls: PlannedCall[];
  nodeBinary: string;
  env: Record<string, string | undefined>;
  timeoutMs?: number | undefined;
  /** Record which packages get loaded (module.registerHooks; skews timing a little, so not for timed runs). */
  trackPackages?: boolean;
}

/** One fresh `node` process: import the handler, make the calls in order, report. */
export async function runFunctionProcess(opts: RunFunctionOptions): Promise<RunnerOutput> {
  const work = mkdtempSync(join(tmpdir(), 'vercel-runner-'));
  const runner = join(work, 'runner.mjs');
  const planFile = join(work, 'plan.json');
  const resultFile = join(work, 'result.json');
  writeFileSync(runner, RUNNER_SOURCE);
  writeFileSync(
    planFile,
    JSON.stringify({ handler: opts.handler, calls: opts.calls, trackPackages: opts.trackPackages ?? false }),
  );
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.env)) if (value !== undefined) env[key] = value;
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  try {
    const exitCode = await new Promise<number | null>((resolveExit, reject) => {
      const child = spawn(opts.nodeBinary, [runner, opts.funcDir, planFile, resultFile], {
        cwd: opts.funcDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs ?? 30_000);
      child.stdout.on('data', (c: Buffer) => {
        if (stdout.length < 20_000) stdout += c.toString('utf8');
      });
      child.stderr.on('data', (c: Buffer) => {
        if (stderr.length < 20_000) stderr += c.toString('utf8');
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolveExit(code);
      });
    });
    const processMs = performance.now() - started;
    const result = existsSync(resultFile)
      ? (JSON.parse(readFileSync(resultFile, 'utf8')) as Omit<
          RunnerOutput,
          'processMs' | 'exitCode' | 'stderr' | 'stdout' | 'timedOut'
        >)
      : { exports: [], calls: [] };
    return { ...result, processMs, exitCode, stderr, stdout, timedOut };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `/<route>` (`api/orders/index` → `/api/orders`) with `[param]` segments filled in, plus the query Vercel's routing adds for them. */
export function defaultPathFor(route: string): string {
  const params: string[] = [];
  const path = `/${route}`
    .replace(/\/index$/, '')
    .split('/')
    .map((segment) => {
      const match = /^\[(?:\.\.\.)?([^\]]+)\]$/.exec(segment);
      if (!match) return segment;
      params.push(match[1] ?? 'param');
      return 'smoke';
    })
    .join('/');
  return params.length === 0 ? path : `${path}?${params.map((p) => `${encodeURIComponent(p)}=smoke`).join('&')}`;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (ch === '*') re += '[^/]*';
    else re += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The table entry for a route: exact key, else the longest matching glob. */
export function findExpectation(table: ExpectationTable, route: string): { key: string; entry: RouteExpectation } | undefined {
  if (Object.hasOwn(table, route)) return { key: route, entry: table[route] as RouteExpectation };
  const globs = Object.keys(table)
    .filter((key) => key.includes('*') && globToRegExp(key).test(route))
    .sort((a, b) => b.length - a.length);
  const key = globs[0];
  return key === undefined ? undefined : { key, entry: table[key] as RouteExpectation };
}

function normalise(value: number | MethodExpectation): MethodExpectation {
  return typeof value === 'number' ? { status: value } : value;
}

/** The call the child makes for a request spec (a non-string body is sent as JSON). */
function plannedCall(method: HttpMethod, spec: RequestSpec, defaultPath: string): PlannedCall {
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  let body: string | undefined;
  if (spec.body !== undefined) {
    if (typeof spec.body === 'string') body = spec.body;
    else {
      body = JSON.stringify(spec.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
  }
  const url = spec.url ?? new URL(spec.path ?? defaultPath, DEFAULT_ORIGIN).toString();
  return { method, url, headers, ...(body === undefined ? {} : { body }) };
}

function bodyMatches(body: string, expected: string | RegExp): boolean {
  // search(), not test(): a /g or /y RegExp keeps no lastIndex state between calls.
  return typeof expected === 'string' ? body.includes(expected) : body.search(expected) !== -1;
}

export interface CallResult {
  method: string;
  /** How problems name the call: the method, plus `(also: <note>)` for an extra call. */
  label: string;
  /** An `also` call (made after the one-per-method calls). */
  extra?: boolean;
  note?: string;
  expected: number[];
  /** The expected body text (a RegExp as `/source/flags`). */
  bodyIncludes?: string;
  status?: number;
  ok: boolean;
  ms?: number;
  error?: string;
  body?: string;
}

export interface FunctionResult {
  route: string;
  ok: boolean;
  problems: string[];
  exports: string[];
  importMs?: number;
  calls: CallResult[];
  /** With a `wsProxy` option: WebSocket tunnels the function's process opened through it. */
  tunnels?: number;
  /** What the function printed (its log lines), capped; shown with failures. */
  logs?: string;
}

export interface SmokeOptions {
  /** `.vercel/output` (default `<root>/.vercel/output`). */
  outputDir?: string;
  /** Repo root, for `filePathMap` entries (default this repo). */
  root?: string;
  /** public/ to check static output against (default `<root>/public`); `false` skips the static check. */
  publicDir?: string | false;
  expectations?: ExpectationTable;
  /** Base env of every function process over SMOKE_ENV (default process.env). Its DATABASE_DRIVER is the one reported. */
  env?: Record<string, string | undefined>;
  /** The database the request builders query, with pg (default: `env.DATABASE_URL`). */
  databaseUrl?: string;
  /**
   * The WebSocket proxy the functions' vercel-postgres driver goes through: a function whose process opens no
   * tunnel through it fails (it did not run on that driver, or never reached the database).
   */
  wsProxy?: { readonly tunnelsOpened: number };
  /** Node binary for the function processes (default: cached Node 22 from build-vercel, else this node). */
  nodeBinary?: string;
  /** Per function process (default 30 s). */
  timeoutMs?: number;
  /** Only these routes. */
  only?: string[];
  /** The local PayPal sandbox the functions are pointed at (request builders use it to sign PayPal webhooks). */
  paypalSandbox?: PayPalSandbox;
  log?: (line: string) => void;
}

export interface SmokeResult {
  ok: boolean;
  functions: FunctionResult[];
  static?: StaticCheckResult;
  /** Every problem, one line each, prefixed with the function's route. */
  problems: string[];
  summary: string;
}

/** Node 22 from build-vercel's cache when installed; otherwise the current node. */
export async function defaultNodeBinary(): Promise<string> {
  try {
    const { ensureNode22 } = await import('./build-vercel.js');
    return ensureNode22({ install: false });
  } catch {
    return process.execPath;
  }
}

export async function smokeOutput(opts: SmokeOptions = {}): Promise<SmokeResult> {
  const root = resolve(opts.root ?? REPO_ROOT);
  const outputDir = resolve(opts.outputDir ?? join(root, '.vercel', 'output'));
  const table = opts.expectations ?? EXPECTATIONS;
  const baseEnv = opts.env ?? { ...process.env };
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const nodeBinary = opts.nodeBinary ?? (await defaultNodeBinary());
  const databaseUrl = opts.databaseUrl ?? baseEnv.DATABASE_URL;
  const driver = { ...SMOKE_ENV, ...baseEnv }.DATABASE_DRIVER || 'pg';
  const problems: string[] = [];
  const results: FunctionResult[] = [];

  let client: pg.Client | undefined;
  const query = async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> => {
    if (!databaseUrl) throw new Error('DATABASE_URL is not set');
    if (!client) {
      client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
    }
    return (await client.query<R>(sql, params)).rows;
  };

  if (!existsSync(join(outputDir, 'functions')))
    problems.push(`no functions folder in ${outputDir} (run npm run build:vercel first)`);
  let functions = listFunctions(outputDir);
  if (opts.only && opts.only.length > 0) functions = functions.filter((fn) => opts.only?.includes(fn.route));
  const tempParent = mkdtempSync(join(tmpdir(), 'vercel-smoke-'));

  try {
    for (const fn of functions) {
      const result: FunctionResult = { route: fn.route, ok: false, problems: [], exports: [], calls: [] };
      results.push(result);
      const fail = (message: string) => result.problems.push(message);
      const handler = fn.config.handler;
      if (!handler) {
        fail('no handler in .vc-config.json');
        continue;
      }
      const found = findExpectation(table, fn.route);
      const env = { ...SMOKE_ENV, ...baseEnv };

      // Requests for every method the table covers; the child calls only those the module exports.
      // Then the `also` calls, once each, in table order.
      interface Plan {
        method: HttpMethod;
        label: string;
        expected: number[];
        bodyIncludes?: string | RegExp;
        /** An `also` call. */
        extra?: boolean;
        note?: string;
      }
      const planned: Plan[] = [];
      const calls: PlannedCall[] = [];
      const builderErrors = new Map<HttpMethod, string>();
      const extraProblems: string[] = [];
      let extraEnv: Record<string, string> = {};
      const defaultPath = defaultPathFor(fn.route);
      const build = async (method: HttpMethod, request: RequestBuilder | undefined): Promise<RequestSpec> =>
        typeof request === 'function'
          ? await request({ route: fn.route, method, defaultPath, databaseUrl, env, query, paypalSandbox: opts.paypalSandbox })
          : (request ?? {});
      const statuses = (status: number | number[]) => (Array.isArray(status) ? status : [status]);
      for (const method of HTTP_METHODS) {
        const raw = found?.entry[method] ?? found?.entry['*'];
        if (raw === undefined) continue;
        const expectation = normalise(raw);
        let spec: RequestSpec;
        try {
          spec = await build(method, expectation.request);
        } catch (error) {
          builderErrors.set(method, error instanceof Error ? error.message : String(error));
          continue;
        }
        calls.push(plannedCall(method, spec, defaultPath));
        planned.push({
          method,
          label: method,
          expected: statuses(expectation.status),
          ...(expectation.bodyIncludes === undefined ? {} : { bodyIncludes: expectation.bodyIncludes }),
        });
        extraEnv = { ...extraEnv, ...(expectation.env ?? {}) };
      }
      for (const key of [...HTTP_METHODS, '*'] as const) {
        const raw = found?.entry[key];
        if (raw === undefined || typeof raw === 'number') continue;
        for (const [index, extra] of (raw.also ?? []).entries()) {
          const method = extra.method ?? (key === '*' ? undefined : key);
          const label = `${method ?? key} (also: ${extra.note ?? `#${index + 1}`})`;
          if (!method) {
            extraProblems.push(`${label}: an \`also\` call under * needs a method`);
            continue;
          }
          let spec: RequestSpec;
          try {
            spec = await build(method, extra.request);
          } catch (error) {
            extraProblems.push(`${label}: request builder failed: ${error instanceof Error ? error.message : String(error)}`);
            continue;
          }
          calls.push(plannedCall(method, spec, defaultPath));
          planned.push({
            method,
            label,
            expected: statuses(extra.status),
            ...(extra.bodyIncludes === undefined ? {} : { bodyIncludes: extra.bodyIncludes }),
            extra: true,
            ...(extra.note === undefined ? {} : { note: extra.note }),
          });
        }
      }

      // One fresh process on a lone copy of the folder: import (a failure here names the function), then the calls.
      const copy = copyFunction(fn, root, tempParent);
      const tunnelsBefore = opts.wsProxy?.tunnelsOpened ?? 0;
      const run = await runFunctionProcess({
        funcDir: copy,
        handler,
        calls,
        nodeBinary,
        env: { ...env, ...extraEnv },
        timeoutMs: opts.timeoutMs,
      });
      rmSync(dirname(copy), { recursive: true, force: true });
      if (opts.wsProxy) result.tunnels = opts.wsProxy.tunnelsOpened - tunnelsBefore;
      const logs = `${run.stdout}${run.stderr}`.trim();
      if (logs) result.logs = logs.slice(-4_000);
      if (run.importError || (run.importMs === undefined && (run.timedOut || run.exitCode !== 0))) {
        const why = run.importError
          ? `${run.importError.code ? `${run.importError.code}: ` : ''}${run.importError.message.split('\n')[0]}`
          : run.timedOut
            ? 'import timed out'
            : `process exited ${run.exitCode}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
        fail(`failed to import ${handler}: ${why}`);
        continue;
      }
      result.exports = run.exports;
      if (run.importMs !== undefined) result.importMs = run.importMs;
      const exported = run.exports.filter((name): name is HttpMethod => (HTTP_METHODS as readonly string[]).includes(name));
      if (exported.length === 0) fail(`exports no HTTP method (exports: ${run.exports.join(', ') || 'nothing'})`);
      if (!found) {
        fail(`no expectation for ${fn.route} (exports ${exported.join(', ') || 'nothing'})`);
        continue;
      }
      for (const method of Object.keys(found.entry)) {
        if (method !== '*' && !exported.includes(method as HttpMethod) && !found.key.includes('*')) {
          fail(`expects ${method} but ${fn.route} does not export it`);
        }
      }
      for (const method of exported) {
        if (found.entry[method] === undefined && found.entry['*'] === undefined) fail(`no expectation for ${fn.route} ${method}`);
        const builderError = builderErrors.get(method);
        if (builderError) fail(`${method}: request builder failed: ${builderError}`);
      }
      for (const problem of extraProblems) fail(problem);
      if (run.timedOut) fail(`timed out after ${opts.timeoutMs ?? 30_000} ms`);
      planned.forEach((plan, index) => {
        if (!exported.includes(plan.method)) {
          if (plan.extra) fail(`${plan.label}: ${fn.route} does not export ${plan.method}`);
          return;
        }
        const got = run.calls[index];
        const call: CallResult = { method: plan.method, label: plan.label, expected: plan.expected, ok: false };
        if (plan.extra) call.extra = true;
        if (plan.note !== undefined) call.note = plan.note;
        if (plan.bodyIncludes !== undefined) call.bodyIncludes = String(plan.bodyIncludes);
        if (!got) call.error = run.timedOut ? 'timed out' : `no answer (process exit ${run.exitCode})`;
        else {
          if (got.status !== undefined) call.status = got.status;
          if (got.ms !== undefined) call.ms = got.ms;
          if (got.error) call.error = got.error.split('\n')[0];
          if (got.body) call.body = got.body;
        }
        const statusOk = call.status !== undefined && plan.expected.includes(call.status);
        const bodyOk = plan.bodyIncludes === undefined || bodyMatches(call.body ?? '', plan.bodyIncludes);
        call.ok = statusOk && bodyOk;
        result.calls.push(call);
        if (!statusOk) {
          const detail = call.error
            ? `threw ${call.error}`
            : `got ${call.status}${call.body ? ` ${call.body.slice(0, 160)}` : ''}`;
          fail(`${plan.label}: expected ${plan.expected.join(' or ')}, ${detail}`);
        } else if (!bodyOk) {
          const shown = JSON.stringify(call.bodyIncludes);
          fail(
            `${plan.label}: expected a body with ${shown}, got ${call.status} ${(call.body ?? '').slice(0, 240) || '(empty body)'}`,
          );
        }
      });
      if (result.tunnels === 0) {
        fail(`no connection through the WebSocket proxy: not on the ${driver} driver, or never reached the database`);
      }
      result.ok = result.problems.length === 0;
      if (!result.ok && result.logs) {
        const tail = result.logs
          .split('\n')
          .filter((line) => /error|warn|fail/i.test(line))
          .slice(-2);
        for (const line of tail) result.problems.push(`log: ${line.slice(0, 300)}`);
      }
    }
  } finally {
    rmSync(tempParent, { recursive: true, force: true });
    if (client) await (client as pg.Client).end().catch(() => undefined);
  }

  let staticResult: StaticCheckResult | undefined;
  if (opts.publicDir !== false) {
    staticResult = checkStaticOutput(outputDir, opts.publicDir ?? join(root, 'public'));
    problems.push(...staticResult.problems.map((p) => `static: ${p}`));
  }
  for (const r of results) problems.push(...r.problems.map((p) => `${r.route}: ${p}`));
  if (results.length === 0 && problems.length === 0) problems.push(`no .func folders under ${join(outputDir, 'functions')}`);

  for (const r of results) {
    const calls = r.calls.map((c) => `${c.extra ? '+' : ''}${c.method} ${c.status ?? 'ERR'}${c.ok ? '' : '!'}`).join(', ');
    const tunnels = r.tunnels === undefined ? '' : `, ${r.tunnels} ws tunnel${r.tunnels === 1 ? '' : 's'}`;
    log(
      `${r.ok ? 'ok  ' : 'FAIL'} ${r.route}${r.importMs !== undefined ? ` (import ${Math.round(r.importMs)} ms${tunnels})` : ''}${calls ? `: ${calls}` : ''}`,
    );
  }
  const failed = results.filter((r) => !r.ok).length;
  const ok = problems.length === 0;
  const summary = ok
    ? `vercel smoke: all ${results.length} functions answered as expected on the ${driver} driver; static output = public/`
    : `vercel smoke: FAILED (${failed} of ${results.length} functions failing${staticResult && !staticResult.ok ? ', static output wrong' : ''}) on the ${driver} driver`;
  return { ok, functions: results, ...(staticResult ? { static: staticResult } : {}), problems, summary };
}

// ---------------------------------------------------------------------------------------------------
// CLI

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * The host pg connects to for a connection string (as pg-connection-string reads it): a string starting with
 * `/` or a `socket:` URL is a unix socket path; `?host=` wins over the URL's host; no host at all falls back
 * to PGHOST, then localhost. Brackets of an IPv6 address removed. undefined when it does not parse.
 */
export function databaseHost(databaseUrl: string, env: Record<string, string | undefined> = process.env): string | undefined {
  if (databaseUrl.startsWith('/')) return databaseUrl.split(' ')[0];
  let url: URL;
  try {
    url = new URL(databaseUrl.replace('@/', '@___nohost___/'));
  } catch {
    return undefined;
  }
  if (url.protocol === 'socket:') return decodeURI(url.pathname);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return undefined;
  const hostname = url.hostname === '___nohost___' ? '' : url.hostname.replace(/^\[(.+)\]$/, '$1');
  let host: string;
  try {
    host = url.searchParams.get('host') || decodeURIComponent(hostname);
  } catch {
    return undefined;
  }
  return host || env.PGHOST || 'localhost';
}

/** localhost, the IPv4 loopback range 127.0.0.0/8, ::1, or a unix socket path. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return (
    h.startsWith('/') || h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

/**
 * Whether the CLI may run against DATABASE_URL. Without --fresh-db the smoke writes real rows into that very
 * database (and without --no-seed upserts the demo event), so it only goes ahead on a local one: CI's
 * throw-away database is on 127.0.0.1. Against anything else (a shared or staging server) it refuses; with
 * --fresh-db it only creates and drops a database of its own there. Returns the one-line refusal (exit 2),
 * or undefined when the run may go ahead.
 */
export function databaseTargetRefusal(
  databaseUrl: string,
  opts: { freshDb: boolean; env?: Record<string, string | undefined> },
): string | undefined {
  if (opts.freshDb) return undefined;
  const host = databaseHost(databaseUrl, opts.env);
  if (host !== undefined && isLoopbackHost(host)) return undefined;
  return (
    `vercel smoke: refusing to write to ${host === undefined ? 'a database whose host DATABASE_URL does not tell' : `the database on ${host}`}, ` +
    'not a local one: the smoke creates orders with Stripe and PayPal, signed webhook events and an API key with every ' +
    'scope (valid 30 min), and runs both crons (which re-dispatch failed webhook events); ' +
    'use --fresh-db (a throw-away database on that server, dropped after) or a local database (localhost, 127.0.0.1, ::1 or a unix socket)'
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only: string[] = [];
  args.forEach((arg, i) => {
    if (arg === '--only' && args[i + 1]) only.push(args[i + 1] as string);
  });
  const root = resolve(value('--root') ?? REPO_ROOT);
  const driver = driverOption(args);
  const env: Record<string, string | undefined> = { ...process.env };
  /** Run in reverse order when done: drop the fresh database, close the sandboxes and the proxy. */
  const cleanups: Array<() => Promise<void>> = [];

  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set: the functions run against a real migrated database');
  const refusal = databaseTargetRefusal(env.DATABASE_URL, { freshDb: args.includes('--fresh-db'), env });
  if (refusal) {
    process.stderr.write(`${refusal}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.includes('--fresh-db')) {
    const adminUrl = env.DATABASE_URL;
    const name = `bf_smoke_${Date.now().toString(36)}_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    env.DATABASE_URL = withDatabase(adminUrl, name);
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    });
  }
  try {
    if (args.includes('--fresh-db') || args.includes('--migrate')) {
      const { migrateUp } = await import('../lib/db/migrate.js');
      await migrateUp({ databaseUrl: env.DATABASE_URL as string });
    }
    if (!args.includes('--no-seed')) {
      // lib/ reads DATABASE_URL from process.env: point it at the fresh database for the seed only.
      const { seedDemoData } = await import('./lib/seed.js');
      const { resetConfigForTests } = await import('../lib/config.js');
      const { closePool, db } = await import('../lib/db/client.js');
      process.env.DATABASE_URL = env.DATABASE_URL;
      process.env.DATABASE_DRIVER = 'pg';
      resetConfigForTests();
      try {
        await seedDemoData(db);
      } finally {
        await closePool();
      }
    }
    // Never let a function reach Stripe itself: without a given STRIPE_API_BASE the local sandbox stands in.
    if (!env.STRIPE_API_BASE && !args.includes('--no-stripe-sandbox')) {
      const { startStripeSandbox } = await import('../sandbox/stripe-sandbox.js');
      const sandbox = await startStripeSandbox({ webhookSecret: SMOKE_ENV.STRIPE_WEBHOOK_SECRET });
      cleanups.push(() => sandbox.close());
      env.STRIPE_API_BASE = sandbox.url;
      env.STRIPE_SECRET_KEY ??= 'sk_test_smoke';
    }
    // Same for PayPal. The sandbox signs webhook events with the webhook id the functions verify with.
    let paypalSandbox: PayPalSandbox | undefined;
    if (!env.PAYPAL_API_BASE && !args.includes('--no-paypal-sandbox')) {
      const { startPayPalSandbox } = await import('../sandbox/paypal-sandbox.js');
      env.PAYPAL_CLIENT_ID ??= 'smoke-paypal-client';
      env.PAYPAL_CLIENT_SECRET ??= 'smoke-paypal-secret';
      env.PAYPAL_ENVIRONMENT ??= 'sandbox';
      const sandbox = await startPayPalSandbox({
        webhookId: env.PAYPAL_WEBHOOK_ID ?? SMOKE_ENV.PAYPAL_WEBHOOK_ID,
        clientId: env.PAYPAL_CLIENT_ID,
        clientSecret: env.PAYPAL_CLIENT_SECRET,
      });
      cleanups.push(() => sandbox.close());
      env.PAYPAL_API_BASE = sandbox.url;
      paypalSandbox = sandbox;
    }
    // The functions' database driver. vercel-postgres only speaks WebSocket: without a given
    // VERCEL_POSTGRES_WS_PROXY the local proxy tunnels it to DATABASE_URL's server, and counts the tunnels.
    let wsProxy: { readonly tunnelsOpened: number } | undefined;
    if (driver === 'vercel-postgres' && !env.VERCEL_POSTGRES_WS_PROXY) {
      const { startWsProxy } = await import('../test/support/ws-proxy.js');
      const proxy = await startWsProxy();
      cleanups.push(() => proxy.close());
      env.VERCEL_POSTGRES_WS_PROXY = proxy.wsProxy;
      wsProxy = proxy;
    }
    const databaseUrl = env.DATABASE_URL as string;
    const nodeFlag = value('--node');
    const output = value('--output');
    const result = await smokeOutput({
      root,
      env: driverEnv(env, driver, databaseUrl, env.VERCEL_POSTGRES_WS_PROXY),
      databaseUrl,
      ...(wsProxy ? { wsProxy } : {}),
      ...(output ? { outputDir: output } : {}),
      ...(nodeFlag ? { nodeBinary: nodeFlag } : {}),
      ...(only.length > 0 ? { only } : {}),
      ...(paypalSandbox ? { paypalSandbox } : {}),
    });
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    for (const p of result.problems) process.stderr.write(`  - ${p}\n`);
    process.stderr.write(`${result.summary}\n`);
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`vercel smoke: FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

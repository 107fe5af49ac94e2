/**
 * `npx tsx scripts/smoke-vercel-output.ts` — runs every function of `.vercel/output` the way Vercel would:
 * each `functions/**\/*.func` folder is copied alone to a fresh temp dir (so a file the tracer left out is
 * really missing), a fresh Node 22 process (Vercel's runtime, see build-vercel.ts) chdirs there, imports the
 * handler named in `.vc-config.json`, calls each exported HTTP method with a `Request` and reports the
 * status. Statuses are compared with EXPECTATIONS (scripts/smoke/expectations.ts) (route → method → status, optional request
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
 *
 * Where things are (scripts/smoke/): types.ts (request specs, the table's shape), expectations.ts (THE table and
 * SMOKE_ENV), requests.ts (request builders: checkout, signed webhooks, the API key made by lib/auth in api-key.ts),
 * plan.ts (table → calls), runner.ts (one function, one fresh Node process), run-smoke.ts (smokeOutput: the run and
 * its verdict), drivers.ts (--driver), database-target.ts (which database it may write to). Shared with the build
 * and the bench: scripts/lib/vercel-output.ts (reading .vercel/output) and scripts/lib/vercel-toolchain.ts (CLI, Node 22).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { PayPalSandbox } from '../sandbox/paypal-sandbox.js';
import { REPO_ROOT } from './lib/vercel-toolchain.js';
import { databaseTargetRefusal, withDatabase } from './smoke/database-target.js';
import { driverEnv, driverOption } from './smoke/drivers.js';
import { SMOKE_ENV } from './smoke/expectations.js';
import { smokeOutput } from './smoke/run-smoke.js';

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

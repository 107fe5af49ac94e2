import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { resetConfigForTests } from '../lib/config.js';
import { closePool, db } from '../lib/db/client.js';
import { flushRequestMetrics } from '../lib/ops/request-metrics.js';
import { migrateUp } from '../lib/db/migrate.js';
import { BACKOFFICE_KEY_EXAMPLE, removeDevDatabase, writeDevDatabase } from './lib/dev-database.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './lib/embedded-postgres.js';
import { assertPortFree, claimPort, describeError, type PortClaim, portFromEnv } from './lib/ports.js';
import { seedDemoData } from './lib/seed.js';
import { buildPages } from './build-pages.js';
import { startLocalServer } from './local-server.js';
import { type MailCatcher, startMailCatcher } from './mail-catcher.js';

/**
 * `npm run dev`: everything a developer needs on a fresh clone, with no env at all.
 * - No DATABASE_URL: a real embedded PostgreSQL (data in .data/postgres, git-ignored, kept between runs).
 * - Migrates and seeds the demo festival.
 * - No STRIPE_SECRET_KEY / PAYPAL_CLIENT_ID: starts the local provider sandboxes and points the app at them.
 * - No SMTP_URL: starts a local mail catcher (SMTP on 127.0.0.1:1025, MAIL_CATCHER_PORT to change) and
 *   shows what it caught at http://localhost:3000/dev/mail.
 * - Serves api/ and public/ on http://localhost:3000 (PORT to change). Ctrl-C stops everything cleanly.
 * - Writes its database URL to .data/dev-database.json while it runs: the CLIs (keys, seed, migrate) use it when
 *   DATABASE_URL is unset, and it prints the line to use from anywhere else.
 * - Ports: PORT (3000), EMBEDDED_PG_PORT (54329), SANDBOX_STRIPE_PORT (12111), SANDBOX_PAYPAL_PORT (12112),
 *   MAIL_CATCHER_PORT (1025, when SMTP_URL is unset). A busy one stops it before anything starts, naming the port, what wanted it and the variable that moves it.
 */

const root = resolve(import.meta.dirname, '..');
const envFile = join(root, '.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

const ports = {
  app: { port: portFromEnv('PORT', 3000), what: 'app server (api/ and public/)', variable: 'PORT' },
  postgres: { port: portFromEnv('EMBEDDED_PG_PORT', 54329), what: 'embedded PostgreSQL', variable: 'EMBEDDED_PG_PORT' },
  stripe: { port: portFromEnv('SANDBOX_STRIPE_PORT', 12111), what: 'Stripe sandbox', variable: 'SANDBOX_STRIPE_PORT' },
  paypal: { port: portFromEnv('SANDBOX_PAYPAL_PORT', 12112), what: 'PayPal sandbox', variable: 'SANDBOX_PAYPAL_PORT' },
  mail: { port: portFromEnv('MAIL_CATCHER_PORT', 1025), what: 'mail catcher (SMTP)', variable: 'MAIL_CATCHER_PORT' },
} satisfies Record<string, PortClaim>;
const port = ports.app.port;
const appUrl = `http://localhost:${port}`;
const started = performance.now();
const say = (line: string) => process.stdout.write(`[dev] ${line}\n`);
const cleanups: (() => Promise<void>)[] = [];

async function ensureDatabase(): Promise<void> {
  if (process.env.DATABASE_URL || process.env.POSTGRES_URL) {
    say('using DATABASE_URL');
    return;
  }
  const embedded: EmbeddedDatabase = await claimPort(ports.postgres, () =>
    startEmbeddedPostgres({ dataDir: join(root, '.data', 'postgres'), port: ports.postgres.port, persistent: true }),
  );
  cleanups.push(() => embedded.stop());
  const admin = new pg.Client({ connectionString: embedded.adminUrl });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', ['boulderfest']);
  if (exists.rowCount === 0) await admin.query('CREATE DATABASE boulderfest');
  await admin.end();
  process.env.DATABASE_URL = embedded.adminUrl.replace(/\/postgres$/, '/boulderfest');
  say(`embedded PostgreSQL 17 on 127.0.0.1:${embedded.port} (data in .data/postgres)`);
}

async function ensureProviders(): Promise<void> {
  process.env.ALLOWED_ORIGINS ??= `${appUrl},http://127.0.0.1:${port}`;
  process.env.PUBLIC_SITE_URL ??= appUrl;
  process.env.CRON_SECRET ??= 'dev-cron-secret';
  const needStripe = !process.env.STRIPE_SECRET_KEY;
  const needPayPal = !process.env.PAYPAL_CLIENT_ID;
  if (!needStripe && !needPayPal) return;
  const { startSandboxes } = await import('../sandbox/index.js');
  const stripeWebhookSecret = process.env.STRIPE_WEBHOOK_SECRET?.split(',')[0] ?? 'whsec_local_sandbox_secret';
  const paypalWebhookId = process.env.PAYPAL_WEBHOOK_ID ?? 'WH-LOCAL-SANDBOX';
  // Both sandboxes start together: the busy one is told apart by a probe.
  const sandboxes = await startSandboxes({
    appUrl,
    stripeWebhookSecret,
    paypalWebhookId,
    stripePort: ports.stripe.port,
    paypalPort: ports.paypal.port,
  }).catch(async (error: unknown) => {
    if ((error as NodeJS.ErrnoException | null)?.code !== 'EADDRINUSE') throw error;
    await assertPortFree(ports.stripe);
    await assertPortFree(ports.paypal);
    throw error;
  });
  cleanups.push(() => sandboxes.close());
  if (needStripe) {
    process.env.STRIPE_SECRET_KEY = 'sk_test_local_sandbox';
    process.env.STRIPE_WEBHOOK_SECRET = stripeWebhookSecret;
    process.env.STRIPE_API_BASE = sandboxes.stripe.url;
    say(`Stripe sandbox on ${sandboxes.stripe.url} (card 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined)`);
  }
  if (needPayPal) {
    process.env.PAYPAL_CLIENT_ID = 'local-sandbox-client';
    process.env.PAYPAL_CLIENT_SECRET = 'local-sandbox-secret';
    process.env.PAYPAL_WEBHOOK_ID = paypalWebhookId;
    process.env.PAYPAL_API_BASE = sandboxes.paypal.url;
    say(`PayPal sandbox on ${sandboxes.paypal.url}`);
  }
}

/** The buyer emails go to a local catcher unless SMTP_URL points somewhere (e.g. a Mailtrap inbox). */
async function ensureMail(): Promise<MailCatcher | undefined> {
  if (process.env.SMTP_URL) {
    say('email through SMTP_URL');
    return undefined;
  }
  const catcher = await claimPort(ports.mail, () => startMailCatcher({ port: ports.mail.port }));
  cleanups.push(() => catcher.close());
  process.env.SMTP_URL = catcher.url;
  say(`mail catcher on ${catcher.url}: buyer emails at ${appUrl}/dev/mail`);
  return catcher;
}

/** The ports this run will bind (the embedded PostgreSQL's and the sandboxes' only when they are started). */
function portsToBind(): PortClaim[] {
  const claims: PortClaim[] = [ports.app];
  if (!process.env.DATABASE_URL && !process.env.POSTGRES_URL) claims.push(ports.postgres);
  if (!process.env.STRIPE_SECRET_KEY || !process.env.PAYPAL_CLIENT_ID) claims.push(ports.stripe, ports.paypal);
  if (!process.env.SMTP_URL) claims.push(ports.mail);
  return claims;
}

/** Where the CLIs find this database, and the exact lines to use it from elsewhere. */
function announceDatabase(databaseUrl: string): void {
  writeDevDatabase(databaseUrl);
  cleanups.push(async () => removeDevDatabase());
  say(`database: DATABASE_URL=${databaseUrl}`);
  say('  npm run keys:create / db:seed / db:migrate:status use it by themselves while dev runs; elsewhere prefix that line');
  say(`  a back-office key for everything the README shows: ${BACKOFFICE_KEY_EXAMPLE}`);
}

async function shutdown(signal: string): Promise<void> {
  say(`${signal}: stopping`);
  // The request outcome counts the local server has not written yet (lib/ops/request-metrics.ts).
  await flushRequestMetrics().catch(() => undefined);
  await closePool().catch(() => undefined);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(0);
}

try {
  for (const claim of portsToBind()) await assertPortFree(claim, process.env.HOST ?? '127.0.0.1');
  await ensureDatabase();
  await ensureProviders();
  const mailCatcher = await ensureMail();
  resetConfigForTests();
  const databaseUrl = process.env.DATABASE_URL ?? process.env.POSTGRES_URL ?? '';
  const applied = await migrateUp({ databaseUrl: process.env.POSTGRES_URL_NON_POOLING ?? databaseUrl });
  say(applied.length === 0 ? 'migrations up to date' : `applied ${applied.length} migrations`);
  announceDatabase(databaseUrl);
  const { event, ticketTypes } = await seedDemoData(db);
  say(`seeded ${event.name}: ${ticketTypes.map((t) => t.code).join(', ')}`);
  await buildPages();
  say('built the buyer pages (public/assets/*.js from web/)');
  const server = await claimPort(ports.app, () =>
    startLocalServer({ port, host: process.env.HOST ?? '127.0.0.1', ...(mailCatcher ? { mailCatcher } : {}) }),
  );
  cleanups.unshift(() => server.close());
  say(`ready on ${appUrl} in ${((performance.now() - started) / 1000).toFixed(1)} s — try ${appUrl}/api/health`);
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
} catch (error) {
  process.stderr.write(`[dev] failed to start: ${describeError(error)}\n`);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(1);
}
